//! `kubelab grade`: the instructor's side. Reads a whole class (a shared cluster with a
//! namespace per learner, or a folder of handed-in bundles), judges every learner's work with
//! the judge `check` uses, and writes the gradebook, JUnit and per-learner feedback.
//!
//! Flow: roster (or namespace label, or hand-ins) -> shard -> gather (cluster-wide LISTs, or
//! per namespace) or read bundles -> `live::judge` per exercise -> gradebook -> outputs.

pub mod bundles;
pub mod gather;
pub mod gradebook;
mod handins;
pub mod job;
pub mod lms;
pub mod names;
pub mod outputs;
pub mod parts;
pub mod roster;
pub mod summary;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::cluster::{Snapshot, Target};
use crate::course::{Course, Exercise};
use crate::error::Error;
use gradebook::{Column, ExerciseGrade, Flag, Gradebook, LearnerGrade};
use roster::Learner;
use std::collections::BTreeMap;

/// Where the class's work is.
#[derive(Debug, Clone)]
pub enum Source {
    /// A roster CSV: one namespace (and optionally context) per learner.
    Roster(PathBuf),
    /// Namespaces carrying this label; its value is the learner id.
    Selector(String),
    /// A folder of bundles, with an optional roster of who should have handed in.
    Bundles {
        dir: PathBuf,
        roster: Option<PathBuf>,
    },
}

/// One grading run, as the command line asked for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Exercise ids (empty: the unit's, or every gradable exercise of the course).
    pub exercises: Vec<String>,
    pub unit: Option<String>,
    pub source: Source,
    pub deadline: Option<String>,
    pub shard: Option<Shard>,
    /// The kube-system uid the work must come from (besides a roster's `cluster` column).
    pub expect_cluster: Option<String>,
    pub target: Target,
}

/// A deterministic slice of the class: learner ids hashed into `count` parts; `index` is
/// 0-based, so an Indexed Job's `JOB_COMPLETION_INDEX` picks its part directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard takes I/N with 0 <= I < N (e.g. 0/4), not `{text}`");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the learner belongs to this shard: the same answer on every machine and run,
    /// whoever else is in the class.
    pub fn holds(&self, learner: &str) -> bool {
        let hash = Sha256::digest(learner.as_bytes());
        let n = u64::from_be_bytes(hash[..8].try_into().expect("8 bytes"));
        n % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Maps `f` over `items` on every core, keeping the order: judging a class is CPU work
/// (parsing bundles, digests, facts, CEL) that is independent per learner.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("a grading thread panicked"))
            .collect()
    })
}

/// What a run produced besides the gradebook: how the class was read.
pub struct Outcome {
    pub book: Gradebook,
    pub notes: Vec<String>,
    pub api_calls: usize,
}

/// The exercises graded: asked for, the unit's, or all; quizzes are answered in files, not
/// on a cluster, so they cannot be graded here.
pub fn exercises<'a>(course: &'a Course, req: &Request) -> Result<Vec<&'a Exercise>, Error> {
    let chosen: Vec<&Exercise> = if !req.exercises.is_empty() {
        req.exercises
            .iter()
            .map(|id| course.exercise(id))
            .collect::<Result<_, _>>()?
    } else if let Some(unit) = &req.unit {
        course.unit(unit)?.exercises.iter().collect()
    } else {
        course.exercises().collect()
    };
    if let Some(quiz) = req.exercises.iter().find_map(|id| {
        chosen
            .iter()
            .find(|e| e.id() == id && e.file.kind == crate::model::ExerciseKind::Quiz)
    }) {
        return Err(Error::Usage(format!(
            "{} is a quiz, answered in a file: it cannot be graded from a cluster or a bundle",
            quiz.id()
        )));
    }
    Ok(chosen
        .into_iter()
        .filter(|e| e.file.kind != crate::model::ExerciseKind::Quiz)
        .collect())
}

pub(crate) fn parse_deadline(text: &str) -> Result<jiff::Timestamp, Error> {
    let text = text.trim();
    if text.len() == "2026-12-01".len()
        && let Ok(d) = text.parse::<jiff::civil::Date>()
        && let Ok(z) = d.at(23, 59, 59, 0).to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp());
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>()
        && let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp());
    }
    Err(Error::Usage(format!(
        "--deadline `{text}` is not a time: give RFC 3339 (2026-12-01T23:59:00Z), a UTC date-time (2026-12-01T23:59) or a date (2026-12-01, meaning its end in UTC)"
    )))
}

