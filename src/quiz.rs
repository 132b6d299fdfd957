//! Quiz exercises: the learner's answers file (`question-id: answer`) graded against accepted
//! ranges or values, each with its explanation. Shares verdicts, scoring and output with checks.

use std::collections::BTreeMap;

use crate::check::{Mode, Status, Verdict, parse_duration};
use crate::course::Exercise;
use crate::error::{Diagnostic, Error};
use crate::model::Question;
use crate::verdict::CheckReport;
use crate::yaml::{self, Source};

fn answer_number(q: &Question, v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if q.unit.as_deref() == Some("seconds") => {
            parse_duration(s).ok().map(|d| d.as_secs_f64())
        }
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn describe(q: &Question) -> String {
    let unit = q
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    let show = |x: f64| {
        if q.unit.as_deref() == Some("seconds") {
            crate::text::format_seconds(x)
        } else {
            format!("{}{unit}", crate::check::expr::format_number(x))
        }
    };
    match (q.min, q.max, q.one_of.is_empty()) {
        (Some(a), Some(b), _) if a == b => show(a),
        (Some(a), Some(b), _) => format!("between {} and {}", show(a), show(b)),
        (Some(a), None, _) => format!("at least {}", show(a)),
        (None, Some(b), _) => format!("at most {}", show(b)),
        (None, None, false) => format!("one of {}", q.one_of.join(", ")),
        _ => "any answer".to_owned(),
    }
}

/// Grades an answers file.
pub fn check(exercise: &Exercise, source: &Source) -> Result<CheckReport, Error> {
    let docs = yaml::parse_with(source, yaml::Flavor::Course)?;
    let node = match docs.as_slice() {
        [one] if matches!(one.value, yaml::Value::Map(_)) => one,
        _ => {
            return Err(Error::input(
                Diagnostic::file(
                    &source.name,
                    "must be one mapping of question ids to answers",
                )
                .with_help(format!(
                    "for example:\n{}",
                    exercise
                        .file
                        .questions
                        .iter()
                        .map(|q| format!("      {}: ...", q.id))
                        .collect::<Vec<_>>()
                        .join("\n")
                )),
            ));
        }
    };
    let answers: BTreeMap<String, serde_json::Value> = match node.to_json() {
        serde_json::Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    let known: Vec<String> = exercise
        .file
        .questions
        .iter()
        .map(|q| q.id.clone())
        .collect();
    let mut findings = Vec::new();
    for key in answers.keys() {
        if !known.contains(key) {
            let mut d = Diagnostic::file(
                &source.name,
                format!("`{key}` is not a question of this quiz"),
            )
            .at_pos(node.locate(&format!("/{key}")));
            if let Some(s) = crate::schema::suggest(key, &known) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            findings.push(crate::manifest::Finding {
                severity: crate::manifest::Severity::Warning,
                category: "schema",
                diagnostic: d,
            });
        }
    }
    let verdicts = exercise
        .file
        .questions
        .iter()
        .zip(exercise.question_points.iter().copied())
        .map(|(q, points)| judge(q, points, answers.get(&q.id).filter(|v| !v.is_null())))
        .collect();
    Ok(CheckReport::new(
        &exercise.file,
        Mode::Offline,
        source.name.clone(),
        findings,
        verdicts,
    ))
}

/// One question: the answer given (if any) against the accepted ones, with the explanation.
fn judge(q: &Question, points: u32, given: Option<&serde_json::Value>) -> Verdict {
    let expected = describe(q);
    let (ok, value) = match given {
        None => (false, "nothing".to_owned()),
        Some(v) => {
            let shown = crate::check::show_value(Some(v));
            let ok = if q.min.is_some() || q.max.is_some() {
                answer_number(q, v)
                    .is_some_and(|n| q.min.is_none_or(|m| n >= m) && q.max.is_none_or(|m| n <= m))
            } else if !q.one_of.is_empty() {
                q.one_of
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(shown.trim()))
            } else {
                true
            };
            (ok, shown)
        }
    };
    let status = if ok { Status::Pass } else { Status::Fail };
    let verdict_word = if ok { "accepted" } else { "not accepted" };
    Verdict {
        id: q.id.clone(),
        status,
        message: format!(
            "{}: you answered {value} ({verdict_word}; expected {expected})",
            q.prompt.trim()
        ),
        value: Some(value),
        expected: Some(expected),
        hint: None,
        details: vec![q.explanation.trim().to_owned()],
        points,
    }
}
