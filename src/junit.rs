//! JUnit XML of a check report (`kubelab check --output junit`), for course authors'
//! pipelines: one testsuite for the exercise, one testcase per assertion, one per offline
//! finding that is an error. Written with quick-junit.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::check::Status;
use crate::manifest::Severity;
use crate::report::{CheckReport, clean, fmt_points};

fn failure(message: &str, description: Vec<String>) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_message(clean(message));
    if !description.is_empty() {
        s.set_description(description.join("\n"));
    }
    s
}

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
        let status = match v.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(clean(&v.message));
                s
            }
            Status::Fail | Status::NotAttempted => {
                let mut text: Vec<String> = v.details.iter().map(|d| clean(d)).collect();
                if let Some(h) = &v.hint {
                    text.push(format!("hint: {}", clean(h)));
                }
                failure(&v.message, text)
            }
        };
        let mut case = TestCase::new(v.id.clone(), status);
        case.set_classname(r.exercise.clone());
        case.add_property(Property::new("points", v.points.to_string()));
        suite.add_test_case(case);
    }
    let mut report = Report::new("kubelab check");
    report.add_test_suite(suite);
    report.to_string().expect("JUnit serialises") + "\n"
}
