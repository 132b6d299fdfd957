//! Grading hand-ins: each bundle is read, checked (digest, exercise version, cluster) and
//! judged on its own, on every core, and only its grade is kept, so memory stays bounded
//! however large the class; then each learner's exercise gets the last one collected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::bundles::{self, HandIn};
use super::gradebook::{ExerciseGrade, Flag};
use super::roster::Learner;
use super::{Graded, Shard, in_shard, mismatch_cluster, par_map};
use crate::course::Exercise;
use crate::error::Error;
use crate::text::clean;

/// What is kept of one handed-in file.
enum Kept {
    Graded {
        learner: String,
        exercise: String,
        name: String,
        gathered_at: String,
        grade: Box<ExerciseGrade>,
    },
    /// Not graded, with the reason to tell the instructor (if any).
    Ignored {
        learner: String,
        note: Option<String>,
    },
}

struct Context<'a> {
    exercises: &'a [&'a Exercise],
    /// The roster's learners and the cluster each must have worked on.
    roster: Option<BTreeMap<String, Option<String>>>,
    shard: Option<Shard>,
    expect_cluster: Option<&'a str>,
}

pub fn grade(
    exercises: &[&Exercise],
    dir: &Path,
    roster: Option<Vec<Learner>>,
    shard: Option<Shard>,
    expect_cluster: Option<&str>,
) -> Result<(Graded, Vec<String>), Error> {
    let files = bundles::files(dir)?;
    let cx = Context {
        exercises,
        roster: roster.as_ref().map(|r| {
            r.iter()
                .map(|l| (l.id.clone(), l.cluster.clone()))
                .collect()
        }),
        shard,
        expect_cluster,
    };
    let kept: Vec<Kept> = par_map(&files, |path: &PathBuf| keep(&cx, dir, path));
    let mut notes = Vec::new();
    let mut by_learner: BTreeMap<&str, Vec<&Kept>> = BTreeMap::new();
    for k in &kept {
        match k {
            Kept::Graded { learner, .. } => by_learner.entry(learner).or_default().push(k),
            Kept::Ignored { learner, note } => {
                by_learner.entry(learner).or_default();
                notes.extend(note.clone());
            }
        }
    }
    let learners: Vec<Learner> = match roster {
        Some(r) => in_shard(r, shard),
        None => by_learner
            .keys()
            .filter(|id| shard.is_none_or(|s| s.holds(id)))
            .map(|id| Learner {
                id: (*id).to_owned(),
                namespace: None,
                context: None,
                cluster: None,
                lms_id: None,
                deadline: None,
                listed_at: format!("hand-ins in {}", dir.display()),
            })
            .collect(),
    };
    let graded = learners
        .iter()
        .map(|l| {
            let theirs = by_learner.get(l.id.as_str()).cloned().unwrap_or_default();
            let grades = exercises.iter().map(|ex| choose(ex, &theirs)).collect();
            (l.id.clone(), grades)
        })
        .collect();
    Ok((graded, notes))
}

/// Reads, checks and judges one file; the bundle itself is dropped here.
fn keep(cx: &Context, dir: &Path, path: &Path) -> Kept {
    let h = bundles::read_one(dir, path);
    let mut exercise = hand_in_exercise(&h);
    // A file named for one graded exercise holding a bundle of another is not graded as
    // either: it is that exercise's hand-in, and it does not match.
    let named = named_exercise(&h.name);
    let misnamed =
        h.bundle.is_ok() && named != exercise && cx.exercises.iter().any(|e| e.id() == named);
    if misnamed {
        exercise = named;
    }
    let ignored = |note: Option<String>| Kept::Ignored {
        learner: h.learner.clone(),
        note,
    };
    if cx.shard.is_some_and(|s| !s.holds(&h.learner)) {
        return Kept::Ignored {
            learner: String::new(),
            note: None,
        }; // another shard's
    }
    let Some(ex) = cx.exercises.iter().find(|e| e.id() == exercise) else {
        let why = match &h.bundle {
            Ok(_) => format!(
                "it is a bundle of `{}`, which is not graded here",
                clean(&exercise)
            ),
            Err(e) => format!(
                "it is not a readable bundle ({}) and its name names no graded exercise",
                clean(e)
            ),
        };
        return ignored(Some(format!("ignored {}: {why}", clean(&h.name))));
    };
    let expected = match &cx.roster {
        Some(r) => match r.get(&h.learner) {
            Some(cluster) => cluster.as_deref().or(cx.expect_cluster),
            None => {
                let why = format!(
                    "ignored {}: learner `{}` is not on the roster",
                    clean(&h.name),
                    clean(&h.learner)
                );
                return ignored(Some(why));
            }
        },
        None => cx.expect_cluster,
    };
    let grade = if misnamed {
        let why = format!(
            "the file {} is named for `{}` but holds a bundle of `{}`",
            clean(&h.name),
            ex.id(),
            h.bundle
                .as_ref()
                .map(|b| clean(&b.exercise))
                .unwrap_or_default()
        );
        let source = format!("bundle {}", clean(&h.name));
        ExerciseGrade::zero(ex, Flag::Mismatch, why, source)
    } else {
        grade_hand_in(ex, &h, expected)
    };
    Kept::Graded {
        learner: h.learner.clone(),
        exercise,
        name: h.name.clone(),
        gathered_at: h
            .bundle
            .as_ref()
            .map(|b| b.snapshot.gathered_at.clone())
            .unwrap_or_default(),
        grade: Box::new(grade),
    }
}

