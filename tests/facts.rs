//! Derived facts on recordings from real clusters, and on variations of them that a learner
//! could produce (bare look-alike pods, a replaced Job, pods removed by ttlSecondsAfterFinished).

mod common;

use common::recorded;
use kubelab::facts::job::derive;

#[test]
fn resource_limits_show_as_fewer_running_than_active() {
    let f = derive(
        &recorded("k8s-1.24", "u3-resource-aware-parallel"),
        "resource-aware-parallel",
    );
    assert!(f.complete);
    assert_eq!(f.max_active, 4, "the Job controller kept 4 pods active");
    assert_eq!(
        f.max_running, 2,
        "only 2 could run at once: other Jobs held CPU requests"
    );
    assert!(
        f.scheduling_failures
            .iter()
            .any(|m| m.contains("Insufficient cpu")),
        "{:?}",
        f.scheduling_failures
    );

    let f = derive(
        &recorded("k8s-1.36", "u3-resource-aware-parallel"),
        "resource-aware-parallel",
    );
    assert_eq!((f.max_active, f.max_running), (4, 2));
    let alone = derive(
        &recorded("k8s-1.36", "u3-resource-aware-parallel-alone"),
        "resource-aware-parallel",
    );
    assert_eq!(
        alone.max_running, 3,
        "alone on the node: 1500m / 500m = 3 at once"
    );
}

#[test]
fn terminal_conditions_on_both_versions() {
    for v in ["k8s-1.24", "k8s-1.36"] {
        let f = derive(&recorded(v, "u3-dynamic-workload"), "dynamic-workload");
        assert!(f.failed && !f.complete, "{v}");
        assert_eq!(
            f.condition_reason.as_deref(),
            Some("BackoffLimitExceeded"),
            "{v}"
        );
        assert_eq!(f.exit_codes, vec![2], "{v}");
        assert!(
            f.runs
                .iter()
                .filter(|r| r.phase == "Failed")
                .all(|r| r.last_log_line.as_deref() == Some("sh: syntax error: unexpected \"(\"")),
            "{v}"
        );
        let ok = derive(
            &recorded(v, "u3-parallel-processing"),
            "parallel-processing",
        );
        assert!(
            ok.complete && ok.max_active <= 3 && ok.pods_succeeded == 10,
            "{v}"
        );
    }
    let f = derive(
        &recorded("k8s-1.24", "u3-unreliable-workers-fixed"),
        "unreliable-workers",
    );
    assert!(f.complete);
    assert_eq!(f.pods_succeeded, 5);
    assert!(
        f.pods_failed > 0,
        "some workers failed with exit 1 and were replaced"
    );
    assert_eq!(f.exit_codes, vec![1]);
    let seed = derive(
        &recorded("k8s-1.24", "u3-unreliable-workers"),
        "unreliable-workers",
    );
    assert_eq!(
        seed.completions,
        Some(1),
        "the rejected patch left completions at 1"
    );
}

#[test]
fn indexed_jobs_carry_their_index() {
    let f = derive(
        &recorded("k8s-1.24", "u3-data-validation"),
        "data-validation",
    );
    let mut idx: Vec<i64> = f.runs.iter().filter_map(|r| r.index).collect();
    idx.sort();
    idx.dedup();
    assert_eq!(idx, (0..15).collect::<Vec<_>>());
}

#[test]
fn look_alike_pods_are_reported_not_counted() {
    let mut s = recorded("k8s-1.24", "u3-image-processor");
    let mut fake = s.pods[0].clone();
    fake.metadata.name = Some("image-processor-fake1".into());
    fake.metadata.owner_references = None;
    s.pods.push(fake);
    let f = derive(&s, "image-processor");
    assert_eq!(f.pods, 20);
    assert_eq!(f.impostors, vec!["image-processor-fake1".to_owned()]);
}

#[test]
fn a_replaced_job_does_not_inherit_its_predecessors_pods() {
    let mut s = recorded("k8s-1.36", "u3-image-processor");
    s.jobs[0].metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
    let f = derive(&s, "image-processor");
    assert_eq!(f.pods, 0);
    assert_eq!(f.previous_job_pods.len(), 20);
}

#[test]
fn pods_removed_after_finishing_are_noticed() {
    let mut s = recorded("k8s-1.24", "u3-image-processor");
    s.pods.clear();
    s.logs.clear();
    let f = derive(&s, "image-processor");
    assert!(f.complete, "the Job's own status still says Complete");
    assert_eq!((f.pods, f.max_active), (0, 0));
    let course = kubelab::course::Course::load_for(&common::root(), "image-processor").unwrap();
    let report = kubelab::live::judge(
        course.exercise("image-processor").unwrap(),
        &s,
        "test".into(),
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("pods of Job image-processor are gone")),
        "{:?}",
        report.notes
    );
    assert!(!report.passed, "log checks cannot pass without pods");
}
