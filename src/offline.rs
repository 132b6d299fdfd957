//! The offline path: a learner's manifest (one or many objects, of any kinds) is parsed,
//! validated (each object against its kind's schema, the API server's rules, shell lint, and
//! the mistakes between objects), matched to the exercise's targets and judged by the same
//! assertions the cluster is judged by. A Secret's values are hidden before anything is judged
//! or shown.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::check::{Evidence, Found, Mode};
use crate::course::Exercise;
use crate::error::{Diagnostic, Error};
use crate::manifest::{self, Finding, Object, Severity};
use crate::snapshot::REDACTED;
use crate::target::TargetRef;
use crate::verdict::CheckReport;
use crate::yaml::Source;

/// Checks one manifest file against one exercise.
pub fn check(exercise: &Exercise, source: &Source) -> Result<CheckReport, Error> {
    let objects = manifest::parse(source)?;
    let redactor = manifest::secret_values(objects.iter().map(|o| &o.json));
    let mut findings = manifest::validate(source, &objects);
    findings.extend(manifest::relations::check(source, &objects));
    if !exercise.file.shell_lint {
        findings.retain(|f| f.category != "shell");
    }
    if !redactor.is_empty() {
        for f in &mut findings {
            f.diagnostic.message = redactor.scrub(&f.diagnostic.message);
        }
    }
    let targets = match_targets(exercise, source, &objects, &mut findings)?;
    let default = exercise
        .targets()
        .first()
        .map(|t| t.key.clone())
        .unwrap_or_default();
    let evidence = Evidence::offline(default, targets);
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

/// A Secret as the API server keeps it (`stringData` merged into `data`), its values hidden:
/// what judging sees, offline as live.
fn without_values(o: &Object) -> Json {
    let mut j = o.json.clone();
    if o.kind != "Secret" {
        return j;
    }
    let mut data = serde_json::Map::new();
    for field in ["data", "stringData"] {
        for k in j
            .get(field)
            .and_then(Json::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            data.insert(k.clone(), Json::String(REDACTED.into()));
        }
    }
    if let Some(m) = j.as_object_mut() {
        m.remove("stringData");
        m.insert("data".into(), Json::Object(data));
    }
    j
}

fn labels(o: &Object) -> Option<&Json> {
    o.json.pointer("/metadata/labels")
}

/// Finds each target of the exercise in the manifest.
fn match_targets(
    exercise: &Exercise,
    source: &Source,
    objects: &[Object],
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, Found>, Error> {
    let targets = exercise.targets();
    let mut out = BTreeMap::new();
    too_many_jobs(exercise, source, objects)?;
    for t in targets {
        let mine: Vec<&Object> = objects
            .iter()
            .filter(|o| t.matches(&o.api_version, &o.kind, o.name.as_deref(), labels(o)))
            .collect();
        let found = if mine.is_empty() {
            misnamed(t, targets, source, objects, findings)
                .map(|o| vec![without_values(o)])
                .unwrap_or_default()
        } else {
            mine.iter().map(|o| without_values(o)).collect()
        };
        if !found.is_empty() {
            out.insert(
                t.key.clone(),
                Found {
                    objects: found,
                    selection: t.selector.is_some(),
                    aliases: Vec::new(),
                },
            );
        }
    }
    if out.is_empty() && !targets.is_empty() {
        let kinds: Vec<String> = objects
            .iter()
            .map(|o| crate::text::clean(&o.label()))
            .collect();
        let mut d = Diagnostic::file(
            &source.name,
            format!(
                "holds nothing exercise `{}` judges (found: {}); it expects {}",
                exercise.id(),
                kinds.join(", "),
                describe_targets(targets)
            ),
        )
        .with_help(format!("write {} in this file", describe_targets(targets)));
        if let Some(first) = objects.first() {
            d = d.at_pos(first.node.locate("/kind")).field("kind");
        }
        return Err(Error::input(d));
    }
    Ok(out)
}

/// The one object of a named target's kind, under another name: judged, and the name said
/// wrong, because the live check finds it by its name.
fn misnamed<'a>(
    t: &TargetRef,
    targets: &[TargetRef],
    source: &Source,
    objects: &'a [Object],
    findings: &mut Vec<Finding>,
) -> Option<&'a Object> {
    let name = t.name.as_deref()?;
    let same_kind: Vec<&Object> = objects.iter().filter(|o| o.kind == t.kind.kind).collect();
    let targets_of_kind = targets
        .iter()
        .filter(|x| x.kind.kind == t.kind.kind)
        .count();
    let ([one], 1) = (same_kind.as_slice(), targets_of_kind) else {
        return None;
    };
    findings.push(Finding {
        severity: Severity::Error,
        category: "api-rule",
        diagnostic: Diagnostic::file(
            &source.name,
            format!(
                "the {kind} is named `{}`; this exercise's {kind} must be named `{name}`",
                one.name.as_deref().unwrap_or(""),
                kind = t.kind.kind
            ),
        )
        .at_pos(one.node.locate("/metadata/name"))
        .field("metadata.name")
        .with_help(format!(
            "the live check finds the {} by its name",
            t.kind.kind
        )),
    });
    Some(one)
}

