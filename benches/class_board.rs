//! The live class board with a class of 60 on a real cluster:
//! `KUBELAB_BENCH_KUBECONFIG=... cargo bench --bench class_board` (the shared/k8s kit, kind,
//! minikube). Sets the class up (`kubelab class up`), serves the board for the image-processor
//! exercise, then changes one learner's namespace (a Job) and reads from the board's own
//! counters how many API calls the start took (the class graded once, one watch per kind) and
//! how many the change took, how many namespaces were judged again and how long the cell took
//! to change. Takes the class down after. Without the variable it says so.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LEARNERS: usize = 60;

fn kubelab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("kubelab runs")
}

/// The board's state (`GET /state`), once it answers.
fn try_state(port: u16) -> Option<serde_json::Value> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET /state HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.split("\r\n\r\n").nth(1)?).ok()
}

fn state(port: u16) -> serde_json::Value {
    try_state(port).expect("the board answers")
}

fn main() {
    let Some(kc) = std::env::var_os("KUBELAB_BENCH_KUBECONFIG") else {
        eprintln!("class_board: set KUBELAB_BENCH_KUBECONFIG to a disposable cluster to measure");
        return;
    };
    let kc = kc.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("board-bench.csv");
    let rows: String = (0..LEARNERS).map(|i| format!("bench-{i:02}\n")).collect();
    std::fs::write(&roster, format!("learner\n{rows}")).unwrap();
    let roster = roster.to_str().unwrap();
    let out = dir.path().join("class");
    let up = kubelab(&[
        "class",
        "up",
        "--roster",
        roster,
        "--out",
        out.to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut board = Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "grade",
            "image-processor",
            "--namespace-selector",
            "kubelab.dev/class=board-bench",
            "--serve",
            &format!("127.0.0.1:{port}"),
            "--kubeconfig",
            &kc,
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("board starts");
    let started = Instant::now();
    let first = loop {
        if let Some(s) = try_state(port) {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the board never answered"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let ready = started.elapsed();
    // The watches start after the first grading; let them list.
    std::thread::sleep(Duration::from_secs(3));
    let before = state(port);
    let job = Command::new("kubectl")
        .args([
            "--kubeconfig",
            &kc,
            "-n",
            "bench-07",
            "create",
            "job",
            "image-processor",
            "--image=busybox:1.35",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert!(
        job.status.success(),
        "{}",
        String::from_utf8_lossy(&job.stderr)
    );
    let changed_at = Instant::now();
    let cell = |s: &serde_json::Value| {
        s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["learner"] == "bench-07")
            .unwrap()["cells"][0]
            .clone()
    };
    let mut seen = before.clone();
    while cell(&seen)["status"] == cell(&before)["status"]
        && changed_at.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(100));
        seen = state(port);
    }
    let to_change = changed_at.elapsed();
    // Let the Job finish and its Events settle; every change is judged.
    std::thread::sleep(Duration::from_secs(15));
    let after = state(port);
    let _ = board.kill();
    let _ = board.wait();
    let calls = |s: &serde_json::Value| s["api_calls"].as_u64().unwrap_or(0);
    let rejudged = |s: &serde_json::Value| s["rejudged"].as_u64().unwrap_or(0);
    println!(
        "class board, {LEARNERS} learners: serving after {:.2} s, the class graded once and one watch per kind started in {} API calls",
        ready.as_secs_f64(),
        calls(&first).max(calls(&before))
    );
    println!(
        "one learner's Job: the cell changed {:.2} s after it was created; by 15 s later {} namespace re-judgings made {} API calls ({} per re-judging)",
        to_change.as_secs_f64(),
        rejudged(&after) - rejudged(&before),
        calls(&after) - calls(&before),
        (calls(&after) - calls(&before)) / (rejudged(&after) - rejudged(&before)).max(1),
    );
    let down = kubelab(&[
        "class",
        "down",
        "--roster",
        roster,
        "--yes",
        "--kubeconfig",
        &kc,
    ]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}
