//! A class-sized load on a real cluster: `KUBELAB_BENCH_KUBECONFIG=... cargo bench --bench
//! class_load` (the shared/k8s kit, kind, minikube). Sets up, once (kept for the next run,
//! `KUBELAB_LOAD_RESET=1` starts over), 60 namespaces labelled `kubelab.dev/load-bench`, each
//! with the image-processor Job of 20 pods where every pod logs 256 KiB; made in waves, as
//! the kit's node holds 110 pods. Then measures, each in its own process (wait4): `kubelab
//! grade image-processor --namespace-selector kubelab.dev/load-bench` (the binary of this
//! build), and a plain client that only makes the same reads (the namespaces, the 3
//! cluster-wide LISTs, one log read per pod with the same limits and concurrency) and keeps
//! nothing. Wall, user and system time and peak RSS, median of 3; the grade's API calls.
//! `KUBELAB_LOAD_LEARNERS` and `KUBELAB_LOAD_PODS` change the class's size.

use std::process::Command;

#[path = "common/kubectl.rs"]
mod kubectl;
use kubectl::kubectl;
use std::time::{Duration, Instant};

const LABEL: &str = "kubelab.dev/load-bench";
const LOG_KIB: usize = 256;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The exercise's Job, its pods logging `LOG_KIB` each: the worker line the exercise judges,
/// then lines of 64 bytes.
fn job(ns: &str, pods: usize) -> String {
    let lines = LOG_KIB * 1024 / 64;
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels: {{"{LABEL}": "{ns}"}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: image-processor
  namespace: {ns}
  labels: {{type: parallel-batch, purpose: learning}}
spec:
  completions: {pods}
  parallelism: {pods}
  template:
    metadata:
      labels: {{type: parallel-batch}}
    spec:
      restartPolicy: Never
      containers:
      - name: processor
        image: busybox:1.35
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c"]
        args:
        - |
          W=$(hostname)
          echo "worker=$W event=start at=$(date +%s)"
          yes "worker=$W step ..............................................." | cut -c1-63 | head -n {lines}
          echo "worker=$W event=done at=$(date +%s)"
"#
    )
}

/// Namespaces whose Job has finished all its pods.
fn finished(kc: &str, pods: usize) -> Vec<String> {
    kubectl(
        kc,
        &[
            "get",
            "jobs",
            "-A",
            "-l",
            "type=parallel-batch",
            "-o",
            "jsonpath={range .items[*]}{.metadata.namespace} {.status.succeeded}{\"\\n\"}{end}",
        ],
        None,
    )
    .lines()
    .filter_map(|l| l.split_once(' '))
    .filter(|(ns, n)| ns.starts_with("kl-load-") && !n.is_empty())
    .map(|(ns, n)| (ns.to_owned(), n.parse::<usize>().unwrap_or(0)))
    .filter(|(_, n)| *n >= pods)
    .map(|(ns, _)| ns)
    .collect()
}

/// Makes the class, in waves of at most 100 pods at once.
fn set_up(kc: &str, learners: usize, pods: usize) {
    if std::env::var_os("KUBELAB_LOAD_RESET").is_some() {
        kubectl(
            kc,
            &["delete", "namespace", "-l", LABEL, "--wait=true"],
            None,
        );
    }
    let names: Vec<String> = (0..learners).map(|i| format!("kl-load-{i:03}")).collect();
    let wave = (100 / pods).max(1);
    let start = Instant::now();
    loop {
        let done = finished(kc, pods);
        if names.iter().all(|n| done.contains(n)) {
            break;
        }
        let existing = kubectl(kc, &["get", "namespaces", "-l", LABEL, "-o", "name"], None);
        let made: Vec<&String> = names
            .iter()
            .filter(|n| existing.contains(&format!("namespace/{n}\n")))
            .collect();
        let running = made.iter().filter(|n| !done.contains(n)).count();
        for n in names
            .iter()
            .filter(|n| !made.contains(n))
            .take(wave.saturating_sub(running))
        {
            kubectl(kc, &["apply", "-f", "-"], Some(&job(n, pods)));
        }
        eprintln!(
            "set-up: {} of {learners} namespaces finished ({}s)",
            done.len(),
            start.elapsed().as_secs()
        );
        std::thread::sleep(Duration::from_secs(5));
    }
}

/// What one process cost: wall time, CPU time in user and kernel mode, peak resident memory.
#[derive(Clone, Copy)]
struct Cost {
    wall: Duration,
    user: Duration,
    system: Duration,
    peak_rss_kib: i64,
}

/// Runs a command to its end and measures it with wait4 (its own rusage, not ours).
// wait4 reaps the child: `Child::wait` would not give its rusage.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> (Cost, String) {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let mut status = 0;
    // SAFETY: a plain rusage struct filled by the kernel for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4");
    let text = reader.join().unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= 1,
        "exit {status}: {text}"
    );
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (
        Cost {
            wall,
            user: time(usage.ru_utime),
            system: time(usage.ru_stime),
            peak_rss_kib: usage.ru_maxrss,
        },
        text,
    )
}

