//! What the learner reads: the check report (findings, verdicts, score) as coloured text or as
//! JSON of a documented, stable shape (`kubelab: 1`, see README "JSON output").

use std::fmt::Write as _;

use colored::Colorize;
use serde_json::Value as Json;

use crate::error::Diagnostic;
use crate::verdict::Severity;
pub use crate::verdict::{CheckReport, FORMAT_VERSION, Mode, PitfallHit, Score, Status, Verdict};

pub use crate::text::clean;

fn mark(status: Status) -> colored::ColoredString {
    match status {
        Status::Pass => "✓".green().bold(),
        Status::Fail => "✗".red().bold(),
        Status::Skipped => "-".dimmed(),
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
    if let Some(facts) = r.facts.as_ref().and_then(Json::as_object) {
        let _ = writeln!(out, "\n{}", "What happened".bold().underline());
        for (name, f) in facts {
            render_facts(&mut out, name, f);
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
        s.passed + s.failed
    )];
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

fn render_facts(out: &mut String, name: &str, f: &Json) {
    let num = |k: &str| f.get(k).and_then(Json::as_f64);
    let state = f.get("state").and_then(Json::as_str).unwrap_or("unknown");
    let after = num("duration_seconds")
        .map(|d| {
            let word = if f.get("complete") == Some(&Json::Bool(true))
                || f.get("failed") == Some(&Json::Bool(true))
            {
                "after"
            } else {
                "for"
            };
            format!(
                " {word} {}",
                crate::text::format_duration(jiff::SignedDuration::from_secs_f64(d))
            )
        })
        .unwrap_or_default();
    let _ = writeln!(out, "  {}: {}{after}", name.bold(), clean(state));
    if f.get("found") != Some(&Json::Bool(true)) {
        return;
    }
    let parallelism = num("parallelism").map_or(String::new(), |p| {
        format!(" (parallelism {})", fmt_points(p))
    });
    // The Job's own counts follow its pods by a moment: one story, saying which one lags.
    let lag = match (num("status_succeeded"), num("pods_succeeded")) {
        (Some(job), Some(pods)) if job < pods => format!(
            " (the Job's status says {} so far: it counts finished pods a moment after they finish)",
            fmt_points(job)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "    pods: {} succeeded{lag}, {} failed, {} unfinished · at most {} active at once{parallelism}, {} running at once",
        fmt_points(num("pods_succeeded").unwrap_or(0.0)),
        fmt_points(num("pods_failed").unwrap_or(0.0)),
        fmt_points(num("pods_unfinished").unwrap_or(0.0)),
        fmt_points(num("max_active").unwrap_or(0.0)),
        fmt_points(num("max_running").unwrap_or(0.0)),
    );
    let list = |k: &str| -> Vec<String> {
        f.get(k)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for m in list("scheduling_failures").iter().take(3) {
        let _ = writeln!(out, "    {} {}", "scheduling:".yellow(), clean(m));
    }
    render_waiting(out, &list("waiting_reasons"));
    render_failed(out, f);
    render_gone(
        out,
        &list("gone_pods"),
        f.get("failed") == Some(&Json::Bool(true)),
    );
}

/// Pods the Job created that are gone: a delete or an eviction the learner may not know of,
/// and why the run took longer or counted a failure without a failed pod to show.
fn render_gone(out: &mut String, gone: &[String], job_failed: bool) {
    if gone.is_empty() {
        return;
    }
    let shown: Vec<&str> = gone.iter().take(3).map(String::as_str).collect();
    let more = match gone.len() {
        n if n > 3 => format!(" and {} more", n - 3),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "    {} {}{more}: created by the Job, since deleted or evicted",
        "gone:".yellow(),
        clean(&shown.join(", "))
    );
    let _ = writeln!(
        out,
        "      a pod deleted or evicted while it runs counts as failed, and the Job starts a replacement that does its work again from the start{}",
        if job_failed {
            " (a Job that fails also deletes the pods it still had running)"
        } else {
            ""
        }
    );
}

/// Why pods wait, with what to do about the common reasons.
fn render_waiting(out: &mut String, waiting: &[String]) {
    if waiting.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "    {} {}",
        "waiting:".yellow(),
        clean(&waiting.join(", "))
    );
    let any = |names: &[&str]| waiting.iter().any(|w| names.contains(&w.as_str()));
    if any(&["ErrImagePull", "ImagePullBackOff", "InvalidImageName"]) {
        let _ = writeln!(
            out,
            "      the image cannot be pulled: check its name and tag (`kubectl describe pod` shows the registry's answer)"
        );
    }
    if any(&["CrashLoopBackOff"]) {
        let _ = writeln!(
            out,
            "      a container keeps failing and restarting (restartPolicy OnFailure): read its log with `kubectl logs --previous`"
        );
    }
}

/// The first failed pods, how they ended, and what an out-of-memory kill means.
fn render_failed(out: &mut String, f: &Json) {
    let failed: Vec<&Json> = f
        .get("runs")
        .and_then(Json::as_array)
        .map(|runs| {
            runs.iter()
                .filter(|r| r.get("phase").and_then(Json::as_str) == Some("Failed"))
                .collect()
        })
        .unwrap_or_default();
    let oom = |r: &&Json| r.get("reason").and_then(Json::as_str) == Some("OOMKilled");
    for r in failed.iter().take(3) {
        let _ = writeln!(
            out,
            "    {} {} exit {}{}{}",
            "failed pod:".red(),
            r.get("pod").and_then(Json::as_str).unwrap_or("?"),
            r.get("exit_code").map_or("?".to_owned(), |c| c.to_string()),
            if oom(r) { " (OOMKilled)" } else { "" },
            r.get("last_log_line")
                .and_then(Json::as_str)
                .map(|l| format!(": {}", clean(l)))
                .unwrap_or_default()
        );
    }
    if failed.len() > 3 {
        let _ = writeln!(out, "    ... and {} more failed pods", failed.len() - 3);
    }
    if failed.iter().any(oom) {
        let _ = writeln!(
            out,
            "      OOMKilled: the container used more memory than its limit (resources.limits.memory) and the kernel killed it (exit 137): raise the limit, or make each pod's work smaller"
        );
    }
}

pub fn fmt_points(p: f64) -> String {
    crate::text::format_number(p)
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn one_story_when_the_job_status_lags_its_pods() {
        let facts = serde_json::json!({
            "found": true, "state": "still running: 16 of 20 succeeded, 2 active, 0 failed",
            "complete": false, "failed": false, "status_succeeded": 16,
            "pods_succeeded": 18, "pods_failed": 0, "pods_unfinished": 2,
            "max_active": 4, "max_running": 4, "runs": []
        });
        let mut out = String::new();
        super::render_facts(&mut out, "job", &facts);
        assert!(
            out.contains("pods: 18 succeeded (the Job's status says 16 so far: it counts finished pods a moment after they finish)"),
            "{out}"
        );
    }

    #[test]
    fn waiting_reasons_come_with_advice() {
        let facts = serde_json::json!({
            "found": true, "state": "still running", "complete": false, "failed": false,
            "pods_succeeded": 0, "pods_failed": 0, "pods_unfinished": 2,
            "max_active": 2, "max_running": 0, "parallelism": 2,
            "waiting_reasons": ["ErrImagePull", "ImagePullBackOff"], "runs": []
        });
        let mut out = String::new();
        super::render_facts(&mut out, "job", &facts);
        assert!(
            out.contains("waiting: ErrImagePull, ImagePullBackOff"),
            "{out}"
        );
        assert!(
            out.contains("the image cannot be pulled: check its name and tag"),
            "{out}"
        );
    }

    #[test]
    fn strips_escape_sequences() {
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m b"), "a\\e[31mred\\e[0m b");
        assert_eq!(clean("x\u{1b}]0;title\u{7}y"), "x\\e]0;title\\ay");
        assert_eq!(clean("nul\u{0}"), "nul\\u{0}");
        assert_eq!(clean("tab\there"), "tab here");
        assert!(!clean("\u{202e}evil").contains('\u{202e}'));
    }
}
