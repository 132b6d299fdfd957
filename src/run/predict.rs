//! Predictions: asked before a run (or taken from `--predict`), compared with what was measured
//! afterwards, in words ("within 10%", "2x too high").

use std::io::{BufRead, IsTerminal, Write};

use crate::check::parse_duration;
use crate::course::Exercise;
use crate::error::Error;
use crate::facts::TargetFacts;
use crate::model::Measure;

/// A prediction and what was measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    pub question: String,
    pub predicted: String,
    pub measured: String,
    /// How far off, in words: "within 10%", "2x too high".
    pub verdict: String,
}

/// Parses `--predict` values: `ID=VALUE`, or a bare `VALUE` for the first prediction.
pub fn predictions_from_flags(
    ex: &Exercise,
    flags: &[String],
) -> Result<Vec<(String, f64)>, Error> {
    let mut out = Vec::new();
    for f in flags {
        let (id, value) = match f.split_once('=') {
            Some((id, v)) => (id.trim().to_owned(), v.trim()),
            None => match ex.file.predictions.first() {
                Some(p) => (p.id.clone(), f.trim()),
                None => return Err(Error::Usage(format!("{} asks for no predictions", ex.id()))),
            },
        };
        let Some(p) = ex.file.predictions.iter().find(|p| p.id == id) else {
            return Err(Error::Usage(format!(
                "{} has no prediction `{id}` (it has: {})",
                ex.id(),
                ex.file
                    .predictions
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        out.push((id, parse_value(p.measure, value)?));
    }
    Ok(out)
}

fn parse_value(measure: Measure, v: &str) -> Result<f64, Error> {
    match measure {
        Measure::JobDuration => parse_duration(v)
            .map(|d| d.as_secs_f64())
            .map_err(Error::Usage),
        _ => v
            .parse::<f64>()
            .map_err(|_| Error::Usage(format!("`{v}` is not a number"))),
    }
}

/// Asks each prediction on a terminal; Enter skips.
pub fn ask_predictions(ex: &Exercise) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    if ex.file.predictions.is_empty() || !std::io::stdin().is_terminal() {
        return out;
    }
    eprintln!("Predict first (Enter skips):");
    for p in &ex.file.predictions {
        loop {
            eprint!("  {} ", p.question);
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0
                || line.trim().is_empty()
            {
                break;
            }
            match parse_value(p.measure, line.trim()) {
                Ok(v) => {
                    out.push((p.id.clone(), v));
                    break;
                }
                Err(e) => eprintln!("  {e}"),
            }
        }
    }
    out
}

fn measured(measure: Measure, f: &TargetFacts) -> Option<f64> {
    let job = f.job();
    match measure {
        Measure::JobDuration => job?.duration_seconds,
        Measure::MaxActive => job.map(|j| j.max_active as f64),
        Measure::MaxRunning => job.map(|j| j.max_running as f64),
        Measure::FailedPods => job.map(|j| j.pods_failed as f64),
        Measure::Restarts => Some(f.pods().iter().map(|p| f64::from(p.restarts)).sum()),
        Measure::ReadyReplicas => match f {
            TargetFacts::Deployment(d) => Some(f64::from(d.ready)),
            other => Some(other.pods().iter().filter(|p| p.ready).count() as f64),
        },
        Measure::ReadyEndpoints => match f {
            TargetFacts::Service(s) => Some(s.ready as f64),
            _ => None,
        },
        Measure::Revisions => match f {
            TargetFacts::Deployment(d) => Some(d.revisions.len() as f64),
            _ => None,
        },
    }
}

fn show(measure: Measure, v: f64) -> String {
    match measure {
        Measure::JobDuration => crate::text::format_seconds(v),
        _ => crate::check::expr::format_number(v),
    }
}

/// Compares predictions with the facts of the exercise's first target.
pub fn compare(ex: &Exercise, predicted: &[(String, f64)], f: &TargetFacts) -> Vec<Comparison> {
    predicted
        .iter()
        .filter_map(|(id, guess)| {
            let p = ex.file.predictions.iter().find(|p| &p.id == id)?;
            let real = measured(p.measure, f)?;
            let ratio = if real > 0.0 {
                guess / real
            } else {
                f64::INFINITY
            };
            let verdict = if (guess - real).abs() < f64::EPSILON || (0.9..=1.1).contains(&ratio) {
                "spot on (within 10%)".to_owned()
            } else if ratio > 1.0 {
                format!("{:.1}x too high", ratio)
            } else {
                format!("{:.1}x too low", 1.0 / ratio.max(f64::MIN_POSITIVE))
            };
            Some(Comparison {
                question: p.question.clone(),
                predicted: show(p.measure, *guess),
                measured: show(p.measure, real),
                verdict,
            })
        })
        .collect()
}
