//! The unit's confidence check: each statement is scored 1-5 from the evidence (the learner's
//! latest results on the exercises mapped to it), compared with the learner's own rating, with
//! practice suggestions for anything below 3.

use std::fmt::Write as _;
use std::io::{BufRead, Write};

use colored::Colorize;
use serde::Serialize;

use crate::course::Unit;
use crate::error::Error;
use crate::report::fmt_points;
use crate::state::State;

#[derive(Debug, Serialize)]
pub struct StatementScore {
    pub id: String,
    pub statement: String,
    /// 1-5 from the evidence; `None` when no exercise gives evidence for it.
    pub evidence: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_rating: Option<u8>,
    /// `calibrated`, `overconfident`, `underconfident`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<&'static str>,
    /// Exercises to redo, with why.
    pub practice: Vec<String>,
}

/// Scores a unit's statements from the state's latest results.
pub fn score(unit: &Unit, state: &State, ratings: &[Option<u8>]) -> Vec<StatementScore> {
    unit.file
        .confidence
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let exercises: Vec<_> = unit
                .exercises
                .iter()
                .filter(|e| e.file.evidence.contains(&c.id))
                .collect();
            let mut total = 0.0;
            let mut practice = Vec::new();
            for e in &exercises {
                let progress = state.exercises.get(e.id());
                let last = progress.and_then(|p| p.last_live.as_ref().or(p.last.as_ref()));
                let ratio = last.map_or(0.0, |l| l.earned / f64::from(e.file.points.max(1)));
                total += ratio.min(1.0);
                match last {
                    None => practice.push(format!("{} (not attempted)", e.id())),
                    Some(l) if ratio < 0.999 => practice.push(format!(
                        "{} ({}/{} points, {})",
                        e.id(),
                        fmt_points(l.earned),
                        e.file.points,
                        if l.mode == crate::verdict::Mode::Live {
                            "on the cluster"
                        } else {
                            "offline only"
                        }
                    )),
                    Some(_) => {}
                }
            }
            let evidence = (!exercises.is_empty())
                .then(|| 1 + (4.0 * total / exercises.len() as f64).round() as u8);
            let self_rating = ratings.get(i).copied().flatten();
            let calibration = match (evidence, self_rating) {
                (Some(e), Some(s)) if s >= e + 2 => Some("overconfident"),
                (Some(e), Some(s)) if e >= s + 2 => Some("underconfident"),
                (Some(_), Some(_)) => Some("calibrated"),
                _ => None,
            };
            let low = evidence.is_some_and(|e| e < 3) || self_rating.is_some_and(|s| s < 3);
            StatementScore {
                id: c.id.clone(),
                statement: c.statement.clone(),
                evidence,
                self_rating,
                calibration,
                practice: if low { practice } else { Vec::new() },
            }
        })
        .collect()
}

/// `4,3,5,2,4`; blanks are allowed (`4,,5`).
pub fn parse_ratings(text: &str, count: usize) -> Result<Vec<Option<u8>>, Error> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() != count {
        return Err(Error::Usage(format!(
            "--self-rating has {} value(s); this unit has {count} statements",
            parts.len()
        )));
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if p.is_empty() {
                return Ok(None);
            }
            match p.parse::<u8>() {
                Ok(n @ 1..=5) => Ok(Some(n)),
                _ => Err(Error::Usage(format!(
                    "--self-rating value {} is `{p}`; ratings are 1 to 5",
                    i + 1
                ))),
            }
        })
        .collect()
}

pub fn ask(unit: &Unit) -> Vec<Option<u8>> {
    let stdin = std::io::stdin();
    let mut out = Vec::new();
    eprintln!("Rate each statement from 1 (not at all) to 5 (completely); Enter skips.");
    for c in &unit.file.confidence {
        loop {
            eprint!("  {} [1-5]: ", c.statement);
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
                out.push(None);
                break;
            }
            match line.trim() {
                "" => {
                    out.push(None);
                    break;
                }
                t => match t.parse::<u8>() {
                    Ok(n @ 1..=5) => {
                        out.push(Some(n));
                        break;
                    }
                    _ => eprintln!("  please answer 1 to 5"),
                },
            }
        }
    }
    out
}

pub fn render(unit: &Unit, scores: &[StatementScore]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        format!(
            "Confidence check: Unit {}, {}",
            unit.file.number, unit.file.title
        )
        .bold()
    );
    for s in scores {
        let evidence = s
            .evidence
            .map_or("no evidence".to_owned(), |e| format!("evidence {e}/5"));
        let rating = s
            .self_rating
            .map_or(String::new(), |r| format!(", you said {r}/5"));
        let _ = writeln!(out, "\n  {}", s.statement);
        let _ = write!(out, "    {evidence}{rating}");
        match s.calibration {
            Some("overconfident") => {
                let _ = write!(
                    out,
                    ": {}",
                    "you rate yourself higher than your results show".yellow()
                );
            }
            Some("underconfident") => {
                let _ = write!(out, ": {}", "your results are better than you think".cyan());
            }
            _ => {}
        }
        let _ = writeln!(out);
        if !s.practice.is_empty() {
            let _ = writeln!(out, "    practise again: {}", s.practice.join("; "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_validated() {
        assert_eq!(
            parse_ratings("4,3,5", 3).unwrap(),
            vec![Some(4), Some(3), Some(5)]
        );
        assert_eq!(
            parse_ratings("4,,5", 3).unwrap(),
            vec![Some(4), None, Some(5)]
        );
        assert!(parse_ratings("4,3", 3).is_err());
        assert!(parse_ratings("4,9,1", 3).is_err());
    }
}
