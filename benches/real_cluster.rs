//! A live check on a real cluster: `KUBELAB_BENCH_KUBECONFIG=... cargo bench --bench real_cluster`
//! (the shared/k8s kit, kind, minikube). It runs a finished 20-pod Job (the image-processor
//! exercise's name and shape, 4 at a time, quick work) in a namespace of its own, then measures
//! judging it: API calls and wall time of connect + gather + judge in process (median of 10),
//! and of the whole `kubelab check` process (median of 5). Without the variable it says so.

use std::process::Command;
use std::time::{Duration, Instant};

use kubelab::cluster::{CallCount, Target, connect, gather};
use kubelab::course::Course;

const JOB: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: image-processor
  labels: {type: parallel-batch, purpose: learning}
spec:
  completions: 20
  parallelism: 4
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: worker
        image: busybox:1.35
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "for i in 1 2 3; do echo \"worker=$(hostname) step $i\"; done"]
"#;

fn kubectl(kc: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl on PATH");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kubectl {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let Some(kc) = std::env::var("KUBELAB_BENCH_KUBECONFIG")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("skipped: set KUBELAB_BENCH_KUBECONFIG to a disposable cluster's kubeconfig");
        return;
    };
    let ns = format!("kl-bench-{}", std::process::id());
    kubectl(&kc, &["create", "namespace", &ns], None);
    kubectl(&kc, &["apply", "-n", &ns, "-f", "-"], Some(JOB));
    kubectl(
        &kc,
        &[
            "wait",
            "-n",
            &ns,
            "--for=condition=Complete",
            "job/image-processor",
            "--timeout=300s",
        ],
        None,
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let course = Course::load_for(root, "image-processor").unwrap();
    let exercise = course.exercise("image-processor").unwrap();
    let target = Target {
        kubeconfig: Some(kc.clone().into()),
        context: None,
        namespace: Some(ns.clone()),
        request_timeout: Some(Duration::from_secs(30)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut times = Vec::new();
    let mut calls = 0;
    let mut pods = 0;
    for _ in 0..10 {
        let start = Instant::now();
        let (report, n, p) = runtime.block_on(async {
            let (client, namespace) = connect(&target).await.unwrap();
            let count = CallCount::default();
            let snapshot = gather(&client, &namespace, &exercise.plan, &count)
                .await
                .unwrap();
            let pods = snapshot.pods.len();
            (
                kubelab::live::judge(exercise, &snapshot, "bench".into()),
                count.get(),
                pods,
            )
        });
        times.push(start.elapsed());
        assert!(!report.assertions.is_empty());
        calls = n;
        pods = p;
    }
    let exe = env!("CARGO_BIN_EXE_kubelab");
    let mut process = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let out = Command::new(exe)
            .args(["check", "image-processor", "--kubeconfig", &kc, "-n", &ns])
            .env(
                "KUBELAB_STATE",
                std::env::temp_dir().join("kubelab-bench-state.json"),
            )
            .output()
            .unwrap();
        process.push(start.elapsed());
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    kubectl(&kc, &["delete", "namespace", &ns, "--wait=false"], None);
    println!("real cluster, finished Job of {pods} pods:");
    println!("  API calls per check: {calls}");
    println!(
        "  connect + gather + judge, in process: median {:.0} ms of 10",
        median(times).as_secs_f64() * 1000.0
    );
    println!(
        "  whole `kubelab check` process: median {:.0} ms of 5",
        median(process).as_secs_f64() * 1000.0
    );
}
