//! `kubelab check EXERCISE --file`: the offline judge, run as a process on real files.

mod common;

use common::{kubelab, root};

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
        ("alias-bomb.yaml", "aliases expand beyond kubelab's limits"),
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

/// Mistakes between the objects of one file, and the API server's rules for workloads, are
/// caught before anything is applied, each at its file, line and column, in the server's words
/// where the server would refuse it.
#[test]
fn cross_object_mistakes_are_caught_before_apply() {
    let cases = [
        (
            "service-selects-nothing",
            "service-endpoints",
            "33:3",
            "relation",
            "the Service's selector app=wbe matches no pod template in this file (Deployment/web has app=web)",
        ),
        (
            "service-target-port-unnamed",
            "service-endpoints",
            "38:7",
            "relation",
            "targetPort `web` names no container port of the pods it selects",
        ),
        (
            "configmap-key-missing",
            "configuration",
            "41:15",
            "relation",
            "ConfigMap `app-config` in this file has no key `GREETING` (it has: color, greeting)",
        ),
        (
            "deployment-selector-mismatch",
            "first-deployment",
            "15:7",
            "api-rule",
            "Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
        ),
        (
            "deployment-restart-never",
            "first-deployment",
            "18:7",
            "api-rule",
            "Unsupported value: \"Never\": supported values: \"Always\"",
        ),
        (
            "cronjob-four-fields",
            "cronjob",
            "7:3",
            "api-rule",
            "Invalid value: \"0 0 * *\": expected exactly 5 fields, found 4: [0 0 * *]",
        ),
        (
            "probe-port-unnamed",
            "probes",
            "30:15",
            "relation",
            "the livenessProbe checks port `healthz`, which container `kuard` does not name",
        ),
    ];
    for (file, exercise, at, category, says) in cases {
        let path = format!("tests/fixtures/manifests/{file}.yaml");
        let r = kubelab(&["--output", "json", "check", exercise, "--file", &path]);
        assert_eq!(r.code, 1, "{file}: {}", r.stdout);
        let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let found = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["message"].as_str().is_some_and(|m| m.contains(says)));
        let f = found.unwrap_or_else(|| panic!("{file}: no finding saying {says:?}: {}", r.stdout));
        assert_eq!(f["severity"], "error", "{file}");
        assert_eq!(f["category"], category, "{file}");
        assert_eq!(format!("{}:{}", f["line"], f["column"]), at, "{file}");
    }
    // A valid schedule that never fires is advice, not an error.
    let r = kubelab(&[
        "--output",
        "json",
        "check",
        "cronjob",
        "--file",
        "tests/fixtures/manifests/cronjob-never-fires.yaml",
    ]);
    assert!(
        r.stdout.contains("is valid but never fires"),
        "{}",
        r.stdout
    );
    let human = kubelab(&[
        "check",
        "service-endpoints",
        "--file",
        "tests/fixtures/manifests/service-selects-nothing.yaml",
    ]);
    insta::assert_snapshot!("service_selects_nothing", human.stdout);
}

/// A file of several objects of several kinds is matched to the exercise's targets by kind and
/// name (a Deployment and a Service may share a name), each checked against its own schema.
#[test]
fn several_kinds_in_one_file_are_each_matched_and_checked() {
    let r = kubelab(&[
        "check",
        "service-endpoints",
        "--file",
        "units/04-running-applications/service-endpoints/reference.yaml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("✓ two-replicas") && r.stdout.contains("✓ port-by-name"),
        "{}",
        r.stdout
    );
    // A misspelt field in the second object is found in it, at its line.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        root().join("units/04-running-applications/service-endpoints/reference.yaml"),
    )
    .unwrap()
    .replace(
        "  selector:\n    app: web\n  ports:",
        "  selectr:\n    app: web\n  ports:",
    );
    let bad = dir.path().join("web.yaml");
    std::fs::write(&bad, text).unwrap();
    let r = kubelab(&[
        "check",
        "service-endpoints",
        "--file",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("spec.selectr: unknown field; did you mean spec.selector?"),
        "{}",
        r.stdout
    );
}
