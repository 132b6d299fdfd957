//! The gradebook: every learner's points per exercise, down to each assertion, with the
//! flags an instructor must see (missing, late, tampered, mismatch). Built from the same
//! [`CheckReport`]s `kubelab check` prints; written by `outputs`, summed up by `summary`;
//! partial gradebooks (shards) merge into the one the whole class would have given.

use serde::{Deserialize, Serialize};

use crate::check::Status;
use crate::course::Exercise;
use crate::report::CheckReport;

/// Version of `gradebook.json`; bumped only on incompatible change.
pub const GRADEBOOK_VERSION: u32 = 2;

/// Something an instructor must look at before trusting a grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flag {
    /// No work found: no namespace, no Job, no bundle.
    Missing,
    /// Finished (or collected) after the deadline; the points are kept.
    Late,
    /// The bundle was edited after it was collected, or cannot be read.
    Tampered,
    /// The bundle is for another exercise version or another cluster than expected.
    Mismatch,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Missing => "missing",
            Flag::Late => "late",
            Flag::Tampered => "tampered",
            Flag::Mismatch => "mismatch",
        }
    }
}

/// One exercise column of the gradebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub id: String,
    pub title: String,
    pub points: u32,
}

/// One assertion's result, as `check` judged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionGrade {
    pub id: String,
    /// `pass`, `fail`, `skipped` or `not-attempted`.
    pub status: Status,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// Whole points it is worth; earned when it passed.
    pub points: u32,
}

/// One learner's result on one exercise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseGrade {
    pub exercise: String,
    pub points: u32,
    pub maximum: u32,
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// Why a flag was raised, and anything else the instructor should read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Where the work was read: `namespace u-alice`, `bundle alice/race.json`.
    pub source: String,
    /// When the work finished (Job completion) or was collected (bundle), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionGrade>,
}

impl ExerciseGrade {
    /// The grade `check` would give.
    pub fn judged(report: &CheckReport, finished_at: Option<String>) -> ExerciseGrade {
        let assertions = report
            .assertions
            .iter()
            .map(|v| AssertionGrade {
                id: v.id.clone(),
                status: v.status,
                message: v.message.clone(),
                hint: v.hint.clone(),
                details: v.details.clone(),
                points: v.points,
            })
            .collect();
        ExerciseGrade {
            exercise: report.exercise.clone(),
            points: report.score.earned,
            maximum: report.score.exercise_points,
            passed: report.passed,
            flags: Vec::new(),
            reasons: report.notes.clone(),
            source: report.source.clone(),
            finished_at,
            assertions,
        }
    }

    /// No points, for a reason that is not about the work itself.
    pub fn zero(exercise: &Exercise, flag: Flag, reason: String, source: String) -> ExerciseGrade {
        ExerciseGrade {
            exercise: exercise.id().to_owned(),
            points: 0,
            maximum: exercise.file.points,
            passed: false,
            flags: vec![flag],
            reasons: vec![reason],
            source,
            finished_at: None,
            assertions: Vec::new(),
        }
    }

    pub fn flag(&mut self, flag: Flag, reason: String) {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
            self.flags.sort();
        }
        self.reasons.insert(0, reason);
    }

    /// The first failed assertion's hint: what to try next.
    pub fn next_hint(&self) -> Option<&str> {
        self.assertions
            .iter()
            .find(|a| a.status == Status::Fail)
            .and_then(|a| a.hint.as_deref())
    }
}

/// One learner's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerGrade {
    pub learner: String,
    /// Their id in the school's LMS, from the roster's `lms_id` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lms_id: Option<String>,
    /// Their own deadline (the roster's `deadline` column), when it replaced the class's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    pub total: u32,
    pub maximum: u32,
    pub percent: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    pub exercises: Vec<ExerciseGrade>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl LearnerGrade {
    pub fn new(learner: String, exercises: Vec<ExerciseGrade>) -> LearnerGrade {
        let total: u32 = exercises.iter().map(|e| e.points).sum();
        let maximum: u32 = exercises.iter().map(|e| e.maximum).sum();
        let mut flags: Vec<Flag> = exercises.iter().flat_map(|e| e.flags.clone()).collect();
        flags.sort();
        flags.dedup();
        LearnerGrade {
            learner,
            lms_id: None,
            deadline: None,
            total,
            maximum,
            percent: if maximum == 0 {
                0.0
            } else {
                round1(100.0 * f64::from(total) / f64::from(maximum))
            },
            flags,
            exercises,
        }
    }

    pub fn exercise(&self, id: &str) -> Option<&ExerciseGrade> {
        self.exercises.iter().find(|e| e.exercise == id)
    }
}

/// The whole class (or one shard of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gradebook {
    pub kubelab_gradebook: u32,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// `I/N` for one shard; absent for a whole class or a merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Learners in id order.
    pub learners: Vec<LearnerGrade>,
}

impl Gradebook {
    pub fn new(
        columns: Vec<Column>,
        deadline: Option<String>,
        shard: Option<String>,
        mut learners: Vec<LearnerGrade>,
    ) -> Gradebook {
        learners.sort_by(|a, b| a.learner.cmp(&b.learner));
        Gradebook {
            kubelab_gradebook: GRADEBOOK_VERSION,
            columns,
            deadline,
            shard,
            learners,
        }
    }

    pub fn maximum(&self) -> u32 {
        self.columns.iter().map(|c| c.points).sum()
    }
}

/// Merges shards into the gradebook of the whole class: same exercises and deadline, each
/// learner in exactly one part. Errors say which parts disagree.
pub fn merge(parts: Vec<(String, Gradebook)>) -> Result<Gradebook, String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("nothing to merge: give the parts' gradebook.json files or folders".into());
    };
    let (columns, deadline) = (first.columns.clone(), first.deadline.clone());
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut learners = Vec::new();
    for (name, part) in &parts {
        if part.columns != columns {
            return Err(format!(
                "{name} grades other exercises than {first_name}: grade every shard with the same exercises"
            ));
        }
        if part.deadline != deadline {
            return Err(format!(
                "{name} has another deadline than {first_name}: grade every shard with the same --deadline"
            ));
        }
        for l in &part.learners {
            if let Some(other) = seen.insert(l.learner.clone(), name.clone()) {
                return Err(format!(
                    "learner `{}` is in both {other} and {name}: were two parts made with the same --shard?",
                    crate::text::clean(&l.learner)
                ));
            }
            learners.push(l.clone());
        }
    }
    Ok(Gradebook::new(columns, deadline, None, learners))
}

/// Reads a `gradebook.json` (a shard's part, a file, a pod's log), naming `shown` in errors.
pub fn parse(bytes: &[u8], shown: &str) -> Result<Gradebook, crate::error::Error> {
    use crate::error::{Diagnostic, Error};
    let book: Gradebook = serde_json::from_slice(bytes).map_err(|e| {
        Error::input(
            Diagnostic::file(shown, format!("not a kubelab gradebook: {e}"))
                .at(e.line(), e.column())
                .with_help("give the gradebook.json a `kubelab grade --shard` run wrote"),
        )
    })?;
    if book.kubelab_gradebook != GRADEBOOK_VERSION {
        return Err(Error::input(
            Diagnostic::file(
                shown,
                format!(
                    "gradebook format {} is not supported",
                    book.kubelab_gradebook
                ),
            )
            .field("kubelab_gradebook"),
        ));
    }
    Ok(book)
}