/// The exercise a hand-in is for: what the bundle says, else what its file name says.
fn hand_in_exercise(h: &HandIn) -> String {
    match &h.bundle {
        Ok(b) => b.exercise.clone(),
        Err(_) => named_exercise(&h.name),
    }
}

/// The exercise a file name names: `alice/race.json` and `alice.race.json` name `race`.
fn named_exercise(name: &str) -> String {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = file.trim_end_matches(".json");
    stem.rsplit('.').next().unwrap_or(stem).to_owned()
}

/// The grade of the last collected hand-in of an exercise (or missing).
fn choose(ex: &Exercise, theirs: &[&Kept]) -> ExerciseGrade {
    let mut mine: Vec<(&String, &String, &ExerciseGrade)> = theirs
        .iter()
        .filter_map(|k| match k {
            Kept::Graded {
                exercise,
                name,
                gathered_at,
                grade,
                ..
            } if exercise == ex.id() => Some((gathered_at, name, &**grade)),
            _ => None,
        })
        .collect();
    mine.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let Some((_, _, chosen)) = mine.last() else {
        let why = "no bundle was handed in".to_owned();
        return ExerciseGrade::zero(ex, Flag::Missing, why, String::new());
    };
    let mut grade = (*chosen).clone();
    if mine.len() > 1 {
        let names: Vec<String> = mine.iter().map(|(_, n, _)| clean(n)).collect();
        grade.reasons.push(format!(
            "{} bundles were handed in ({}); the last collected was graded",
            mine.len(),
            names.join(", ")
        ));
    }
    grade
}

fn grade_hand_in(ex: &Exercise, h: &HandIn, expected: Option<&str>) -> ExerciseGrade {
    let mut grade = judge_hand_in(ex, h, expected);
    if let Some(d) = &h.disagreement {
        grade.reasons.push(d.clone());
    }
    grade
}

fn judge_hand_in(ex: &Exercise, h: &HandIn, expected: Option<&str>) -> ExerciseGrade {
    let source = format!("bundle {}", clean(&h.name));
    let bundle = match &h.bundle {
        Ok(b) => b,
        Err(why) => {
            let why = format!("the bundle cannot be read: {}", clean(why));
            return ExerciseGrade::zero(ex, Flag::Tampered, why, source);
        }
    };
    if !crate::bundle::intact(bundle) {
        let why =
            "the bundle was edited after it was collected (its digest does not match its content)";
        return ExerciseGrade::zero(ex, Flag::Tampered, why.into(), source);
    }
    let version = crate::bundle::exercise_version(ex);
    if let Some(v) = bundle.course_version.as_deref().filter(|v| *v != version) {
        let why = format!(
            "the bundle was collected for another version of this exercise ({v}, now {version}): ask for a new collection"
        );
        return ExerciseGrade::zero(ex, Flag::Mismatch, why, source);
    }
    if let Some(want) = expected
        && bundle.snapshot.cluster.kube_system_uid.as_deref() != Some(want)
    {
        return mismatch_cluster(ex, &bundle.snapshot, want, source);
    }
    let report = crate::live::judge(ex, &bundle.snapshot, source);
    let mut grade = ExerciseGrade::judged(&report, Some(bundle.snapshot.gathered_at.clone()));
    grade.reasons.retain(|r| !r.starts_with("evidence from"));
    if bundle.learner.is_none() {
        grade.reasons.push(
            "the bundle names no learner (collected without --learner): the file name was used"
                .into(),
        );
    }
    grade
}
