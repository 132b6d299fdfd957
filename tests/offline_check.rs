//! `kubelab check EXERCISE --file`: the offline judge, run as a process on real files.

mod common;

use common::kubelab;

const REF: &str = "units/03-parallel-processing/image-processor/reference.yaml";
const M: &str = "tests/fixtures/manifests";

fn check(exercise: &str, file: &str) -> common::Run {
    kubelab(&["check", exercise, "--file", file])
}

#[test]
fn reference_passes_human_and_json() {
    let r = check("image-processor", REF);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    insta::assert_snapshot!("reference_human", r.stdout);
    let j = kubelab(&[
        "--output",
        "json",
        "check",
        "image-processor",
        "--file",
        REF,
    ]);
    assert_eq!(j.code, 0);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["kubelab"], 1);
    insta::assert_json_snapshot!("reference_json", v);
}

#[test]
fn misspelt_field_is_found_with_suggestion() {
    let r = check("image-processor", &format!("{M}/misspelt-field.yaml"));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(
        "misspelt-field.yaml:10:3: spec.parallelizm: unknown field; did you mean spec.parallelism?"
    ));
    insta::assert_snapshot!("misspelt_human", r.stdout);
    let j = kubelab(&[
        "--output",
        "json",
        "check",
        "image-processor",
        "--file",
        &format!("{M}/misspelt-field.yaml"),
    ]);
    assert_eq!(j.code, 1);
    insta::assert_json_snapshot!(
        "misspelt_json",
        serde_json::from_str::<serde_json::Value>(&j.stdout).unwrap()
    );
}

#[test]
fn seed_dynamic_workload_fails_with_the_busybox_explanation() {
    let r = check(
        "dynamic-workload",
        "units/03-parallel-processing/dynamic-workload/given.yaml",
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("given.yaml:20:11"), "{}", r.stdout);
    assert!(r.stdout.contains("sh: syntax error: unexpected \"(\""));
    insta::assert_snapshot!("dynamic_workload_seed_human", r.stdout);
    let j = kubelab(&[
        "--output",
        "json",
        "check",
        "dynamic-workload",
        "--file",
        "units/03-parallel-processing/dynamic-workload/given.yaml",
    ]);
    insta::assert_json_snapshot!(
        "dynamic_workload_seed_json",
        serde_json::from_str::<serde_json::Value>(&j.stdout).unwrap()
    );
    let fixed = check(
        "dynamic-workload",
        "units/03-parallel-processing/dynamic-workload/reference.yaml",
    );
    assert_eq!(fixed.code, 0, "{}", fixed.stdout);
}

#[test]
fn computed_values_appear_in_failures() {
    let r = check("image-processor", &format!("{M}/too-parallel.yaml"));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("parallelism is 6; this exercise allows at most 4 workers at once")
    );
}

#[test]
fn closed_enums_and_api_rules() {
    let r = check("image-processor", &format!("{M}/bad-enums.yaml"));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(
        "spec.completionMode: \"Random\" is not allowed; valid values: \"NonIndexed\", \"Indexed\""
    ));
    assert!(
        r.stdout
            .contains("spec.template.spec.restartPolicy: \"Sometimes\" is not allowed")
    );
    let r = check("image-processor", &format!("{M}/restartpolicy-always.yaml"));
    assert_eq!(r.code, 1);
    // The API server's own words (../shared/fixtures/k8s-1.24/errors/apply-restartpolicy-always.txt).
    assert!(
        r.stdout
            .contains("Required value: valid values: \"OnFailure\", \"Never\"")
    );
    let r = check("image-processor", &format!("{M}/parallelism-string.yaml"));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("spec.parallelism: expected integer, found \"four\"")
    );
}