/// Grades the class. Gathering is the only part that differs between sources.
pub async fn grade(
    course: &Course,
    req: &Request,
    progress: &indicatif::ProgressBar,
) -> Result<Outcome, Error> {
    let exercises = exercises(course, req)?;
    let deadline = req.deadline.as_deref().map(parse_deadline).transpose()?;
    let columns = columns(&exercises);
    let listed = match &req.source {
        Source::Roster(path)
        | Source::Bundles {
            roster: Some(path), ..
        } => Some(roster::read(path)?),
        _ => None,
    };
    // What the roster says of each learner beyond where their work is.
    let extras: BTreeMap<String, (Option<String>, Option<jiff::Timestamp>)> = listed
        .iter()
        .flatten()
        .map(|l| {
            let own = l.deadline.as_deref().map(parse_deadline).transpose();
            own.map(|d| (l.id.clone(), (l.lms_id.clone(), d)))
        })
        .collect::<Result<_, Error>>()?;
    let (learners, notes, api_calls) = match &req.source {
        Source::Bundles { dir, .. } => {
            let (learners, notes) = handins::grade(
                &exercises,
                dir,
                listed,
                req.shard,
                req.expect_cluster.as_deref(),
            )?;
            (learners, notes, 0)
        }
        source => from_cluster(&exercises, source, listed, req, progress).await?,
    };
    let rows = learners
        .into_iter()
        .map(|mut learner| {
            let (lms_id, own_deadline) = extras.get(&learner.0).cloned().unwrap_or_default();
            if let Some(d) = own_deadline.or(deadline) {
                mark_late(&mut learner, d);
            }
            let mut row = LearnerGrade::new(learner.0, learner.1);
            row.lms_id = lms_id;
            row.deadline = own_deadline.map(|d| d.to_string());
            row
        })
        .collect();
    let book = Gradebook::new(
        columns,
        deadline.map(|d| d.to_string()),
        req.shard.map(|s| s.to_string()),
        rows,
    );
    Ok(Outcome {
        book,
        notes,
        api_calls,
    })
}

pub(crate) type Graded = Vec<(String, Vec<ExerciseGrade>)>;

fn mark_late(learner: &mut (String, Vec<ExerciseGrade>), deadline: jiff::Timestamp) {
    for e in &mut learner.1 {
        let finished = e
            .finished_at
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if let Some(at) = finished.filter(|at| *at > deadline) {
            let late = late_by(at.duration_since(deadline).as_secs());
            e.flag(
                Flag::Late,
                format!("finished {late} after the deadline, at {at}; the points are kept"),
            );
        }
    }
}

/// `3 days 4h`, `2h 5m`, `40s`: how late, in the units a person would use.
fn late_by(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m {}s", secs % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (1, h, _) => format!("1 day {h}h"),
        (d, h, _) => format!("{d} days {h}h"),
    }
}

pub(crate) fn in_shard(learners: Vec<Learner>, shard: Option<Shard>) -> Vec<Learner> {
    learners
        .into_iter()
        .filter(|l| shard.is_none_or(|s| s.holds(&l.id)))
        .collect()
}

/// The gradebook's columns: one per exercise.
pub fn columns(exercises: &[&Exercise]) -> Vec<Column> {
    exercises
        .iter()
        .map(|e| Column {
            id: e.id().to_owned(),
            title: e.file.title.clone(),
            points: e.file.points,
        })
        .collect()
}

/// The class on a cluster: the roster's learners, or the namespaces a label finds.
pub async fn class_on_cluster(
    req: &Request,
    calls: &crate::cluster::CallCount,
) -> Result<Vec<Learner>, Error> {
    let learners = match &req.source {
        Source::Roster(path) => roster::read(path)?,
        Source::Selector(label) => gather::learners_by_label(&req.target, label, calls).await?,
        Source::Bundles { .. } => {
            return Err(Error::Usage(
                "the live board reads a cluster: give --roster or --namespace-selector, not --bundles".into(),
            ));
        }
    };
    Ok(in_shard(learners, req.shard))
}

async fn from_cluster(
    exercises: &[&Exercise],
    source: &Source,
    listed: Option<Vec<Learner>>,
    req: &Request,
    progress: &indicatif::ProgressBar,
) -> Result<(Graded, Vec<String>, usize), Error> {
    let listing = crate::cluster::CallCount::default();
    let learners = match source {
        Source::Roster(_) => listed.unwrap_or_default(),
        Source::Selector(label) => gather::learners_by_label(&req.target, label, &listing).await?,
        Source::Bundles { .. } => unreachable!("bundles are not read from a cluster"),
    };
    let learners = in_shard(learners, req.shard);
    progress.set_length(learners.len() as u64);
    let tick = || progress.inc(1);
    let (graded, notes, calls) = grade_learners(
        exercises,
        &learners,
        &req.target,
        req.expect_cluster.as_deref(),
        gather::Reading::ClassWide,
        &tick,
    )
    .await?;
    Ok((graded, notes, calls + listing.get()))
}