/// More Jobs than the exercise judges, in one file: which one is the learner's answer?
fn too_many_jobs(exercise: &Exercise, source: &Source, objects: &[Object]) -> Result<(), Error> {
    let targets: Vec<&TargetRef> = exercise
        .targets()
        .iter()
        .filter(|t| t.kind.kind == "Job")
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = targets.iter().filter_map(|t| t.name.as_deref()).collect();
    let jobs: Vec<&Object> = objects.iter().filter(|o| o.kind == "Job").collect();
    let extra: Vec<&&Object> = jobs
        .iter()
        .filter(|j| !j.name.as_deref().is_some_and(|n| names.contains(&n)))
        .collect();
    if jobs.len() > names.len().max(1) || (!extra.is_empty() && jobs.len() > 1) {
        let listed: Vec<String> = jobs.iter().map(|j| j.label()).collect();
        let owned: Vec<TargetRef> = targets.into_iter().cloned().collect();
        return Err(Error::input(
            Diagnostic::file(
                &source.name,
                format!(
                    "holds {} Jobs ({}); exercise `{}` expects {}",
                    jobs.len(),
                    listed.join(", "),
                    exercise.id(),
                    describe_targets(&owned)
                ),
            )
            .at_pos(extra.first().map_or(jobs[0].node.pos, |j| j.node.pos))
            .with_help(
                "keep only the exercise's Job in this file; put other Jobs in their own files",
            ),
        ));
    }
    Ok(())
}

/// "one Job named `x`", "a Deployment named `web` and a Service named `web`".
fn describe_targets(targets: &[TargetRef]) -> String {
    let one = |t: &TargetRef| match (&t.name, &t.selector_text) {
        (Some(n), _) => format!("{} named `{n}`", article(&t.kind.kind)),
        (None, Some(s)) => match t.count {
            Some(c) => format!("{c} {}s labelled `{s}`", t.kind.kind),
            None => format!("{}s labelled `{s}`", t.kind.kind),
        },
        _ => t.kind.kind.clone(),
    };
    match targets {
        [t] if t.kind.kind == "Job" => {
            format!("one Job named `{}`", t.name.as_deref().unwrap_or(""))
        }
        many if many.iter().all(|t| t.kind.kind == "Job") => format!(
            "the Jobs {}",
            many.iter()
                .map(|t| format!("`{}`", t.name.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        many => {
            let parts: Vec<String> = many.iter().map(one).collect();
            match parts.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            }
        }
    }
}

fn article(kind: &str) -> String {
    let vowel = kind.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {kind}", if vowel { "an" } else { "a" })
}
