//! The files a grading run leaves in `--out DIR`: `gradebook.csv`, `gradebook.json`,
//! `junit.xml` and `feedback/<learner>.md`. Each is a pure function of the gradebook (so a
//! re-run or a merge of shards gives byte-identical files) and is written atomically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use quick_junit::{Property, Report, TestCase, TestSuite};

use super::gradebook::{ExerciseGrade, Flag, Gradebook, LearnerGrade};
use crate::error::Error;
use crate::junit;
use crate::report::{clean, fmt_points};
use crate::verdict::Status;

/// A cell a spreadsheet would run as a formula (`=HYPERLINK(...)`) is quoted as text.
pub(crate) fn cell(text: &str) -> String {
    let cleaned = clean(text);
    if cleaned.starts_with(['=', '+', '-', '@']) {
        format!("'{cleaned}")
    } else {
        cleaned
    }
}

fn flags_text(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One row per learner, one column per exercise.
pub fn csv_text(book: &Gradebook) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["learner".to_owned()];
    header.extend(book.columns.iter().map(|c| c.id.clone()));
    header.extend(["total", "maximum", "percent", "flags"].map(str::to_owned));
    w.write_record(&header).expect("in-memory CSV");
    for l in &book.learners {
        let mut row = vec![cell(&l.learner)];
        for c in &book.columns {
            row.push(
                l.exercise(&c.id)
                    .map_or(String::new(), |e| fmt_points(e.points)),
            );
        }
        row.push(fmt_points(l.total));
        row.push(l.maximum.to_string());
        row.push(fmt_points(l.percent));
        row.push(flags_text(&l.flags));
        w.write_record(&row).expect("in-memory CSV");
    }
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV of UTF-8 text")
}

pub fn json_text(book: &Gradebook) -> String {
    serde_json::to_string_pretty(book).expect("gradebook serialises") + "\n"
}

fn exercise_cases(learner: &LearnerGrade, e: &ExerciseGrade) -> Vec<TestCase> {
    let classname = format!("{}.{}", learner.learner, e.exercise);
    let mut cases = Vec::new();
    let unjudged = e.assertions.is_empty();
    if unjudged {
        let mut status = junit::failure(&e.reasons.join("; "), Vec::new());
        status.set_type(flags_text(&e.flags));
        let mut case = TestCase::new(e.exercise.clone(), status);
        case.set_classname(classname.clone());
        cases.push(case);
    }
    for a in &e.assertions {
        let verdict = junit::Judged {
            status: a.status,
            message: &a.message,
            details: &a.details,
            hint: a.hint.as_deref(),
            points: a.points,
        };
        let case = junit::assertion_case(
            format!("{}/{}", e.exercise, a.id),
            classname.clone(),
            verdict,
        );
        cases.push(case);
    }
    cases
}

/// One testsuite per learner, one testcase per assertion (or one per exercise that could not
/// be judged), flags as properties.
pub fn junit_text(book: &Gradebook) -> String {
    let mut report = Report::new("kubelab grade");
    for l in &book.learners {
        let mut suite = TestSuite::new(clean(&l.learner));
        suite.add_property(Property::new("total", fmt_points(l.total)));
        suite.add_property(Property::new("maximum", l.maximum.to_string()));
        for f in &l.flags {
            suite.add_property(Property::new("flag", f.as_str()));
        }
        for e in &l.exercises {
            suite.add_test_cases(exercise_cases(l, e));
        }
        report.add_test_suite(suite);
    }
    junit::xml(&report)
}

/// What a learner is handed back: per exercise, the points, what passed, what failed and
/// the next hint.
pub fn feedback_text(book: &Gradebook, l: &LearnerGrade) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Feedback for {}\n", clean(&l.learner));
    let _ = write!(
        out,
        "**{} of {} points ({}%)**",
        fmt_points(l.total),
        l.maximum,
        fmt_points(l.percent)
    );
    if !l.flags.is_empty() {
        let _ = write!(out, " — flagged: {}", flags_text(&l.flags));
    }
    out.push_str("\n\n");
    if let Some(d) = &book.deadline {
        let _ = writeln!(out, "Deadline: {d}\n");
    }
    for e in &l.exercises {
        let title = book
            .columns
            .iter()
            .find(|c| c.id == e.exercise)
            .map_or(e.exercise.as_str(), |c| c.title.as_str());
        let verdict = if e.passed { "passed" } else { "not passed yet" };
        let _ = writeln!(
            out,
            "## {title} (`{}`): {} of {} points, {verdict}\n",
            e.exercise,
            fmt_points(e.points),
            e.maximum
        );
        for r in &e.reasons {
            let _ = writeln!(out, "> {}", clean(r));
        }
        if !e.reasons.is_empty() {
            out.push('\n');
        }
        for a in &e.assertions {
            let mark = match a.status {
                Status::Pass => "passed",
                Status::Fail => "FAILED",
                Status::Skipped => "not judged",
                Status::NotAttempted => "TO DO",
            };
            let _ = writeln!(out, "- {mark}: {}", clean(&a.message));
        }
        if let Some(h) = e.next_hint() {
            let _ = writeln!(out, "\nNext step: {}", clean(h));
        }
        out.push('\n');
    }
    out
}

pub use crate::error::write_atomically;

/// Writes every output into `dir`; returns the paths written.
pub fn write_all(
    book: &Gradebook,
    dir: &Path,
    lms: Option<super::lms::Lms>,
) -> Result<Vec<PathBuf>, Error> {
    let feedback = dir.join("feedback");
    std::fs::create_dir_all(&feedback)
        .map_err(|e| Error::io(&feedback.display().to_string(), e))?;
    let mut written = Vec::new();
    let mut put = |path: PathBuf, text: String| -> Result<(), Error> {
        write_atomically(&path, text.as_bytes())?;
        written.push(path);
        Ok(())
    };
    put(dir.join("gradebook.csv"), csv_text(book))?;
    put(dir.join("gradebook.json"), json_text(book))?;
    put(dir.join("junit.xml"), junit_text(book))?;
    if let Some(lms) = lms {
        put(dir.join(lms.file_name()), super::lms::text(book, lms))?;
    }
    let stems = super::names::file_stems(book.learners.iter().map(|l| l.learner.as_str()));
    for l in &book.learners {
        let path = feedback.join(format!("{}.md", stems[&l.learner]));
        put(path, feedback_text(book, l))?;
    }
    Ok(written)
}
