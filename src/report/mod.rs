//! What the learner reads: the check report (findings, what happened, verdicts, score) as
//! coloured text or as JSON of a documented, stable shape (`kubelab: 1`, see README "JSON
//! output"). `facts` says what happened, per kind.

use std::fmt::Write as _;

use colored::Colorize;

mod facts;

use crate::error::Diagnostic;
use crate::verdict::Severity;
pub use crate::verdict::{CheckReport, FORMAT_VERSION, Mode, PitfallHit, Score, Status, Verdict};

pub use crate::text::clean;

fn mark(status: Status) -> colored::ColoredString {
    match status {
        Status::Pass => "✓".green().bold(),
        Status::Fail => "✗".red().bold(),
        Status::Skipped => "-".dimmed(),
        Status::NotAttempted => "○".yellow().bold(),
    }
}

pub fn render_diagnostic(d: &Diagnostic) -> String {
    let mut s = format!("{}: ", d.location());
    if let Some(f) = &d.field {
        s.push_str(&format!("{}: ", f.bold()));
    }
    s.push_str(&clean(&d.message));
    if let Some(h) = &d.help {
        s.push_str(&format!("\n    {} {}", "help:".cyan(), clean(h)));
    }
    s
}

/// PASSED, PENDING (nothing failed, but the run is not there yet) or FAILED.
fn verdict_word(r: &CheckReport) -> colored::ColoredString {
    if r.passed {
        "PASSED".green().bold()
    } else if !r.pending.is_empty() && r.score.failed == 0 {
        "PENDING".yellow().bold()
    } else {
        "FAILED".red().bold()
    }
}

/// A check report in a few lines, for a terminal too short for [`render_check`]: the verdict,
/// one line per assertion cut to `width` columns, and the first failure's details and hint.
pub fn render_compact(r: &CheckReport, width: usize) -> String {
    let s = &r.score;
    let verdict = verdict_word(r);
    let mut out = format!(
        "{verdict} {} of {} · {}/{} points\n",
        s.passed,
        s.passed + s.failed,
        fmt_points(s.earned),
        fmt_points(s.possible)
    );
    let fit = |text: String, indent: usize| -> String {
        text.chars()
            .take(width.saturating_sub(indent).max(10))
            .collect()
    };
    for f in r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .take(1)
    {
        let d = &f.diagnostic;
        let text = fit(format!("{}: {}", d.location(), clean(&d.message)), 4);
        let _ = writeln!(out, "  {} {text}", mark(Status::Fail));
    }
    for v in &r.assertions {
        let line = fit(format!("{} {}", v.id, clean(&v.message)), 4);
        let _ = writeln!(out, "  {} {line}", mark(v.status));
    }
    if let Some(v) = r.assertions.iter().find(|v| v.status == Status::Fail) {
        for d in v.details.iter().take(2) {
            let _ = writeln!(out, "    {}", fit(clean(d), 4));
        }
        if let Some(h) = &v.hint {
            let _ = writeln!(out, "    {} {}", "hint:".cyan(), fit(clean(h), 10));
        }
    }
    out
}

/// The human form of a check report.
pub fn render_check(r: &CheckReport) -> String {
    let mut out = String::new();
    let what = match r.mode {
        Mode::Offline => format!("offline check of {}", r.source),
        Mode::Live => format!("live check of {}", r.source),
    };
    let _ = writeln!(
        out,
        "{} {} ({what})",
        r.exercise.bold(),
        format!("— {}", r.title).dimmed()
    );
    render_findings(&mut out, r);
    if let Some(facts) = r.facts.as_ref() {
        let _ = writeln!(out, "\n{}", "What happened".bold().underline());
        for (key, f) in facts {
            facts::render(&mut out, key, f);
        }
    }
    render_pitfalls(&mut out, r);
    render_assertions(&mut out, r);
    for n in &r.notes {
        let _ = writeln!(out, "\n{} {}", "note:".dimmed(), clean(n));
    }
    let _ = writeln!(out, "\n{}  {}", verdict_word(r), score_line(r));
    out
}

