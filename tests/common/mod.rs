//! Helpers shared by the integration tests: run the real binary on the repository's course.
#![allow(dead_code)]

pub mod apiserver;

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