/// Gathers and judges these learners' work on their clusters: the whole class at once, or a
/// few learners namespace by namespace (the live board re-judging the namespaces that changed).
pub async fn grade_learners(
    exercises: &[&Exercise],
    learners: &[Learner],
    target: &crate::cluster::Target,
    expect_cluster: Option<&str>,
    reading: gather::Reading,
    progress: gather::Progress<'_>,
) -> Result<(Graded, Vec<String>, usize), Error> {
    let plan = crate::target::Plan::merge(exercises.iter().map(|e| &e.plan));
    // Judged as each learner's work arrives, so that only a few learners' logs are held.
    let judge = |l: &Learner, found: gather::Found| -> Vec<ExerciseGrade> {
        let expected = l.cluster.as_deref().or(expect_cluster);
        exercises
            .iter()
            .map(|ex| grade_found(ex, &found, expected))
            .collect()
    };
    let mut gathered =
        gather::from_clusters(learners, &plan, target, reading, (progress, &judge)).await?;
    let graded = learners
        .iter()
        .map(|l| {
            let grades = gathered.found.remove(&l.id).unwrap_or_default();
            (l.id.clone(), grades)
        })
        .collect();
    Ok((graded, gathered.notes, gathered.calls))
}

/// Whether an exercise judges its targets' work (not only what must be gone).
fn needs_its_targets(ex: &Exercise) -> bool {
    ex.assertions.iter().any(|a| a.needs_run())
}

fn grade_found(ex: &Exercise, found: &gather::Found, expected: Option<&str>) -> ExerciseGrade {
    let snap = match found {
        Ok(s) => s,
        Err(why) => return ExerciseGrade::zero(ex, Flag::Missing, why.clone(), String::new()),
    };
    let source = format!("namespace {}", snap.namespace);
    let present = ex
        .targets()
        .iter()
        .any(|t| !crate::facts::relations::objects_of_target(snap, t).is_empty());
    if needs_its_targets(ex) && !present {
        let why = format!(
            "no {} in namespace {}",
            ex.targets()
                .iter()
                .map(|t| t.described())
                .collect::<Vec<_>>()
                .join(" or "),
            snap.namespace
        );
        let mut grade = ExerciseGrade::zero(ex, Flag::Missing, why, source);
        // What gathering noticed (a namespace being deleted) explains a missing grade too.
        grade.reasons.extend(snap.notes.iter().cloned());
        return grade;
    }
    let (report, facts) = crate::live::assess(ex, snap, source);
    let mut grade = ExerciseGrade::judged(&report, completed_at(&facts));
    if let Some(want) = expected
        && snap.cluster.kube_system_uid.as_deref() != Some(want)
    {
        return mismatch_cluster(ex, snap, want, grade.source);
    }
    grade.reasons.retain(|r| !r.starts_with("evidence from"));
    grade
}

pub(crate) fn mismatch_cluster(
    ex: &Exercise,
    snap: &Snapshot,
    want: &str,
    source: String,
) -> ExerciseGrade {
    ExerciseGrade::zero(
        ex,
        Flag::Mismatch,
        format!(
            "the work is from cluster {} (kube-system uid {}), not the expected {want}",
            snap.cluster
                .server_version
                .as_deref()
                .unwrap_or("of unknown version"),
            snap.cluster.kube_system_uid.as_deref().unwrap_or("unknown")
        ),
        source,
    )
}

/// When the exercise's work finished: the latest completion among its Jobs, its CronJobs'
/// last successful run, its Deployments' rollouts.
fn completed_at(facts: &crate::live::Derived) -> Option<String> {
    facts
        .values()
        .filter_map(|f| match f {
            crate::facts::TargetFacts::Job(j) => j.completed_at.clone(),
            crate::facts::TargetFacts::CronJob(c) => c.last_successful_time.clone(),
            crate::facts::TargetFacts::Deployment(d) => d.completed_at.clone(),
            _ => None,
        })
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .max()
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_class_exactly_once() {
        assert!(
            Shard::parse("4/4").is_err()
                && Shard::parse("x").is_err()
                && Shard::parse("0/0").is_err()
        );
        let shards: Vec<Shard> = (0..3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for id in ["alice", "bob", "carol", "../x", "d\u{7}"] {
            assert_eq!(shards.iter().filter(|s| s.holds(id)).count(), 1, "{id}");
        }
    }

    #[test]
    fn deadlines_in_three_spellings() {
        let t = |s: &str| parse_deadline(s).unwrap().to_string();
        assert_eq!(t("2026-12-01T23:59:59Z"), "2026-12-01T23:59:59Z");
        assert_eq!(t("2026-12-01"), "2026-12-01T23:59:59Z");
        assert_eq!(t("2026-12-01T10:00"), "2026-12-01T10:00:00Z");
        assert!(parse_deadline("friday").is_err());
    }
}
