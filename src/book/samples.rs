//! "What a run looks like": the exercise's recorded runs (`samples`), judged now by the same
//! live path as `kubelab check --from`, with each Job's pod timeline, and for every kind what
//! happened and the verdicts.

use std::fmt::Write as _;

use super::html_escape;
use crate::course::{Course, Exercise};
use crate::error::Error;

pub fn section(course: &Course, ex: &Exercise) -> Result<String, Error> {
    if ex.file.samples.is_empty() {
        return Ok(String::new());
    }
    let mut md = String::from("## What a run looks like\n\n");
    for sample in &ex.file.samples {
        let (shown, full) = ex.file_path(&course.root, &sample.bundle).ok_or_else(|| {
            Error::Usage(format!(
                "{}: sample `{}` is outside the exercise folder",
                ex.path, sample.bundle
            ))
        })?;
        let bundle = crate::bundle::read_bundle(&full)?;
        let source = format!("the recorded run {shown}");
        let (report, facts) = crate::live::assess(ex, &bundle.snapshot, source);
        let _ = writeln!(md, "{}\n", sample.caption.trim());
        durations(&mut md, &facts);
        for (job, f) in facts
            .iter()
            .filter_map(|(k, f)| Some((k, f.job()?)))
            .filter(|(_, f)| f.found)
        {
            let _ = writeln!(
                md,
                "<figure class=\"kl-timeline\">\n{}<figcaption>Job <code>{}</code>: each row is a pod (waiting, then running); below, how many were active at once.</figcaption>\n</figure>\n",
                crate::timeline::render_svg(job, f)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .fold(String::new(), |acc, l| acc + l.trim_start() + "\n"),
                html_escape(job)
            );
        }
        let verdicts = crate::report::render_check(&report);
        let _ = writeln!(
            md,
            "<details class=\"kl-verdicts\" open>\n<summary>What <code>kubelab check {}</code> said about this run</summary>\n\n```text\n{}\n```\n\n</details>\n",
            ex.id(),
            verdicts.trim_end()
        );
    }
    Ok(md)
}

/// The measured durations, side by side when the exercise compares Jobs.
fn durations(md: &mut String, facts: &crate::live::Derived) {
    let found: Vec<_> = facts
        .iter()
        .filter_map(|(k, f)| Some((k, f.job()?)))
        .filter(|(_, f)| f.found)
        .collect();
    if found.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "| Job | Pods | Most active at once | Duration | State |\n|---|---|---|---|---|"
    );
    for (job, f) in &found {
        let _ = writeln!(
            md,
            "| `{job}` | {} | {} | {} | {} |",
            f.pods,
            f.max_active,
            f.duration_seconds
                .map(crate::text::format_seconds)
                .unwrap_or_else(|| "not finished".into()),
            f.state.replace('|', "\\|")
        );
    }
    md.push('\n');
}
