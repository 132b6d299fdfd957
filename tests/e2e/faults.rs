//! Real faults on the real cluster (the shared/k8s kit stops and starts its own parts): etcd
//! stopped under a running API server while a learner checks and an instructor grades (each
//! explained, exit 3, nothing written; afterwards the kit is started again and the same
//! commands work), the kubelet stopped while a learner's Job runs, a namespace deleted while
//! graded. Each takes the node whole: every other test would lose the cluster too.

use super::{
    Test, first_running_pod, fresh_namespace, kit_of, kubectl, real_cluster, run_kit_script,
    whole_node,
};

#[test]
fn etcd_stopped_under_check_and_grade_is_explained_and_writes_nothing() {
    let Some(kc) = real_cluster("stop a real etcd under check and grade") else {
        return;
    };
    let Some((kit, kit_dir)) = kit_of(&kc, "stop its etcd") else {
        return;
    };
    let _node = whole_node();
    let (ns, _guard) = fresh_namespace(&kc, "etcd-down");
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, format!("learner,namespace\nana,{ns}\n")).unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, r#"{"exercises":{"race":{"hints_shown":2}}}"#).unwrap();
    let state_env = state.display().to_string();
    let out = dir.path().join("grades");
    let grade = |to: &std::path::Path| {
        Test::new(&[
            "grade",
            "slow-sequential",
            "--roster",
            roster.to_str().unwrap(),
            "--out",
            to.to_str().unwrap(),
            "--kubeconfig",
            &kc,
            "--request-timeout",
            "8s",
        ])
        .run()
    };

    run_kit_script(&kit, &kit_dir, r#". "$KIT/lib.sh" && stop_c etcd 5"#);
    let restart = Restart {
        kit: &kit,
        kit_dir: &kit_dir,
    };
    let check = Test::new(&["check", "slow-sequential", "--request-timeout", "8s"])
        .real(&kc, &ns)
        .env("KUBELAB_STATE", &state_env)
        .run();
    assert_eq!(check.code, 3, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stderr.contains("API server") || check.stderr.contains("timed out"),
        "explained: {}",
        check.stderr
    );
    assert!(
        check.stderr.contains("help:"),
        "says what to do: {}",
        check.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        r#"{"exercises":{"race":{"hints_shown":2}}}"#,
        "the progress file is as it was"
    );
    let graded = grade(&out);
    assert_eq!(graded.code, 3, "{}{}", graded.stdout, graded.stderr);
    assert!(graded.stderr.contains("help:"), "{}", graded.stderr);
    assert!(!out.exists(), "a failed grade wrote {}", out.display());

    drop(restart);
    // The API server refills its caches from etcd for a while after it is back.
    let mut again = grade(&dir.path().join("after"));
    for _ in 0..6 {
        if again.code == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(10));
        again = grade(&dir.path().join("after"));
    }
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

/// Starts the kit again (its up.sh starts what is not running) however the test ends.
struct Restart<'a> {
    kit: &'a std::path::Path,
    kit_dir: &'a std::path::Path,
}

