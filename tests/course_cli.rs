//! `kubelab lint | list | show | hint` on the shipped course and on small broken courses.

mod common;

use common::{kubelab, kubelab_in, root};

fn lint(course: &str) -> common::Run {
    kubelab(&["lint", &format!("tests/fixtures/courses/{course}")])
}

#[test]
fn shipped_course_lints_clean() {
    let r = kubelab(&["lint"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = kubelab(&["lint", "units"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn good_fixture_course_lints_clean() {
    let r = lint("good");
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn broken_courses_name_file_line_column_and_field() {
    let cases = [
        (
            "bad-points",
            "units/01-u/ex-a/exercise.yaml:4:1: points: expected integer, found \"ten\"",
        ),
        (
            "missing-file",
            "units/01-u/unit.yaml:6:5: exercises[1]: exercise `ex-b` has no file units/01-u/ex-b/exercise.yaml",
        ),
        (
            "missing-check",
            "assertions[1].use: no reusable check `job-complete` in checks/; did you mean `job-completed`?",
        ),
        (
            "duplicate-ids",
            "units/01-u/unit.yaml:6:5: exercises[1]: duplicate exercise id `ex-a`",
        ),
        (
            "cel-error",
            "units/01-u/ex-a/exercise.yaml:12:5: assertions[0].expr: CEL syntax error",
        ),
        (
            "unknown-field",
            "units/01-u/ex-a/exercise.yaml:7:1: hintz: unknown field; did you mean hints?",
        ),
        (
            "ambiguous-name",
            "units/01-u/ex-a/exercise.yaml:13:13: assertions[0].field.object: `web` is ambiguous: Deployment/web and Service/web are both named so; write `Deployment/web` or `Service/web`",
        ),
        (
            "points-over",
            "units/01-u/ex-a/exercise.yaml:4:1: points: the `points` set on assertions add up to 7, more than the exercise's 5",
        ),
    ];
    for (course, expected) in cases {
        let r = lint(course);
        assert_eq!(r.code, 2, "{course}: {}", r.stderr);
        assert!(r.stderr.contains(expected), "{course}:\n{}", r.stderr);
    }
    insta::assert_snapshot!("lint_missing_check", lint("missing-check").stderr);
}

#[test]
fn lint_proves_references_pass_their_own_assertions() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&root().join("tests/fixtures/courses/good"), dir.path());
    let reference = dir.path().join("units/01-u/ex-a/reference.yaml");
    let text = std::fs::read_to_string(&reference)
        .unwrap()
        .replace("completions: 20", "completions: 12");
    std::fs::write(&reference, text).unwrap();
    let r = kubelab(&["lint", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "the reference fails its own assertion `completions`: completions is 12; expected 20"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn list_show_and_hints() {
    let r = kubelab(&["list"]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!("list", r.stdout);

    let r = kubelab(&["show", "image-processor"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Build an image processor"));
    assert!(
        !r.stdout.contains("apiVersion"),
        "the solution stays hidden"
    );
    let r = kubelab(&["show", "image-processor", "--solution"]);
    assert!(r.stdout.contains("apiVersion: batch/v1"));

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let hint = |extra: &[&str]| {
        let mut args = vec!["hint", "image-processor"];
        args.extend_from_slice(extra);
        kubelab_in(&root(), &args, Some(&state))
    };
    let first = hint(&[]);
    assert!(first.stdout.contains("Hint 1/4"));
    assert!(!first.stdout.contains("Hint 2/4"));
    let second = hint(&[]);
    assert!(second.stdout.contains("Hint 1/4") && second.stdout.contains("Hint 2/4"));
    for _ in 0..5 {
        hint(&[]);
    }
    assert!(hint(&[]).stdout.contains("That was the last hint."));
    assert!(!hint(&["--reset"]).stdout.contains("Hint 1/4"));

    // Progress is remembered by check and shown by list.
    kubelab_in(
        &root(),
        &[
            "check",
            "image-processor",
            "--file",
            "units/03-parallel-processing/image-processor/reference.yaml",
        ],
        Some(&state),
    );
    let r = kubelab_in(&root(), &["list"], Some(&state));
    assert!(r.stdout.contains("passed (offline)"), "{}", r.stdout);
}

#[test]
fn shipped_schemas_match_the_model() {
    for (name, schema) in kubelab::course::schema_files() {
        let path = root().join("checks/schemas").join(name);
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        let expected = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        assert!(
            shipped == expected,
            "{} is stale: run `cargo run -- schemas --write`",
            path.display()
        );
    }
}

#[test]
fn confidence_check_compares_self_rating_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let r = kubelab_in(
        &root(),
        &[
            "check",
            "image-processor",
            "--from",
            "units/03-parallel-processing/image-processor/sample.bundle.json",
        ],
        Some(&state),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = kubelab_in(
        &root(),
        &["confidence", "--self-rating", "1,3,5,2,4"],
        Some(&state),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("confidence", r.stdout);
    let j = kubelab_in(
        &root(),
        &[
            "--output",
            "json",
            "confidence",
            "--self-rating",
            "1,3,5,2,4",
        ],
        Some(&state),
    );
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    let s = &v["statements"];
    assert_eq!(s[1]["id"], "designing-parallel-jobs");
    // One of its four exercises (image-processor) passed on the cluster: 1 + 4 x 1/4.
    assert_eq!(s[1]["evidence"], 2);
    assert_eq!(s[1]["calibration"], "calibrated");
    assert!(
        !s[1]["practice"].to_string().contains("image-processor"),
        "passed exercises are not to redo"
    );
    assert_eq!(s[2]["calibration"], "overconfident");
    assert!(
        s[2]["practice"]
            .to_string()
            .contains("dynamic-workload (not attempted)")
    );
    let bad = kubelab_in(
        &root(),
        &["confidence", "--self-rating", "1,2"],
        Some(&state),
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("this unit has 5 statements"));
}

#[test]
fn quiz_answers_are_graded_with_explanations() {
    let r = kubelab(&[
        "check",
        "self-assessment",
        "--file",
        "units/03-parallel-processing/self-assessment/answers.yaml",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.yaml");
    std::fs::write(&answers, "images-parallelism: 16\nimages-duration: 90s\nqueries-limit: CPU\nfiles-paralelism: 3\nfiles-doubling: yes\n").unwrap();
    let r = kubelab(&[
        "check",
        "self-assessment",
        "--file",
        answers.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    let stdout = r.stdout.replace(answers.to_str().unwrap(), "answers.yaml");
    insta::assert_snapshot!("quiz_wrong_answers", stdout);
    assert!(
        stdout.contains("you answered 90s (accepted"),
        "durations count as seconds"
    );
    assert!(stdout.contains("did you mean `files-parallelism`?"));
    let r = kubelab(&["check", "self-assessment"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a quiz"), "{}", r.stderr);
}

#[test]
fn every_exercise_and_the_unit_render() {
    let list = kubelab(&["--output", "json", "list"]);
    let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let ids: Vec<String> = v["units"][0]["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 11);
    for id in &ids {
        let r = kubelab(&["show", id]);
        assert_eq!(r.code, 0, "{id}: {}", r.stderr);
        assert!(
            r.stdout.contains("What is checked") || r.stdout.contains("quiz"),
            "{id}"
        );
    }
    let unit = kubelab(&["show", "--unit", "parallel-processing"]);
    assert_eq!(unit.code, 0);
    assert!(unit.stdout.contains("Before you start, think about"));
    assert!(
        unit.stdout
            .contains("I can explain the difference between parallelism and completions.")
    );
}

/// `deploy/`'s RBAC is what `kubelab rbac` derives from the course: reading exactly the kinds
/// the exercises judge; Secrets only in a namespaced Role, never in the grader's ClusterRole.
#[test]
fn deploy_rbac_is_generated_from_the_course() {
    let dir = tempfile::tempdir().unwrap();
    let r = kubelab(&["rbac", "--write", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut written = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let shipped = std::fs::read_to_string(root().join("deploy").join(&name))
            .unwrap_or_else(|_| panic!("deploy/{name} is missing: kubelab rbac --write deploy"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            shipped,
            "deploy/{name} is stale: kubelab rbac --write deploy"
        );
        written += 1;
    }
    assert_eq!(
        written, 4,
        "reader, grader, the grader's Secrets Role and the class admin's ClusterRole"
    );
    let grader = std::fs::read_to_string(root().join("deploy/kubelab-grader.yaml")).unwrap();
    let cluster_role = grader.split("---").next().unwrap();
    assert!(!cluster_role.contains("secrets"), "{cluster_role}");
    for kind in [
        "deployments",
        "replicasets",
        "cronjobs",
        "endpointslices",
        "configmaps",
    ] {
        assert!(
            cluster_role.contains(kind),
            "the grader reads {kind}: {cluster_role}"
        );
    }
    let secrets =
        std::fs::read_to_string(root().join("deploy/kubelab-grader-secrets.yaml")).unwrap();
    assert!(
        secrets.contains("kind: Role\n") && secrets.contains("\"secrets\""),
        "{secrets}"
    );
}

/// kubectl users type `-o json` by habit: `-o` is `--output` on every command.
#[test]
fn dash_o_is_the_output_format_everywhere() {
    let bundle = "units/03-parallel-processing/image-processor/sample.bundle.json";
    let r = kubelab(&["check", "image-processor", "-o", "json", "--from", bundle]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(report["exercise"], "image-processor");
    let r = kubelab(&["-o", "json", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.stdout).is_ok(),
        "{}",
        r.stdout
    );
    // A file name after `-o` (kubectl's habit again) is told where it goes.
    let r = kubelab(&["collect", "image-processor", "-o", "work.bundle.json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("invalid value 'work.bundle.json' for '--output <OUTPUT>'")
            && r.stderr.contains("to write to a file, give `--out`"),
        "{}",
        r.stderr
    );
    let r = kubelab(&["collect", "image-processor", "-o", "yaml"]);
    assert!(
        !r.stderr.contains("--out`"),
        "not a file name: {}",
        r.stderr
    );
}

/// Ten checks and two grade runs at once, all writing: every check's verdict is in the
/// progress file (the lock), and the grade outputs are whole and what one run alone writes.
#[test]
fn concurrent_writers_lose_nothing_and_mix_nothing() {
    let mut refs = Vec::new();
    for unit in std::fs::read_dir(root().join("units")).unwrap() {
        for ex in std::fs::read_dir(unit.unwrap().path())
            .into_iter()
            .flatten()
        {
            let dir = ex.unwrap().path();
            let text = std::fs::read_to_string(dir.join("exercise.yaml")).unwrap_or_default();
            if dir.join("reference.yaml").is_file() && !text.contains("kind: quiz") {
                refs.push(dir);
            }
        }
    }
    refs.sort();
    refs.truncate(10);
    assert_eq!(refs.len(), 10);
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state.json");
    let hand_ins = tmp.path().join("hand-ins/alice");
    std::fs::create_dir_all(&hand_ins).unwrap();
    std::fs::copy(
        root().join("units/03-parallel-processing/image-processor/sample.bundle.json"),
        hand_ins.join("image-processor.json"),
    )
    .unwrap();
    let grade = |out: &std::path::Path| {
        let (h, o) = (
            tmp.path().join("hand-ins").display().to_string(),
            out.display().to_string(),
        );
        let args = ["grade", "image-processor", "--bundles", &h, "--out", &o];
        common::kubelab_env(&root(), &args, Some(&state), &[])
    };
    std::thread::scope(|s| {
        let mut runs = Vec::new();
        for dir in &refs {
            let state = &state;
            runs.push(s.spawn(move || {
                let id = dir.file_name().unwrap().to_string_lossy().into_owned();
                let file = dir.join("reference.yaml").display().to_string();
                kubelab_in(&root(), &["check", &id, "--file", &file], Some(state))
            }));
        }
        for _ in 0..2 {
            runs.push(s.spawn(|| grade(&tmp.path().join("shared-out"))));
        }
        for r in runs {
            let r = r.join().unwrap();
            assert!(r.code <= 1, "{}{}", r.stdout, r.stderr);
        }
    });
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let recorded = saved["exercises"].as_object().unwrap();
    for dir in &refs {
        let id = dir.file_name().unwrap().to_string_lossy();
        assert!(recorded.contains_key(id.as_ref()), "{id} lost from {saved}");
    }
    let alone = tmp.path().join("alone");
    assert_eq!(grade(&alone).code, 0);
    for name in ["gradebook.csv", "gradebook.json", "junit.xml"] {
        assert_eq!(
            std::fs::read(tmp.path().join("shared-out").join(name)).unwrap(),
            std::fs::read(alone.join(name)).unwrap(),
            "{name}"
        );
    }
}
