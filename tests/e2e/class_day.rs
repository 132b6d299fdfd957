//! The instructor's class day on the real cluster, end to end: bad rosters and missing rights
//! refused with nothing made, `class up` for ten learners, a learner's kubeconfig refused
//! outside its namespace and its over-quota Job explained, `class status` and `grade` reading
//! only (the audit log says so), and `class down` leaving the cluster as it was.

use super::{AuditWindow, Class, Test, kubectl, real_cluster, share_node};

fn namespaces(kc: &str) -> Vec<String> {
    let out = kubectl(kc, &["get", "namespaces", "-o", "name"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("namespace/").to_owned())
        .collect()
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_class_day_on_a_real_cluster() {
    let Some(kc) = real_cluster("set a class up, work in it, grade it and take it down") else {
        return;
    };
    let _node = share_node();
    let tag = std::process::id();
    let class = format!("kl-day-{tag}");
    let ids: Vec<String> = (0..10).map(|i| format!("l{i}-{tag}")).collect();
    let taken = format!("kl-day-{tag}-taken");
    let mut all = ids.clone();
    all.push(taken.clone());
    let _cleanup = Class::namespaces(&kc, all);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let before: Vec<String> = namespaces(&kc)
        .into_iter()
        .filter(|n| n.contains(&tag.to_string()))
        .collect();
    assert!(before.is_empty(), "{before:?}");

    // Bad input: each a clear error, and nothing made.
    std::fs::write(path("odd.csv"), "learner\nAna Lopez\n").unwrap();
    let odd = Test::new(&[
        "class",
        "up",
        "--roster",
        &path("odd.csv"),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(odd.code, 2, "{}", odd.stderr);
    assert!(
        odd.stderr.contains("kubelab would use `ana-lopez`"),
        "{}",
        odd.stderr
    );
    let reader = std::path::Path::new(&kc).with_file_name("reader.kubeconfig");
    std::fs::write(
        path("day.csv"),
        format!(
            "learner,namespace\n{}\n",
            ids.iter()
                .map(|i| format!("{i},"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .unwrap();
    if reader.exists() {
        let refused = Test::new(&[
            "class",
            "up",
            "--roster",
            &path("day.csv"),
            "--class",
            &class,
            "--out",
            &path("out"),
            "--kubeconfig",
            reader.to_str().unwrap(),
        ])
        .run();
        assert_eq!(refused.code, 3, "{}", refused.stderr);
        assert!(
            refused.stderr.contains("403 Forbidden")
                && refused.stderr.contains("create namespaces"),
            "{}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains("kubelab rbac --scope class"),
            "{}",
            refused.stderr
        );
    }
    assert!(
        kubectl(&kc, &["create", "namespace", &taken])
            .status
            .success()
    );
    std::fs::write(
        path("taken.csv"),
        format!("learner,namespace\n{},\nsomeone,{taken}\n", ids[0]),
    )
    .unwrap();
    let clash = Test::new(&[
        "class",
        "up",
        "--roster",
        &path("taken.csv"),
        "--class",
        &class,
        "--out",
        &path("out"),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(clash.code, 3, "{}", clash.stderr);
    assert!(
        clash.stderr.contains(&format!(
            "namespace {taken} exists and kubelab did not make it"
        )),
        "{}",
        clash.stderr
    );
    assert!(clash.stderr.contains("--adopt"), "{}", clash.stderr);
    let made: Vec<String> = namespaces(&kc)
        .into_iter()
        .filter(|n| ids.contains(n))
        .collect();
    assert!(made.is_empty(), "a refused `class up` made {made:?}");

    // Up, twice: the second changes nothing but the tokens.
    let up_args = [
        "class",
        "up",
        "--roster",
        &path("day.csv"),
        "--class",
        &class,
        "--out",
        &path("out"),
        "--unit",
        "parallel-processing",
        "--kubeconfig",
        &kc,
    ];
    let up = Test::new(&up_args).run();
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert!(up.stdout.contains("10 learner(s) set up"), "{}", up.stdout);
    assert!(
        up.stdout.contains("resource-aware-parallel"),
        "the quota is sized from the largest reference run: {}",
        up.stdout
    );
    let again = Test::new(&up_args).run();
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let kubeconfigs = dir.path().join("out/kubeconfigs");
    assert_eq!(mode(&kubeconfigs), 0o700);
    for id in &ids {
        let file = kubeconfigs.join(format!("{id}.kubeconfig"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let learner = |i: usize| {
        kubeconfigs
            .join(format!("{}.kubeconfig", ids[i]))
            .display()
            .to_string()
    };

    // A learner works in their namespace and nowhere else.
    let own = kubectl(&learner(0), &["get", "pods"]);
    assert!(
        own.status.success(),
        "{}",
        String::from_utf8_lossy(&own.stderr)
    );
    for args in [
        vec!["get", "pods", "-n", ids[1].as_str()],
        vec!["get", "namespaces"],
        vec!["get", "nodes"],
        vec!["get", "pods", "--all-namespaces"],
    ] {
        let out = kubectl(&learner(0), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("Forbidden"),
            "{args:?}: {err}"
        );
    }
    // A Job asking for more than the quota: its pods are refused, and kubelab names the quota.
    let greedy = std::fs::read_to_string(super::root().join("units/03-parallel-processing/image-processor/reference.yaml"))
        .unwrap()
        .replace("        image: busybox:1.35\n", "        image: busybox:1.35\n        resources:\n          requests: {cpu: '64'}\n          limits: {cpu: '64'}\n");
    std::fs::write(path("greedy.yaml"), greedy).unwrap();
    let run = Test::new(&[
        "run",
        "image-processor",
        "--file",
        &path("greedy.yaml"),
        "--timeout",
        "15s",
        "--kubeconfig",
        &learner(0),
    ])
    .run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("exceeded quota: kubelab-quota"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("the namespace's ResourceQuota `kubelab-quota` refused them"),
        "{}",
        run.stdout
    );

    // Status and grading only read, whatever they read.
    let audit = AuditWindow::open(&kc);
    let status = Test::new(&["class", "status", "--class", &class, "--kubeconfig", &kc]).run();
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert!(status.stdout.contains("10 learner(s)"), "{}", status.stdout);
    let row = status
        .stdout
        .lines()
        .find(|l| l.contains(&ids[0]))
        .unwrap_or_default();
    assert!(
        row.contains("FailedCreate") && row.contains("until "),
        "{}",
        status.stdout
    );
    let grade = Test::new(&[
        "grade",
        "image-processor",
        "--namespace-selector",
        &format!("kubelab.dev/class={class}"),
        "--out",
        &path("grades"),
        "--lms",
        "canvas",
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(grade.code, 0, "{}{}", grade.stdout, grade.stderr);
    let canvas = std::fs::read_to_string(dir.path().join("grades/canvas-import.csv")).unwrap();
    assert!(
        canvas.starts_with("Student,ID,SIS User ID,SIS Login ID,Section,"),
        "{canvas}"
    );
    assert_eq!(canvas.lines().count(), 2 + ids.len(), "{canvas}");
    let book = std::fs::read_to_string(dir.path().join("grades/gradebook.csv")).unwrap();
    for id in &ids {
        assert!(book.contains(id.as_str()), "{id} in {book}");
    }
    if let Some(audit) = audit {
        let writes = audit.writes_about(&ids);
        assert!(writes.is_empty(), "status and grade wrote: {writes:?}");
    }

    // Down: asks first, then leaves the cluster as it was.
    let unasked = Test::new(&["class", "down", "--class", &class, "--kubeconfig", &kc]).run();
    assert_eq!(unasked.code, 2, "{}", unasked.stderr);
    assert!(unasked.stderr.contains("pass --yes"), "{}", unasked.stderr);
    let down = Test::new(&[
        "class",
        "down",
        "--class",
        &class,
        "--yes",
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    assert!(
        down.stdout.contains("10 namespace(s) removed"),
        "{}",
        down.stdout
    );
    assert!(
        kubectl(&kc, &["delete", "namespace", &taken, "--wait=false"])
            .status
            .success()
    );
    let left: Vec<String> = namespaces(&kc)
        .into_iter()
        .filter(|n| ids.contains(n))
        .collect();
    assert!(left.is_empty(), "down left {left:?}");
    let gone = kubectl(&learner(1), &["get", "pods"]);
    assert!(
        !gone.status.success(),
        "a learner's token outlives the class"
    );
}
