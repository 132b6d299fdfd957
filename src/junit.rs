//! JUnit XML, written with quick-junit: of a check report (`kubelab check --output junit`),
//! for course authors' pipelines: one testsuite for the exercise, one testcase per assertion,
//! one per offline finding that is an error; and, for a gradebook's `junit.xml`, the testcase
//! of an assertion, the same in both.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::check::Status;
use crate::manifest::Severity;
use crate::report::{CheckReport, clean, fmt_points};

pub fn check_report(r: &CheckReport) -> String {
    let mut suite = TestSuite::new(r.exercise.clone());
    suite.add_property(Property::new("source", clean(&r.source)));
    suite.add_property(Property::new("earned", fmt_points(r.score.earned)));
    suite.add_property(Property::new("possible", fmt_points(r.score.possible)));
    for f in r.findings.iter().filter(|f| f.severity == Severity::Error) {
        let d = &f.diagnostic;
        let mut case = TestCase::new(
            format!("{} {}", f.category, d.location()),
            failure(&d.message, d.help.iter().cloned().collect()),
        );
        case.set_classname(format!("{}.manifest", r.exercise));
        suite.add_test_case(case);
    }
    for v in &r.assertions {
        let verdict = Judged {
            status: v.status,
            message: &v.message,
            details: &v.details,
            hint: v.hint.as_deref(),
            points: v.points,
        };
        suite.add_test_case(assertion_case(v.id.clone(), r.exercise.clone(), verdict));
    }
    let mut report = Report::new("kubelab check");
    report.add_test_suite(suite);
    xml(&report)
}

/// An assertion's verdict, as a testcase shows it.
pub struct Judged<'a> {
    pub status: Status,
    pub message: &'a str,
    pub details: &'a [String],
    pub hint: Option<&'a str>,
    pub points: u32,
}

/// One assertion's testcase: passed, skipped (with why), or failed with its message, its
/// details and its hint; its points as a property.
pub fn assertion_case(name: String, classname: String, v: Judged<'_>) -> TestCase {
    let status = match v.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(clean(v.message));
            s
        }
        Status::Fail | Status::NotAttempted => {
            let mut text: Vec<String> = v.details.iter().map(|d| clean(d)).collect();
            if let Some(h) = v.hint {
                text.push(format!("hint: {}", clean(h)));
            }
            failure(v.message, text)
        }
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(classname);
    case.add_property(Property::new("points", v.points.to_string()));
    case
}

/// A failed testcase's status: its message and, when there is one, its description.
pub fn failure(message: &str, description: Vec<String>) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_message(clean(message));
    if !description.is_empty() {
        s.set_description(description.join("\n"));
    }
    s
}

/// The report as XML, ending in a newline.
pub fn xml(report: &Report) -> String {
    report.to_string().expect("JUnit serialises") + "\n"
}
