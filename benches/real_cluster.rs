//! A live check on a real cluster: `KUBELAB_BENCH_KUBECONFIG=... cargo bench --bench real_cluster`
//! (the shared/k8s kit, kind, minikube). Two namespaces of their own: a finished 20-pod Job (the
//! image-processor exercise's name and shape, 4 at a time, quick work), and an application
//! stack (a Deployment of 2, its Service, a CronJob with a finished run, and two bare pods;
//! the `app-stack` exercise of tests/fixtures/courses/app-stack). For each: API calls, wall time
//! of connect + gather + judge in process (median of 10), and of the whole `kubelab check`
//! process (median of 5). Without the variable it says so.

use std::process::Command;

#[path = "common/kubectl.rs"]
mod kubectl;
use kubectl::kubectl;
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

const STACK: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: kuard
        image: gcr.io/kuar-demo/kuard-amd64:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: report, image: busybox:1.35, command: ["sh", "-c", "echo report"]}
---
apiVersion: v1
kind: Pod
metadata: {name: helper-a}
spec:
  containers: [{name: sleep, image: busybox:1.35, command: ["sleep", "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: helper-b}
spec:
  containers: [{name: sleep, image: busybox:1.35, command: ["sleep", "3600"]}]
"#;

/// What one scenario measured.
struct Measured {
    calls: usize,
    expected_calls: usize,
    pods: usize,
    in_process: Duration,
    process: Duration,
}

/// Checks `exercise` of the course at `course_dir` against `ns`: in process (10 times) and as
/// a whole process (5 times). Expected calls: one LIST per kind of the plan, two identity
/// reads, one log read per container whose log was read.
fn measure(kc: &str, course_dir: &std::path::Path, exercise_id: &str, ns: &str) -> Measured {
    let course = Course::load_for(course_dir, exercise_id).unwrap();
    let exercise = course.exercise(exercise_id).unwrap();
    let target = Target {
        kubeconfig: Some(kc.into()),
        context: None,
        namespace: Some(ns.to_owned()),
        request_timeout: Some(Duration::from_secs(30)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut times = Vec::new();
    let (mut calls, mut pods, mut logs) = (0, 0, 0);
    for _ in 0..10 {
        let start = Instant::now();
        let (report, n, p, l) = runtime.block_on(async {
            let (client, namespace) = connect(&target).await.unwrap();
            let count = CallCount::default();
            let snapshot = gather(&client, &namespace, &exercise.plan, &count)
                .await
                .unwrap();
            let logs: usize = snapshot.logs.values().map(|c| c.len()).sum();
            (
                kubelab::live::judge(exercise, &snapshot, "bench".into()),
                count.get(),
                snapshot.pods.len(),
                logs,
            )
        });
        times.push(start.elapsed());
        assert!(report.passed, "{}", kubelab::report::render_check(&report));
        (calls, pods, logs) = (n, p, l);
    }
    let exe = env!("CARGO_BIN_EXE_kubelab");
    let mut process = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let out = Command::new(exe)
            .args(["--course", course_dir.to_str().unwrap()])
            .args(["check", exercise_id, "--kubeconfig", kc, "-n", ns])
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
    Measured {
        calls,
        expected_calls: exercise.plan.kinds.len() + 2 + logs,
        pods,
        in_process: median(times),
        process: median(process),
    }
}

fn print(what: &str, m: &Measured) {
    println!("{what}:");
    println!(
        "  API calls per check: {} (expected: one LIST per kind needed, 2 identity reads, one per log read: {})",
        m.calls, m.expected_calls
    );
    println!("  pods in the namespace: {}", m.pods);
    println!(
        "  connect + gather + judge, in process: median {:.0} ms of 10",
        m.in_process.as_secs_f64() * 1000.0
    );
    println!(
        "  whole `kubelab check` process: median {:.0} ms of 5",
        m.process.as_secs_f64() * 1000.0
    );
}

fn main() {
    let Some(kc) = std::env::var("KUBELAB_BENCH_KUBECONFIG")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("skipped: set KUBELAB_BENCH_KUBECONFIG to a disposable cluster's kubeconfig");
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let stack_ns = format!("kl-bench-stack-{}", std::process::id());
    kubectl(&kc, &["create", "namespace", &stack_ns], None);
    kubectl(&kc, &["apply", "-n", &stack_ns, "-f", "-"], Some(STACK));
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
    // The stack: its CronJob's first run has finished, its Deployment is available.
    kubectl(
        &kc,
        &[
            "rollout",
            "status",
            "-n",
            &stack_ns,
            "deployment/web",
            "--timeout=120s",
        ],
        None,
    );
    for _ in 0..90 {
        let done = kubectl(
            &kc,
            &[
                "get",
                "jobs",
                "-n",
                &stack_ns,
                "-o",
                "jsonpath={.items[*].status.succeeded}",
            ],
            None,
        );
        if done.contains('1') {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let stack = measure(
        &kc,
        &root.join("tests/fixtures/courses/app-stack"),
        "app-stack",
        &stack_ns,
    );
    kubectl(
        &kc,
        &["delete", "namespace", &stack_ns, "--wait=false"],
        None,
    );
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
    print(
        "real cluster, a Deployment of 2, its Service, a CronJob with its Job, 2 bare pods",
        &stack,
    );
    println!(
        "  under 150 ms in process: {}; calls as expected: {}",
        stack.in_process < Duration::from_millis(150),
        stack.calls == stack.expected_calls
    );
}