impl Drop for Restart<'_> {
    /// Runs before the test lets go of the node: the next test finds a cluster that lists
    /// pods again, not one still refilling its caches.
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg("-c")
            .arg(r#"bash "$KIT/up.sh" >/dev/null"#)
            .env("KIT", self.kit)
            .env("KIT_DIR", self.kit_dir)
            .output();
        let kc = self.kit_dir.join("admin.kubeconfig").display().to_string();
        for _ in 0..90 {
            let pods = ["get", "pods", "-A", "--request-timeout=5s", "-o", "name"];
            if kubectl(&kc, &["get", "--raw", "/readyz"]).status.success()
                && kubectl(&kc, &pods).status.success()
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// A learner's namespace deleted while the class is graded (held in Terminating by a
/// finalizer, as a slow deletion is): the grade says the namespace is being deleted rather than
/// only "missing", so the instructor asks before trusting it.
#[test]
fn a_namespace_being_deleted_while_graded_is_said() {
    let Some(kc) = real_cluster("grade a namespace that is being deleted") else {
        return;
    };
    let _node = super::share_node();
    let (ns, _guard) = fresh_namespace(&kc, "deleted-mid-grade");
    let hold = [
        "create",
        "configmap",
        "held",
        "-n",
        &ns,
        "--from-literal=a=b",
    ];
    assert!(kubectl(&kc, &hold).status.success());
    let finalizer = r#"{"metadata":{"finalizers":["kubelab.dev/e2e-hold"]}}"#;
    let patch = ["patch", "configmap", "held", "-n", &ns, "-p", finalizer];
    assert!(kubectl(&kc, &patch).status.success());
    let release = Release { kc: &kc, ns: &ns };
    assert!(
        kubectl(&kc, &["delete", "namespace", &ns, "--wait=false"])
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, format!("learner,namespace\nana,{ns}\n")).unwrap();
    let out = dir.path().join("grades");
    let graded = Test::new(&[
        "grade",
        "slow-sequential",
        "--roster",
        roster.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(graded.code, 0, "{}{}", graded.stdout, graded.stderr);
    let feedback = std::fs::read_to_string(out.join("feedback/ana.md")).unwrap();
    assert!(
        feedback.contains(&format!("namespace {ns} is being deleted (since ")),
        "{feedback}"
    );
    drop(release);
}

/// Lets the held namespace go however the test ends.
struct Release<'a> {
    kc: &'a str,
    ns: &'a str,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let gone = r#"{"metadata":{"finalizers":null}}"#;
        let _ = kubectl(
            self.kc,
            &[
                "patch",
                "configmap",
                "held",
                "-n",
                self.ns,
                "--type=merge",
                "-p",
                gone,
            ],
        );
    }
}

/// The kubelet stopped while a learner's Job runs: its pods stay Running in the API (the
/// containers even finish, unseen), and after the node controller's grace period the node is
/// NotReady and the pods are marked not ready. `run` ends its wait there and `check` judges
/// the same: neither calls it passed, both say which node stopped reporting and what to do.
#[test]
fn a_kubelet_stopped_mid_run_is_explained_not_passed() {
    let Some(kc) = real_cluster("stop a real kubelet under a run") else {
        return;
    };
    let Some((kit, kit_dir)) = kit_of(&kc, "stop its kubelet") else {
        return;
    };
    let _node = whole_node();
    let (ns, _guard) = fresh_namespace(&kc, "kubelet-down");
    let run = Test::new(&["run", "slow-sequential", "--reference", "--timeout", "6m"])
        .real(&kc, &ns)
        .spawn();
    first_running_pod(&kc, &ns);
    run_kit_script(&kit, &kit_dir, r#". "$KIT/lib.sh" && stop_c kubelet 5"#);
    let _restart = Restart {
        kit: &kit,
        kit_dir: &kit_dir,
    };
    let out = run.finish(std::time::Duration::from_secs(300));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stderr.contains("lost the API server"),
        "the API server ran throughout: {}",
        out.stderr
    );
    for said in [
        "slow-sequential: node lab-node stopped reporting (its pods marked not ready since ",
        "nothing on it progresses until its kubelet is back; judging what there is",
    ] {
        assert!(out.stderr.contains(said), "{said}: {}", out.stderr);
    }
    let check = Test::check("slow-sequential").real(&kc, &ns).expect(1);
    for out in [&out, &check] {
        assert!(
            out.stdout.contains("node lab-node stopped reporting")
                && out.stdout.contains("so this is not judged passed"),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("10/10 points"), "{}", out.stdout);
    }
    let unreadable = check
        .stdout
        .matches("cannot be read: the API server could not reach")
        .count();
    assert_eq!(
        unreadable, 1,
        "one note for every log its kubelet cannot serve: {}",
        check.stdout
    );
}