fn median_cost(mut runs: Vec<Cost>) -> Cost {
    runs.sort_by_key(|c| c.wall);
    let wall = runs[runs.len() / 2].wall;
    runs.sort_by_key(|c| c.user + c.system);
    let cpu = runs[runs.len() / 2];
    runs.sort_by_key(|c| c.peak_rss_kib);
    Cost {
        wall,
        user: cpu.user,
        system: cpu.system,
        peak_rss_kib: runs[runs.len() / 2].peak_rss_kib,
    }
}

/// Every page of a LIST, each object's managedFields dropped as its page arrives.
async fn all_pages<K>(api: &kube::Api<K>, lp: &kube::api::ListParams) -> Vec<K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = lp.clone();
    loop {
        let page = api.list(&params).await.unwrap();
        items.extend(page.items.into_iter().map(|mut k| {
            k.meta_mut().managed_fields = None;
            k
        }));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return items,
        }
    }
}

/// The plain client: the reads a grade needs, nothing kept.
fn plain_client(kc: &str) {
    use futures::{AsyncReadExt, StreamExt};
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
    use kube::api::{Api, ListParams, LogParams};
    // One thread, as kubelab's commands run: the floor a grade is compared with.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(kc).unwrap(),
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        // Pages of 500, as kubelab (and kubectl) list.
        let (lp, labelled) = (
            ListParams::default().limit(500),
            ListParams::default().labels(LABEL),
        );
        let (ns_api, job_api, pod_api, event_api) = (
            Api::<Namespace>::all(client.clone()),
            Api::<Job>::all(client.clone()),
            Api::<Pod>::all(client.clone()),
            Api::<Event>::all(client.clone()),
        );
        let (namespaces, _jobs, pods, _events) = tokio::join!(
            ns_api.list(&labelled),
            all_pages(&job_api, &lp),
            all_pages(&pod_api, &lp),
            all_pages(&event_api, &lp),
        );
        let class: Vec<String> = namespaces
            .unwrap()
            .items
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let reads = pods
            .iter()
            .filter(|p| class.contains(p.metadata.namespace.as_ref().unwrap()))
            .map(|p| {
                let api: Api<Pod> =
                    Api::namespaced(client.clone(), p.metadata.namespace.as_ref().unwrap());
                let name = p.metadata.name.clone().unwrap();
                async move {
                    let params = LogParams {
                        container: Some("processor".into()),
                        limit_bytes: Some(256 * 1024),
                        tail_lines: Some(5_000),
                        ..LogParams::default()
                    };
                    let mut stream = api.log_stream(&name, &params).await.unwrap();
                    let mut buf = [0u8; 16 * 1024];
                    let mut n = 0;
                    loop {
                        match stream.read(&mut buf).await.unwrap() {
                            0 => break n,
                            k => n += k,
                        }
                    }
                }
            });
        let bytes: usize = futures::stream::iter(reads)
            .buffer_unordered(16)
            .collect::<Vec<usize>>()
            .await
            .iter()
            .sum();
        eprintln!("plain client: read {bytes} log bytes");
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--plain-client") {
        plain_client(&args[i + 1]);
        return;
    }
    let Some(kc) = std::env::var_os("KUBELAB_BENCH_KUBECONFIG").filter(|k| !k.is_empty()) else {
        eprintln!(
            "skipped: set KUBELAB_BENCH_KUBECONFIG to a cluster's kubeconfig (the shared/k8s kit, kind) to measure a class-sized grade"
        );
        return;
    };
    let kc = kc.to_string_lossy().into_owned();
    let learners = env_usize("KUBELAB_LOAD_LEARNERS", 60);
    let pods = env_usize("KUBELAB_LOAD_PODS", 20);
    set_up(&kc, learners, pods);
    let out = tempfile::tempdir().unwrap();
    let mut grades = Vec::new();
    let mut calls = String::new();
    for round in 0..3 {
        let to = out.path().join(format!("round-{round}"));
        let (cost, stderr) = measure(
            Command::new(env!("CARGO_BIN_EXE_kubelab"))
                .args(["grade", "image-processor", "--namespace-selector", LABEL])
                .args(["--kubeconfig", &kc, "-v", "--out"])
                .arg(&to),
        );
        calls = stderr
            .lines()
            .find(|l| l.ends_with(" API calls"))
            .unwrap_or("? API calls")
            .to_owned();
        grades.push(cost);
    }
    let mut plain = Vec::new();
    for _ in 0..3 {
        let me = std::env::current_exe().unwrap();
        plain.push(measure(Command::new(me).args(["--plain-client", &kc])).0);
    }
    let (g, p) = (median_cost(grades), median_cost(plain));
    let row = |what: &str, c: Cost| {
        println!(
            "| {what} | {:.2} s | {:.2} s | {:.2} s | {} MiB |",
            c.wall.as_secs_f64(),
            c.user.as_secs_f64(),
            c.system.as_secs_f64(),
            c.peak_rss_kib / 1024
        )
    };
    println!(
        "class of {learners} x {pods} pods, {LOG_KIB} KiB logged by each; median of 3\n\n| process | wall | user | system | peak RSS |\n|---|---|---|---|---|"
    );
    row(&format!("kubelab grade ({calls})"), g);
    row("plain client (the same reads, nothing kept)", p);
    println!(
        "\ngrade / plain client: CPU {:.2}x, memory {:.2}x",
        (g.user + g.system).as_secs_f64() / (p.user + p.system).as_secs_f64(),
        g.peak_rss_kib as f64 / p.peak_rss_kib as f64
    );
}
