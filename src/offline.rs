//! The offline path: a learner's manifest is parsed, validated (schema, API rules, shell lint),
//! matched to the exercise's targets and judged by the same assertions the cluster is judged by.

use std::collections::BTreeMap;

use crate::check::{Evidence, Mode};
use crate::course::Exercise;
use crate::error::{Diagnostic, Error};
use crate::manifest::{self, Finding, Object, Severity};
use crate::verdict::CheckReport;
use crate::yaml::Source;

/// Checks one manifest file against one exercise.
pub fn check(exercise: &Exercise, source: &Source) -> Result<CheckReport, Error> {
    let objects = manifest::parse(source)?;
    let mut findings = manifest::validate(source, &objects);
    if !exercise.file.shell_lint {
        findings.retain(|f| f.category != "shell");
    }
    let targets = match_targets(exercise, source, &objects, &mut findings)?;
    let evidence = Evidence::offline(
        exercise.target_names().first().cloned().unwrap_or_default(),
        targets,
    );
    let verdicts = exercise
        .assertions
        .iter()
        .map(|a| a.judge(&evidence))
        .collect();
    Ok(CheckReport::new(
        &exercise.file,
        Mode::Offline,
        source.name.clone(),
        findings,
        verdicts,
    ))
}

/// Finds each target Job of the exercise in the manifest.
fn match_targets(
    exercise: &Exercise,
    source: &Source,
    objects: &[Object],
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, serde_json::Value>, Error> {
    let names = exercise.target_names();
    let jobs: Vec<&Object> = objects.iter().filter(|o| o.kind == "Job").collect();
    let mut out = BTreeMap::new();
    let extra: Vec<&&Object> = jobs
        .iter()
        .filter(|j| !j.name.as_ref().is_some_and(|n| names.contains(n)))
        .collect();
    if jobs.len() > names.len().max(1) || (!extra.is_empty() && jobs.len() > 1) {
        let listed: Vec<String> = jobs.iter().map(|j| j.label()).collect();
        return Err(Error::input(
            Diagnostic::file(
                &source.name,
                format!(
                    "holds {} Jobs ({}); exercise `{}` expects {}",
                    jobs.len(),
                    listed.join(", "),
                    exercise.id(),
                    describe_targets(&names)
                ),
            )
            .at_pos(extra.first().map_or(jobs[0].node.pos, |j| j.node.pos))
            .with_help(
                "keep only the exercise's Job in this file; put other Jobs in their own files",
            ),
        ));
    }
    for name in &names {
        if let Some(job) = jobs.iter().find(|j| j.name.as_deref() == Some(name)) {
            out.insert(name.clone(), job.json.clone());
        } else if names.len() == 1 && jobs.len() == 1 {
            // One Job under another name: judge it, and say the name is wrong, because the
            // live check looks the Job up by name.
            let job = jobs[0];
            findings.push(Finding {
                severity: Severity::Error,
                category: "api-rule",
                diagnostic: Diagnostic::file(
                    &source.name,
                    format!(
                        "the Job is named `{}`; this exercise's Job must be named `{name}`",
                        job.name.as_deref().unwrap_or("")
                    ),
                )
                .at_pos(job.node.locate("/metadata/name"))
                .field("metadata.name")
                .with_help("the live check finds the Job by its name"),
            });
            out.insert(name.clone(), job.json.clone());
        }
    }
    if out.is_empty() && !names.is_empty() {
        let kinds: Vec<String> = objects.iter().map(|o| o.label()).collect();
        return Err(Error::input(
            Diagnostic::file(
                &source.name,
                format!(
                    "holds no Job for exercise `{}` (found: {}); it expects {}",
                    exercise.id(),
                    kinds.join(", "),
                    describe_targets(&names)
                ),
            )
            .with_help("write a batch/v1 Job"),
        ));
    }
    Ok(out)
}

fn describe_targets(names: &[String]) -> String {
    match names {
        [one] => format!("one Job named `{one}`"),
        many => format!(
            "the Jobs {}",
            many.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
