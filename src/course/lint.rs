//! `kubelab lint`: proves the course itself. Loading already checks every file against its
//! schema and compiles every check; lint adds that each reference manifest passes its own
//! exercise's offline checks (schema, API rules, shell lint, static assertions).

use std::path::Path;

use serde::Serialize;

use crate::check::Status;
use crate::error::{Diagnostic, Error};
use crate::manifest::Severity;
use crate::yaml::Source;

use super::Course;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub units: usize,
    pub exercises: usize,
    pub references: usize,
    pub checks: usize,
    pub assertions: usize,
}

pub fn lint(root: &Path) -> Result<Summary, Error> {
    let course = Course::load(root)?;
    let mut diags = Vec::new();
    let mut references = 0;
    for ex in course.exercises() {
        for rel in &ex.file.reference {
            let Some((shown, full)) = ex.file_path(&course.root, rel) else {
                continue;
            };
            references += 1;
            let source = match Source::read(&full, shown.clone()) {
                Ok(s) => s,
                Err(e) => {
                    diags.extend(e.diagnostics());
                    continue;
                }
            };
            let checked = if ex.file.kind == super::model::ExerciseKind::Quiz {
                crate::quiz::check(ex, &source)
            } else {
                crate::offline::check(ex, &source)
            };
            let report = match checked {
                Ok(r) => r,
                Err(e) => {
                    diags.extend(e.diagnostics());
                    continue;
                }
            };
            for f in report.findings {
                if f.severity == Severity::Error {
                    diags.push(f.diagnostic);
                }
            }
            for v in report.assertions {
                if v.status == Status::Fail {
                    diags.push(
                        Diagnostic::file(
                            &shown,
                            format!(
                                "the reference fails its own assertion `{}`: {}",
                                v.id, v.message
                            ),
                        )
                        .with_help(format!("fix the reference or the assertion in {}", ex.path)),
                    );
                }
            }
        }
    }
    if !diags.is_empty() {
        return Err(Error::Input(diags));
    }
    Ok(Summary {
        units: course.units.len(),
        exercises: course.exercises().count(),
        references,
        checks: course.checks.len(),
        assertions: course.exercises().map(|e| e.assertions.len()).sum(),
    })
}
