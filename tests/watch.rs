//! `kubelab watch` driven as a learner would: edit the file, read the verdicts, ask for a hint,
//! quit. Standard input is not a terminal here, so keys are lines.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::apiserver::{ApiServer, Scenario};
use common::root;

struct Session {
    child: std::process::Child,
    out: Arc<Mutex<String>>,
}

impl Session {
    fn start(args: &[&str], state: &std::path::Path) -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubelab"))
            .current_dir(root())
            .env("KUBELAB_STATE", state)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .env("HOME", state.parent().unwrap())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Session { child, out }
    }

    /// Waits until the latest screen (after the last separator) holds `text`.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let all = self.out.lock().unwrap().clone();
            let screens: Vec<&str> = all
                .split("----\n")
                .filter(|s| !s.trim().is_empty())
                .collect();
            if let Some(last) = screens.last()
                && last.contains(text)
            {
                return last.to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never saw {text:?} in:\n{all}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn key(&mut self, k: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{k}").unwrap();
        stdin.flush().unwrap();
    }

    fn quit(mut self) -> i32 {
        self.key("q");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(start.elapsed() < Duration::from_secs(10), "q did not quit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn rechecks_the_file_as_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("image-processor.yaml");
    let state = dir.path().join("state.json");
    let mut s = Session::start(
        &[
            "watch",
            "image-processor",
            "--offline",
            "--file",
            file.to_str().unwrap(),
        ],
        &state,
    );
    s.wait_for("waiting for image-processor.yaml");
    let reference = std::fs::read_to_string(
        root().join("units/03-parallel-processing/image-processor/reference.yaml"),
    )
    .unwrap();
    std::fs::write(&file, reference.replace("parallelism: 4", "parallelizm: 4")).unwrap();
    s.wait_for("did you mean spec.parallelism?");
    std::fs::write(&file, &reference).unwrap();
    let screen = s.wait_for("PASSED");
    assert!(!screen.contains("parallelizm"));
    s.key("h");
    s.wait_for("Hint 1/4");
    s.key("n");
    s.wait_for("kubelab watch: dynamic-workload");
    assert_eq!(s.quit(), 0);
}

#[test]
fn rejudges_the_cluster() {
    let server = ApiServer::start(Scenario {
        version: "k8s-1.36".into(),
        namespaces: HashMap::from([(
            "u3-image-processor".to_owned(),
            "u3-image-processor".to_owned(),
        )]),
        ..Scenario::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "u3-image-processor", "t");
    let file = dir.path().join("image-processor.yaml");
    std::fs::copy(
        root().join("units/03-parallel-processing/image-processor/reference.yaml"),
        &file,
    )
    .unwrap();
    let state = dir.path().join("state.json");
    let s = Session::start(
        &[
            "watch",
            "image-processor",
            "--file",
            file.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
        ],
        &state,
    );
    let screen = s.wait_for("live check of namespace u3-image-processor");
    assert!(screen.contains("✓ never-over-four"), "{screen}");
    assert_eq!(s.quit(), 0);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.starts_with("GET ") || r.starts_with("WATCH "))
    );
}

#[test]
fn falls_back_to_polling_when_watching_is_forbidden() {
    let server = ApiServer::start(Scenario {
        version: "k8s-1.24".into(),
        namespaces: HashMap::from([(
            "u3-image-processor".to_owned(),
            "u3-image-processor".to_owned(),
        )]),
        watch_forbidden: true,
        ..Scenario::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "u3-image-processor", "t");
    let file = dir.path().join("image-processor.yaml");
    let state = dir.path().join("state.json");
    let s = Session::start(
        &[
            "watch",
            "image-processor",
            "--file",
            file.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
        ],
        &state,
    );
    let screen =
        s.wait_for("watching is not allowed here; checking the cluster every 10 s instead");
    assert!(
        screen.contains("live check of namespace u3-image-processor"),
        "{screen}"
    );
    assert_eq!(s.quit(), 0);
}
