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
    /// Judged, and there is no sign the learner did the work: an assertion whose evidence
    /// is an absence ("the Jobs are gone") passes only once the work shows it happened.
    /// Worth its points, none earned.
    #[serde(rename = "not-attempted")]
    NotAttempted,
}

impl Status {
    /// How the gradebook, JUnit and the dashboard name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
            Status::NotAttempted => "not attempted",
        }
    }

    /// Whether it counts towards the points possible.
    pub fn judged(self) -> bool {
        self != Status::Skipped
    }
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
    /// Whole points this assertion is worth (its share of the exercise's).
    pub points: u32,
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
    /// Points earned: the points of the assertions that passed.
    pub earned: u32,
    /// Points the judged assertions are worth.
    pub possible: u32,
    /// The exercise's full points.
    pub exercise_points: u32,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub not_attempted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One scored item's claim on its exercise's points: a weight, or whole points the author set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub weight: u32,
    pub points: Option<u32>,
}

/// Splits an exercise's `total` points into whole points per item, so they add up exactly:
/// items with points of their own keep them; the rest is shared by weight with the largest
/// remainder method (the quota's whole part each, then one more to the largest remainders,
/// the earlier item first on a tie). The error says what the author must change.
pub fn shares(total: u32, claims: &[Claim]) -> Result<Vec<u32>, String> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let fixed: u64 = claims.iter().filter_map(|c| c.points).map(u64::from).sum();
    let total64 = u64::from(total);
    if fixed > total64 {
        return Err(format!(
            "the `points` set on assertions add up to {fixed}, more than the exercise's {total}; lower them or raise the exercise's `points`"
        ));
    }
    let rest = total64 - fixed;
    let weights: u64 = claims
        .iter()
        .filter(|c| c.points.is_none())
        .map(|c| u64::from(c.weight))
        .sum();
    if rest > 0 && weights == 0 {
        return Err(format!(
            "{rest} of the exercise's {total} points go to no assertion: the `points` set add up to {fixed} and no other assertion has a weight; make them add up to {total}"
        ));
    }
    let mut out: Vec<u64> = Vec::with_capacity(claims.len());
    let mut remainders: Vec<(u64, usize)> = Vec::new();
    for (i, c) in claims.iter().enumerate() {
        match c.points {
            Some(p) => out.push(u64::from(p)),
            None => {
                let exact = rest * u64::from(c.weight);
                out.push(exact / weights.max(1));
                remainders.push((exact % weights.max(1), i));
            }
        }
    }
    let given: u64 = out.iter().sum();
    // Largest remainder first; on a tie, the earlier item.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.into_iter().take((total64 - given) as usize) {
        out[i] += 1;
    }
    Ok(out
        .into_iter()
        .map(|p| u32::try_from(p).expect("a share is at most the total"))
        .collect())
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
        let sum = |keep: fn(Status) -> bool| -> u32 {
            verdicts
                .iter()
                .filter(|v| keep(v.status))
                .map(|v| v.points)
                .sum()
        };
        let count = |s: Status| verdicts.iter().filter(|v| v.status == s).count();
        let errors = findings.iter().any(|f| f.severity == Severity::Error);
        let score = Score {
            earned: sum(|s| s == Status::Pass),
            possible: sum(Status::judged),
            exercise_points: exercise.points,
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            skipped: count(Status::Skipped),
            not_attempted: count(Status::NotAttempted),
        };
        CheckReport {
            kubelab: FORMAT_VERSION,
            exercise: exercise.id.clone(),
            title: exercise.title.clone(),
            mode,
            source,
            passed: !errors && score.failed == 0 && score.not_attempted == 0,
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

#[cfg(test)]
mod tests {
    use super::{Claim, shares};

    fn by_weight(weights: &[u32]) -> Vec<Claim> {
        weights
            .iter()
            .map(|&weight| Claim {
                weight,
                points: None,
            })
            .collect()
    }

    #[test]
    fn shares_add_up_to_the_exercise_points_exactly() {
        // 20 points over weights 1..: 20/17 each would be 1.176...; whole points instead.
        let got = shares(20, &by_weight(&[1; 17])).unwrap();
        assert_eq!(got.iter().sum::<u32>(), 20);
        assert_eq!(got[..3], [2, 2, 2]);
        assert!(got[3..].iter().all(|&p| p == 1));
        assert_eq!(shares(10, &by_weight(&[3, 2])).unwrap(), [6, 4]);
        // 7 by 1:1:1 is 2.33 each: the first gets the spare point.
        assert_eq!(shares(7, &by_weight(&[1, 1, 1])).unwrap(), [3, 2, 2]);
        // The largest remainder, not the first: 10 by 3:1:3 is 4.29, 1.43, 4.29.
        assert_eq!(shares(10, &by_weight(&[3, 1, 3])).unwrap(), [4, 2, 4]);
    }

    #[test]
    fn points_set_by_the_author_are_kept_and_the_rest_shared() {
        let claims = [
            Claim {
                weight: 1,
                points: Some(5),
            },
            Claim {
                weight: 1,
                points: None,
            },
            Claim {
                weight: 2,
                points: None,
            },
        ];
        assert_eq!(shares(11, &claims).unwrap(), [5, 2, 4]);
        let too_many = shares(4, &claims).unwrap_err();
        assert!(
            too_many.contains("add up to 5, more than the exercise's 4"),
            "{too_many}"
        );
        let all_fixed = [Claim {
            weight: 1,
            points: Some(3),
        }];
        assert!(
            shares(5, &all_fixed)
                .unwrap_err()
                .contains("2 of the exercise's 5 points go to no assertion")
        );
        assert_eq!(shares(3, &all_fixed).unwrap(), [3]);
    }
}
