//! Learners' answers, judged as the course asks: every manifest in
//! `tests/fixtures/answers/<exercise>/` was run on a real Kubernetes 1.36 cluster
//! (`record.sh` there) and its bundle kept beside it. Its first line says what the judge must
//! conclude: `# expect: pass.` or `# expect: fail ID ID.` with exactly the assertions that
//! fail. The mini-projects have six correct designs and four wrong ones each.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{kubelab, root};

struct Answer {
    exercise: String,
    name: String,
    manifest: String,
    bundle: String,
    /// None: it must pass; else exactly these assertions fail.
    failing: Option<BTreeSet<String>>,
}

fn answers() -> Vec<Answer> {
    let dir = root().join("tests/fixtures/answers");
    let mut out = Vec::new();
    for ex in std::fs::read_dir(&dir).unwrap() {
        let ex = ex.unwrap().path();
        if !ex.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&ex).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            let first = text.lines().next().unwrap_or("");
            let expect = first
                .strip_prefix("# expect: ")
                .unwrap_or_else(|| panic!("{}: first line must be `# expect: ...`", f.display()));
            let verdict = expect.split('.').next().unwrap();
            let failing = verdict.strip_prefix("fail ").map(|ids| {
                ids.split_whitespace()
                    .map(str::to_owned)
                    .collect::<BTreeSet<_>>()
            });
            assert!(
                failing.is_some() || verdict == "pass",
                "{}: {first}",
                f.display()
            );
            let rel = |p: &Path| p.strip_prefix(root()).unwrap().display().to_string();
            out.push(Answer {
                exercise: ex.file_name().unwrap().to_string_lossy().into_owned(),
                name: f.file_stem().unwrap().to_string_lossy().into_owned(),
                manifest: rel(&f),
                bundle: rel(&f.with_extension("bundle.json")),
                failing,
            });
        }
    }
    out.sort_by(|a, b| (&a.exercise, &a.name).cmp(&(&b.exercise, &b.name)));
    out
}

fn failed_ids(report: &serde_json::Value) -> BTreeSet<String> {
    report["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "fail")
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_recorded_answer_is_judged_as_expected() {
    let answers = answers();
    for project in ["log-analysis", "data-validation"] {
        let of = |pass: bool| {
            answers
                .iter()
                .filter(|a| a.exercise == project && a.failing.is_none() == pass)
                .count()
        };
        assert!(
            of(true) >= 6 && of(false) >= 4,
            "{project}: {} correct, {} wrong answers",
            of(true),
            of(false)
        );
    }
    let mut wrong = Vec::new();
    for a in &answers {
        assert!(
            root().join(&a.bundle).exists(),
            "{} has no recording: run tests/fixtures/answers/record.sh {}",
            a.manifest,
            a.exercise
        );
        let r = kubelab(&[
            "check",
            &a.exercise,
            "--from",
            &a.bundle,
            "--output",
            "json",
        ]);
        let report: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}{}", a.bundle, r.stdout, r.stderr));
        let failed = failed_ids(&report);
        let expected = a.failing.clone().unwrap_or_default();
        if failed != expected || r.code != if expected.is_empty() { 0 } else { 1 } {
            let messages: Vec<String> = report["assertions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["status"] == "fail")
                .map(|x| format!("{}: {}", x["id"], x["message"]))
                .collect();
            wrong.push(format!(
                "{}/{}: expected failing {expected:?}, got {failed:?} (exit {})\n    {}",
                a.exercise,
                a.name,
                r.code,
                messages.join("\n    ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Correct answers also pass every check that can be made before applying them.
#[test]
fn correct_answers_pass_offline() {
    for a in answers().iter().filter(|a| a.failing.is_none()) {
        let r = kubelab(&["check", &a.exercise, "--file", &a.manifest]);
        assert_eq!(r.code, 0, "{}:\n{}{}", a.manifest, r.stdout, r.stderr);
    }
}
