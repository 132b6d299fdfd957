//! The race table on the recorded races, and `kubelab race` against the replaying server.

mod common;

use std::collections::HashMap;

use common::apiserver::{ApiServer, Scenario};
use common::{kubelab_env, recorded, root};
use kubelab::facts::job::derive;

fn table(version: &str, race: &str) -> String {
    let serial = derive(&recorded(version, &format!("{race}/oneshot")), "oneshot");
    let parallel = derive(&recorded(version, &format!("{race}/parallel")), "parallel");
    let r = kubelab::race::result("oneshot", &serial, "parallel", &parallel);
    kubelab::race::render(&r, &serial, &parallel)
}

#[test]
fn race_tables_explain_the_speed_up() {
    let idle = table("k8s-1.24", "race-idle");
    assert!(idle.contains("speed-up 2x (ideal 5x)"), "{idle}");
    insta::assert_snapshot!("race_idle_1_24", idle);
    let idle36 = table("k8s-1.36", "race-idle");
    assert!(idle36.contains("speed-up 2.3x (ideal 5x)"), "{idle36}");
    insta::assert_snapshot!("race_idle_1_36", idle36);
    let loaded = table("k8s-1.24", "race-loaded");
    assert!(loaded.contains("speed-up 1x (ideal 5x)"), "{loaded}");
    assert!(loaded.contains("pod start-up overhead"), "{loaded}");
    insta::assert_snapshot!("race_loaded_1_24", loaded);
}

fn race_server() -> ApiServer {
    ApiServer::start(Scenario {
        version: "k8s-1.24".into(),
        merged: HashMap::from([(
            "learner".to_owned(),
            vec!["race-idle/oneshot".into(), "race-idle/parallel".into()],
        )]),
        ..Scenario::default()
    })
}

#[test]
fn race_together_starts_both_before_watching() {
    let server = race_server();
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "learner", "t");
    let run = kubelab_env(
        &root(),
        &["race", "--together", "--kubeconfig", kc.to_str().unwrap()],
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let requests = server.requests();
    let first_watch = requests
        .iter()
        .position(|r| r.starts_with("WATCH "))
        .unwrap_or(requests.len());
    let patches: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.starts_with("PATCH "))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(patches.len(), 2);
    assert!(patches.iter().all(|i| *i < first_watch), "{requests:#?}");
}

#[test]
fn race_command_runs_one_job_then_the_other() {
    let server = race_server();
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "learner", "t");
    let run = kubelab_env(
        &root(),
        &[
            "race",
            "--timeout",
            "30s",
            "--kubeconfig",
            kc.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let patches: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH "))
        .collect();
    assert_eq!(patches.len(), 2);
    assert!(
        patches[0].contains("/jobs/oneshot") && patches[1].contains("/jobs/parallel"),
        "{patches:#?}"
    );
    assert!(
        run.stdout.contains("speed-up 2x (ideal 5x)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("✓ parallel-faster"), "{}", run.stdout);
}

/// The race page's busy-node run is the race recorded on a loaded Kubernetes 1.24 node (ten
/// other Jobs sharing it), collected by `kubelab collect` from the replayed recording:
/// `KUBELAB_WRITE_SAMPLES=1 cargo test --test race loaded` rewrites it.
#[test]
fn the_loaded_race_sample_is_the_recorded_tie() {
    let shipped = root().join("units/03-parallel-processing/race/loaded.bundle.json");
    let server = ApiServer::start(Scenario {
        version: "k8s-1.24".into(),
        merged: HashMap::from([(
            "learner".to_owned(),
            vec!["race-loaded/oneshot".into(), "race-loaded/parallel".into()],
        )]),
        ..Scenario::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "learner", "t");
    let fresh = dir.path().join("fresh.json");
    let collected = kubelab_env(
        &root(),
        &[
            "collect",
            "race",
            "--out",
            fresh.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(collected.code, 0, "{}", collected.stderr);
    common::assert_same_collection(&shipped, &fresh);
    let judged = kubelab_env(
        &root(),
        &["check", "race", "--from", shipped.to_str().unwrap()],
        None,
        &[],
    );
    assert_eq!(
        judged.code, 1,
        "the tie fails parallel-faster:\n{}",
        judged.stdout
    );
    assert!(
        judged.stdout.contains("oneshot 63 s, parallel 64 s"),
        "{}",
        judged.stdout
    );
    assert!(
        judged.stdout.contains("✗ parallel-faster"),
        "{}",
        judged.stdout
    );
}
