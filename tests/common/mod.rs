//! Helpers shared by the integration tests: run the real binary on the repository's course.
#![allow(dead_code)]

pub mod apiserver;
pub mod browser;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs kubelab from the repository root with colour off and a private state file.
pub fn kubelab(args: &[&str]) -> Run {
    kubelab_in(&root(), args, None)
}

pub fn kubelab_in(dir: &Path, args: &[&str], state: Option<&Path>) -> Run {
    kubelab_env(dir, args, state, &[])
}

/// Runs kubelab with extra environment; HOME is a fresh folder so no real kubeconfig is read.
pub fn kubelab_env(dir: &Path, args: &[&str], state: Option<&Path>, env: &[(&str, &str)]) -> Run {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state_path = state
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.path().join("state.json"));
    let out = Command::cargo_bin("kubelab")
        .expect("binary")
        .current_dir(dir)
        .env("KUBELAB_STATE", &state_path)
        .env_remove("KUBELAB_COURSE")
        .env("NO_COLOR", "1")
        .env("HOME", tmp.path())
        .env_remove("KUBECONFIG")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A snapshot made of a recording's raw API lists and logs, as the live checker would gather.
pub fn recorded(version: &str, run: &str) -> kubelab::cluster::Snapshot {
    let dir = root().join("tests/fixtures").join(version).join(run);
    let items = |file: &str| -> serde_json::Value {
        // Runs recorded without api/ (race-loaded) have kubectl's -o json lists of the same objects.
        let kubectl = match file {
            "jobs.JobList.json" => "jobs.json",
            "pods.PodList.json" => "pods.json",
            _ => "events.json",
        };
        let text = std::fs::read_to_string(dir.join("api").join(file))
            .or_else(|_| std::fs::read_to_string(dir.join(kubectl)))
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["items"].clone()
    };
    let mut logs = std::collections::BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("logs")) {
        for e in rd {
            let e = e.unwrap();
            let pod = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            logs.insert(
                pod,
                [(
                    "c".to_owned(),
                    kubelab::cluster::LogText {
                        text,
                        truncated: false,
                    },
                )]
                .into(),
            );
        }
    }
    let jobs = serde_json::from_value::<Vec<_>>(items("jobs.JobList.json")).unwrap();
    kubelab::cluster::Snapshot {
        namespace: run.rsplit('/').next().unwrap().to_owned(),
        gathered_at: "2026-11-23T12:00:00Z".into(),
        targets: vec![],
        jobs,
        pods: serde_json::from_value(items("pods.PodList.json")).unwrap(),
        events: std::fs::read_to_string(dir.join("api/events.EventList.json"))
            .or_else(|_| std::fs::read_to_string(dir.join("events.json")))
            .ok()
            .map(|t| {
                serde_json::from_value(
                    serde_json::from_str::<serde_json::Value>(&t).unwrap()["items"].clone(),
                )
                .unwrap()
            })
            .unwrap_or_default(),
        logs,
        ..kubelab::cluster::Snapshot::default()
    }
}
