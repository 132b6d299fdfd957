//! `kubelab lint`: proves the course itself. Loading already checks every file against its
//! schema and compiles every check; lint adds that each reference manifest passes its own
//! exercise's offline checks (schema, API rules, shell lint, static assertions), and that
//! each recorded run (`samples`) still judges as it says.

use std::path::Path;

use serde::Serialize;

use crate::check::Status;
use crate::error::{Diagnostic, Error};
use crate::manifest::Severity;
use crate::yaml::Source;

use crate::course::Course;
use crate::model::Sample;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub units: usize,
    pub exercises: usize,
    pub references: usize,
    /// Recorded runs shown on the course site, judged again.
    pub samples: usize,
    pub checks: usize,
    pub assertions: usize,
}

pub fn lint(root: &Path) -> Result<Summary, Error> {
    let course = Course::load(root)?;
    let mut diags = Vec::new();
    let mut references = 0;
    let mut samples = 0;
    for ex in course.exercises() {
        for rel in &ex.file.reference {
            if let Some((shown, full)) = ex.file_path(&course.root, rel) {
                references += 1;
                diags.extend(lint_reference(ex, &shown, &full));
            }
        }
        for sample in &ex.file.samples {
            samples += 1;
            diags.extend(lint_sample(&course, ex, sample));
        }
    }
    if !diags.is_empty() {
        return Err(Error::Input(diags));
    }
    Ok(Summary {
        units: course.units.len(),
        exercises: course.exercises().count(),
        references,
        samples,
        checks: course.checks.len(),
        assertions: course.exercises().map(|e| e.assertions.len()).sum(),
    })
}

/// A reference manifest must pass every offline check of its exercise.
fn lint_reference(ex: &crate::course::Exercise, shown: &str, full: &Path) -> Vec<Diagnostic> {
    let source = match Source::read(full, shown.to_owned()) {
        Ok(s) => s,
        Err(e) => return e.diagnostics(),
    };
    let checked = if ex.file.kind == crate::model::ExerciseKind::Quiz {
        crate::quiz::check(ex, &source)
    } else {
        crate::offline::check(ex, &source)
    };
    let report = match checked {
        Ok(r) => r,
        Err(e) => return e.diagnostics(),
    };
    let mut diags: Vec<Diagnostic> = report
        .findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.diagnostic)
        .collect();
    for v in report.assertions {
        if v.status == Status::Fail {
            diags.push(
                Diagnostic::file(
                    shown,
                    format!(
                        "the reference fails its own assertion `{}`: {}",
                        v.id, v.message
                    ),
                )
                .with_help(format!("fix the reference or the assertion in {}", ex.path)),
            );
        }
    }
    diags
}

/// A recorded run must be intact, of this exercise, and judged as its `passes` says: the
/// site shows it as what a correct (or an instructive failing) run looks like.
fn lint_sample(course: &Course, ex: &crate::course::Exercise, sample: &Sample) -> Vec<Diagnostic> {
    let Some((shown, full)) = ex.file_path(&course.root, &sample.bundle) else {
        return vec![
            Diagnostic::file(
                &ex.path,
                format!("sample `{}` is outside the exercise folder", sample.bundle),
            )
            .field("samples"),
        ];
    };
    let rerecord = "record it again on a cluster with `book/record-samples.sh EXERCISE`";
    let bundle = match crate::bundle::read_bundle(&full) {
        Ok(b) => b,
        Err(Error::Io { source, .. }) => {
            return vec![
                Diagnostic::file(&shown, format!("the recorded run cannot be read: {source}"))
                    .with_help(rerecord),
            ];
        }
        Err(e) => return e.diagnostics(),
    };
    let problem = if !crate::bundle::intact(&bundle) {
        Some("was edited after it was collected (its digest does not match)".to_owned())
    } else if bundle.exercise != ex.id() {
        Some(format!("was collected for exercise `{}`", bundle.exercise))
    } else {
        let report = crate::live::judge(ex, &bundle.snapshot, shown.clone());
        let full_points = report.score.failed == 0
            && report.score.skipped == 0
            && report.score.earned == ex.file.points;
        match (sample.passes, full_points) {
            (true, false) => Some(format!(
                "no longer passes with full points ({} of {}; failing: {})",
                crate::report::fmt_points(report.score.earned),
                ex.file.points,
                report
                    .assertions
                    .iter()
                    .filter(|v| v.status != Status::Pass)
                    .map(|v| v.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (false, true) => Some(
                "passes with full points, but `passes: false` says it shows a failure".to_owned(),
            ),
            _ => None,
        }
    };
    problem
        .map(|p| {
            vec![
                Diagnostic::file(&shown, format!("the recorded run {p}"))
                    .with_help(format!("{rerecord}, or fix {}", ex.path)),
            ]
        })
        .unwrap_or_default()
}
