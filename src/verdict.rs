//! What judging produces, below every layer that makes or shows it: findings on a manifest,
//! one verdict per assertion, and the exercise's report with its score. The judge fills these
//! in; the report, the gradebook, JUnit and the book render them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::facts::TargetFacts;

/// Version of the JSON shapes; bumped only on incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// Where evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Offline,
    Live,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Offline => "offline",
            Mode::Live => "live",
        })
    }
}

/// What a verdict says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not judged here (a live assertion offline); carries no points either way.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: String,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Extra lines of evidence (which pods, which lines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    pub weight: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `schema`, `api-rule` (the API server would refuse it), `relation` (a mistake between
    /// objects, or one the kubelet meets) or `shell`.
    pub category: &'static str,
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// Points earned, to one decimal.
    pub earned: f64,
    /// Points the judged assertions are worth.
    pub possible: f64,
    /// The exercise's full points.
    pub exercise_points: u32,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// A known failure mode recognised in the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct PitfallHit {
    pub id: String,
    /// Where it was seen: `pod dynamic-workload-abcde log`, `event FailedScheduling`.
    pub seen_in: String,
    /// The matching text, cleaned.
    pub text: String,
    pub explanation: String,
}

/// The result of checking one exercise.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub kubelab: u32,
    pub exercise: String,
    pub title: String,
    pub mode: Mode,
    /// The manifest file, cluster namespace or bundle judged.
    pub source: String,
    pub passed: bool,
    pub score: Score,
    pub findings: Vec<Finding>,
    pub assertions: Vec<Verdict>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pitfalls: Vec<PitfallHit>,
    /// Derived facts per target key (live only), typed by kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<BTreeMap<String, TargetFacts>>,
    /// Informational notes (e.g. how the evidence was gathered).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Targets not there yet: their assertions are pending, not judged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
}

impl CheckReport {
    pub fn new(
        exercise: &crate::model::ExerciseFile,
        mode: Mode,
        source: String,
        findings: Vec<Finding>,
        verdicts: Vec<Verdict>,
    ) -> CheckReport {
        let judged: u32 = verdicts
            .iter()
            .filter(|v| v.status != Status::Skipped)
            .map(|v| v.weight)
            .sum();
        let won: u32 = verdicts
            .iter()
            .filter(|v| v.status == Status::Pass)
            .map(|v| v.weight)
            .sum();
        let total: u32 = exercise
            .assertions
            .iter()
            .map(|a| a.weight)
            .chain(exercise.questions.iter().map(|q| q.weight))
            .sum::<u32>()
            .max(1);
        let points = f64::from(exercise.points);
        let round = |x: f64| (x * 10.0).round() / 10.0;
        let count = |s: Status| verdicts.iter().filter(|v| v.status == s).count();
        let errors = findings.iter().any(|f| f.severity == Severity::Error);
        let score = Score {
            earned: round(points * f64::from(won) / f64::from(total)),
            possible: round(points * f64::from(judged) / f64::from(total)),
            exercise_points: exercise.points,
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            skipped: count(Status::Skipped),
        };
        CheckReport {
            kubelab: FORMAT_VERSION,
            exercise: exercise.id.clone(),
            title: exercise.title.clone(),
            mode,
            source,
            passed: !errors && score.failed == 0,
            score,
            findings,
            assertions: verdicts,
            pitfalls: Vec::new(),
            facts: None,
            notes: Vec::new(),
            pending: Vec::new(),
        }
    }

    pub fn exit_code(&self) -> i32 {
        if self.passed {
            crate::error::exit::PASSED
        } else {
            crate::error::exit::FAILED
        }
    }
}