#[test]
fn bad_input_files_are_clear_errors() {
    let cases = [
        ("malformed.yaml", "malformed.yaml:6:13: invalid YAML"),
        ("empty.yaml", "holds no Kubernetes object"),
        (
            "not-k8s.yaml",
            "document 1 is not a Kubernetes object: it has no `apiVersion` or `kind`",
        ),
        (
            "several-jobs.yaml",
            "holds 2 Jobs (Job/image-processor, Job/image-processor-2)",
        ),
        ("alias-bomb.yaml", "expands beyond kubelab's limits"),
    ];
    for (file, expected) in cases {
        let r = check("image-processor", &format!("{M}/{file}"));
        assert_eq!(r.code, 2, "{file}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(expected), "{file}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{file}");
    }
}

#[test]
fn binary_huge_and_missing_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("job.yaml");
    std::fs::write(&bin, b"apiVersion: batch/v1\n\x00\x01\x02kind: Job\n").unwrap();
    let r = check("image-processor", bin.to_str().unwrap());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a binary file"), "{}", r.stderr);

    let big = dir.path().join("big.yaml");
    let line = "# padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(50 * 1024 * 1024 / line.len());
    std::fs::write(&big, text).unwrap();
    let r = check("image-processor", big.to_str().unwrap());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("larger than the 2 MiB limit"),
        "{}",
        r.stderr
    );

    let r = check("image-processor", "no/such/file.yaml");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no/such/file.yaml"), "{}", r.stderr);

    let latin1 = dir.path().join("latin1.yaml");
    std::fs::write(&latin1, b"kind: Job\nname: caf\xe9\n").unwrap();
    let r = check("image-processor", latin1.to_str().unwrap());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("latin1.yaml:2:10: is not UTF-8 text"),
        "{}",
        r.stderr
    );
}

#[test]
fn escape_sequences_from_learner_files_are_not_echoed() {
    let r = check("image-processor", &format!("{M}/terminal-escape.yaml"));
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains('\u{1b}'), "raw ESC reached the terminal");
    assert!(!r.stdout.contains('\u{7}'));
    assert!(r.stdout.contains("invalid label value"));
}

#[test]
fn unknown_exercise_and_usage_errors() {
    let r = check("image-procesor", REF);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `image-processor`?"),
        "{}",
        r.stderr
    );
    let r = kubelab(&["check"]);
    assert_eq!(r.code, 2);
    let r = kubelab(&["--color", "sometimes", "list"]);
    assert_eq!(r.code, 2);
}

#[test]
fn json_errors_have_a_stable_shape() {
    let r = kubelab(&[
        "--output",
        "json",
        "check",
        "image-processor",
        "--file",
        &format!("{M}/not-k8s.yaml"),
    ]);
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["error"]["exit_code"], 2);
    assert_eq!(v["error"]["diagnostics"][0]["line"], 1);
    assert_eq!(
        v["error"]["diagnostics"][0]["file"],
        "tests/fixtures/manifests/not-k8s.yaml"
    );
}

#[test]
fn colour_follows_flags_and_no_color() {
    let r = kubelab(&[
        "--color",
        "always",
        "check",
        "image-processor",
        "--file",
        REF,
    ]);
    assert!(r.stdout.contains('\u{1b}'), "--color always colours");
    let r = kubelab(&["check", "image-processor", "--file", REF]);
    assert!(
        !r.stdout.contains('\u{1b}'),
        "NO_COLOR and a pipe mean no colour"
    );
}

#[test]
fn junit_output_for_pipelines() {
    let r = common::kubelab(&[
        "check",
        "image-processor",
        "-f",
        "tests/fixtures/manifests/misspelt-field.yaml",
        "--output",
        "junit",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = roxmltree::Document::parse(&r.stdout).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "schema tests/fixtures/manifests/misspelt-field.yaml:10:3",
            "parallelism-cap"
        ]
    );
    let skipped = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("skipped")))
        .count();
    assert_eq!(skipped, 4, "live assertions are skipped offline");
    let list = common::kubelab(&["list", "--output", "junit"]);
    assert_eq!(list.code, 2);
    assert!(
        list.stderr
            .contains("--output junit is for `check` and `grade`"),
        "{}",
        list.stderr
    );
}

#[test]
fn shell_completions() {
    for shell in ["bash", "zsh", "fish"] {
        let r = common::kubelab(&["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains("grade") && r.stdout.contains("--roster"),
            "{shell}"
        );
    }
}
