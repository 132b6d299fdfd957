//! Live check cost as the number of pods grows: `cargo bench --bench live_check`.
//!
//! A local server answers with the 1.24 image-processor recording scaled synthetically: its Job
//! with N pods (copies of a recorded pod, each owned by the Job) and the recorded log for each.
//! For each N this reports the API calls, the wall time of gather + judge, the log bytes kept and
//! the process's peak resident memory (VmHWM; it only grows, so sizes run smallest first).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use kubelab::cluster::{CallCount, gather};
use kubelab::course::Course;

struct Data {
    jobs: Vec<u8>,
    pods: Vec<u8>,
    events: Vec<u8>,
    log: Vec<u8>,
    version: Vec<u8>,
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/k8s-1.24/").to_owned() + rel)
        .unwrap()
}

fn scaled(n: usize) -> Data {
    let run = "u3-image-processor";
    let mut jobs: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{run}/api/jobs.JobList.json"))).unwrap();
    jobs["items"][0]["spec"]["completions"] = n.into();
    jobs["items"][0]["status"]["succeeded"] = n.into();
    let pods: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{run}/api/pods.PodList.json"))).unwrap();
    let template = pods["items"][0].clone();
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut p = template.clone();
            p["metadata"]["name"] = format!("image-processor-{i:05}").into();
            p["metadata"]["uid"] = format!("pod-uid-{i}").into();
            p
        })
        .collect();
    let mut pods = pods.clone();
    pods["items"] = items.into();
    let log_name = template["metadata"]["name"].as_str().unwrap().to_owned();
    Data {
        jobs: serde_json::to_vec(&jobs).unwrap(),
        pods: serde_json::to_vec(&pods).unwrap(),
        events: fixture(&format!("{run}/api/events.EventList.json")),
        log: fixture(&format!("{run}/logs/{log_name}.log")),
        version: fixture("cluster/version.json"),
    }
}

async fn serve(State(d): State<Arc<Data>>, req: Request) -> Response {
    let path = req.uri().path();
    let body = if path == "/version" {
        d.version.clone()
    } else if path.ends_with("/jobs") {
        d.jobs.clone()
    } else if path.ends_with("/pods") {
        d.pods.clone()
    } else if path.ends_with("/events") {
        d.events.clone()
    } else if path.ends_with("/log") {
        // Every pod logs like the recorded one, naming itself.
        let pod = path.rsplit('/').nth(1).unwrap_or("");
        String::from_utf8_lossy(&d.log)
            .replace("image-processor-52xr2", pod)
            .into_bytes()
    } else {
        return Response::builder()
            .status(404)
            .body(Body::from("{}"))
            .unwrap();
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let course = Course::load_for(root, "image-processor").unwrap();
    let exercise = course.exercise("image-processor").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:>6} {:>7} {:>10} {:>12} {:>12}",
        "pods", "calls", "time", "log bytes", "peak RSS"
    );
    let sizes: Vec<usize> = std::env::var("KUBELAB_BENCH_PODS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000, 10_000]);
    for n in sizes {
        let data = Arc::new(scaled(n));
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new().fallback(serve).with_state(data.clone());
            let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let mut config = kube::Config::new(format!("http://{addr}").parse().unwrap());
            config.default_namespace = "u3-image-processor".into();
            let client = kube::Client::try_from(config).unwrap();
            let calls = CallCount::default();
            let start = Instant::now();
            let snapshot = gather(&client, "u3-image-processor", &exercise.plan, &calls)
                .await
                .unwrap();
            let gathered = start.elapsed();
            let report = kubelab::live::judge(exercise, &snapshot, "bench".into());
            let elapsed = start.elapsed();
            eprintln!(
                "  gather {:.1}ms, judge {:.1}ms",
                gathered.as_secs_f64() * 1000.0,
                (elapsed - gathered).as_secs_f64() * 1000.0
            );
            let log_bytes: usize = snapshot
                .logs
                .values()
                .flat_map(|c| c.values())
                .map(|l| l.text.len())
                .sum();
            assert_eq!(snapshot.logs.len(), n);
            assert!(report.assertions.len() > 5);
            println!(
                "{n:>6} {:>7} {:>8.1}ms {:>12} {:>9} KiB",
                calls.get(),
                elapsed.as_secs_f64() * 1000.0,
                log_bytes,
                peak_rss_kib()
            );
            server.abort();
        });
    }
}