fn render_findings(out: &mut String, r: &CheckReport) {
    if !r.findings.is_empty() {
        let _ = writeln!(out, "\n{}", "Manifest".bold().underline());
        for f in &r.findings {
            let tag = match f.severity {
                Severity::Error => "error".red().bold(),
                Severity::Warning => "warning".yellow().bold(),
            };
            let _ = writeln!(
                out,
                "  {tag} {}",
                render_diagnostic(&f.diagnostic).replace('\n', "\n  ")
            );
        }
    }
}

fn render_pitfalls(out: &mut String, r: &CheckReport) {
    if !r.pitfalls.is_empty() {
        let _ = writeln!(out, "\n{}", "Recognised problems".bold().underline());
        for p in &r.pitfalls {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                "!".yellow().bold(),
                p.seen_in,
                clean(&p.text).italic()
            );
            for line in p.explanation.trim().lines() {
                let _ = writeln!(out, "    {}", clean(line));
            }
        }
    }
}

fn render_assertions(out: &mut String, r: &CheckReport) {
    if !r.assertions.is_empty() {
        let _ = writeln!(out, "\n{}", "Assertions".bold().underline());
        let width = r.assertions.iter().map(|v| v.id.len()).max().unwrap_or(0);
        for v in &r.assertions {
            let msg = clean(&v.message);
            let msg = if v.status == Status::Skipped {
                msg.dimmed().to_string()
            } else {
                msg
            };
            let _ = writeln!(out, "  {} {:width$}  {msg}", mark(v.status), v.id);
            for d in &v.details {
                let _ = writeln!(out, "    {:width$}    {}", "", clean(d).dimmed());
            }
            if let Some(h) = &v.hint {
                let _ = writeln!(out, "    {:width$}  {} {}", "", "hint:".cyan(), clean(h));
            }
        }
    }
}

/// The last line after the verdict: assertions passed, errors, points, what is judged later.
fn score_line(r: &CheckReport) -> String {
    let s = &r.score;
    let errors = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let mut parts = vec![format!(
        "{} of {} assertions passed",
        s.passed,
        s.passed + s.failed + s.not_attempted
    )];
    if s.not_attempted > 0 {
        parts.push(format!("{} not attempted", s.not_attempted));
    }
    if errors > 0 {
        parts.push(format!(
            "{errors} manifest error{}",
            if errors == 1 { "" } else { "s" }
        ));
    }
    parts.push(match r.mode {
        Mode::Offline if s.skipped > 0 => format!(
            "{} of the {} points judged before you apply ({} in all)",
            fmt_points(s.earned),
            fmt_points(s.possible),
            s.exercise_points
        ),
        _ => format!("{}/{} points", fmt_points(s.earned), fmt_points(s.possible)),
    });
    if s.skipped > 0 {
        let later = match r.mode {
            Mode::Offline => format!("{} judged on the cluster", s.skipped),
            Mode::Live if !r.pending.is_empty() => {
                format!(
                    "{} pending until {} runs",
                    s.skipped,
                    r.pending.join(" and ")
                )
            }
            Mode::Live => format!("{} judged offline only", s.skipped),
        };
        parts.push(later);
    }
    if !r.pending.is_empty() && s.passed + s.failed == 0 {
        parts = vec![
            format!(
                "{} assertions wait for {} to run",
                s.skipped,
                r.pending.join(" and ")
            ),
            format!("{} points to earn", s.exercise_points),
        ];
    }
    parts.join(" · ")
}

pub fn fmt_points(p: impl Into<f64>) -> String {
    crate::text::format_number(p.into())
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn strips_escape_sequences() {
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m b"), "a\\e[31mred\\e[0m b");
        assert_eq!(clean("x\u{1b}]0;title\u{7}y"), "x\\e]0;title\\ay");
        assert_eq!(clean("nul\u{0}"), "nul\\u{0}");
        assert_eq!(clean("tab\there"), "tab here");
        assert!(!clean("\u{202e}evil").contains('\u{202e}'));
    }
}
