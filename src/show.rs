//! Course content for the terminal: the exercise list with progress, an exercise's
//! instructions rendered from Markdown, hints, and the reference solution.

use std::fmt::Write as _;

use colored::Colorize;
use comfy_table::{Cell, ContentArrangement, Table, presets};
use serde_json::{Value as Json, json};

use crate::check::phase_word;
use crate::course::{Course, Exercise};
use crate::error::Error;
use crate::report::{FORMAT_VERSION, clean, fmt_points};
use crate::state::State;
use crate::yaml::Source;

fn progress_word(state: &State, id: &str) -> String {
    match state.exercises.get(id).and_then(|p| p.last.as_ref()) {
        None => "not started".to_owned(),
        Some(l) if l.passed => format!("passed ({})", l.mode),
        Some(l) => format!(
            "failed ({}, {}/{})",
            l.mode,
            fmt_points(l.earned),
            fmt_points(l.possible)
        ),
    }
}

pub fn render_list(course: &Course, state: &State) -> String {
    let mut out = String::new();
    for unit in &course.units {
        let _ = writeln!(
            out,
            "{} {}",
            format!("Unit {}:", unit.file.number).bold(),
            unit.file.title.bold()
        );
        let mut table = Table::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(vec!["#", "exercise", "kind", "points", "progress"]);
        let mut total = 0;
        for (i, ex) in unit.exercises.iter().enumerate() {
            total += ex.file.points;
            let progress = progress_word(state, ex.id());
            let cell = if progress.starts_with("passed") {
                Cell::new(progress).fg(comfy_table::Color::Green)
            } else if progress.starts_with("failed") {
                Cell::new(progress).fg(comfy_table::Color::Red)
            } else {
                Cell::new(progress)
            };
            table.add_row(vec![
                Cell::new(i + 1),
                Cell::new(ex.id()),
                Cell::new(ex.file.kind.as_str()),
                Cell::new(ex.file.points),
                cell,
            ]);
        }
        if !colored::control::SHOULD_COLORIZE.should_colorize() {
            table.force_no_tty();
        } else {
            table.enforce_styling();
        }
        for line in table.to_string().lines() {
            let _ = writeln!(out, "  {}", line.trim_end());
        }
        let _ = writeln!(out, "  {total} points in all\n");
    }
    out
}

pub fn list_json(course: &Course, state: &State) -> Json {
    json!({
        "kubelab": FORMAT_VERSION,
        "units": course.units.iter().map(|u| json!({
            "id": u.file.id,
            "number": u.file.number,
            "title": u.file.title,
            "exercises": u.exercises.iter().map(|e| json!({
                "id": e.id(),
                "title": e.file.title,
                "kind": e.file.kind.as_str(),
                "points": e.file.points,
                "progress": state.exercises.get(e.id()),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Minimal Markdown for a terminal: headings, fenced code, inline code, bold, lists.
pub fn render_markdown(md: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in md.lines() {
        let line = clean(line);
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            let _ = writeln!(out, "    {}", line.cyan());
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(h) = trimmed.strip_prefix('#') {
            let text = h.trim_start_matches('#').trim();
            let _ = writeln!(out, "{}", text.bold().underline());
            continue;
        }
        let _ = writeln!(out, "{}", inline(&line));
    }
    out
}

fn inline(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some(end) = after.find('`')
        {
            out.push_str(&after[..end].cyan().to_string());
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**")
        {
            out.push_str(&after[..end].bold().to_string());
            rest = &after[end + 2..];
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A unit's overview: summary, objectives, reflection prompts, exercises, confidence statements.
pub fn render_unit(unit: &crate::course::Unit) -> String {
    let f = &unit.file;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\n",
        format!("Unit {}: {}", f.number, f.title).bold()
    );
    out.push_str(&render_markdown(&f.summary));
    let section = |out: &mut String, title: &str, items: &[String]| {
        if !items.is_empty() {
            let _ = writeln!(out, "\n{}", title.bold());
            for i in items {
                let _ = writeln!(out, "  - {}", inline(&clean(i)));
            }
        }
    };
    section(&mut out, "Before you start, think about", &f.reflection);
    section(&mut out, "You will be able to", &f.objectives);
    let exercises: Vec<String> = unit
        .exercises
        .iter()
        .map(|e| {
            format!(
                "`{}` ({}, {} points): {}",
                e.id(),
                e.file.kind.as_str(),
                e.file.points,
                e.file.title
            )
        })
        .collect();
    section(&mut out, "Exercises", &exercises);
    section(
        &mut out,
        "Design questions for afterwards",
        &f.design_questions,
    );
    let statements: Vec<String> = f.confidence.iter().map(|c| c.statement.clone()).collect();
    section(
        &mut out,
        "Confidence check (`kubelab confidence`)",
        &statements,
    );
    out
}

pub fn read_references(course: &Course, ex: &Exercise) -> Result<Vec<Source>, Error> {
    ex.file
        .reference
        .iter()
        .map(|rel| {
            let (shown, full) = ex
                .file_path(&course.root, rel)
                .ok_or_else(|| Error::Usage(format!("bad reference path {rel}")))?;
            Source::read(&full, shown)
        })
        .collect()
}

pub fn render_exercise(course: &Course, ex: &Exercise, solution: &[Source]) -> String {
    let mut out = String::new();
    let unit = course.unit_of(ex);
    let _ = writeln!(
        out,
        "{}  {}",
        ex.file.title.bold(),
        format!(
            "({}, {} points{})",
            ex.file.kind.as_str(),
            ex.file.points,
            unit.map(|u| format!(", Unit {}: {}", u.file.number, u.file.title))
                .unwrap_or_default()
        )
        .dimmed()
    );
    let _ = writeln!(out);
    out.push_str(&render_markdown(&ex.file.instructions));
    if !ex.file.predictions.is_empty() {
        let _ = writeln!(out, "\n{}", "Predict first".bold());
        for p in &ex.file.predictions {
            let _ = writeln!(out, "  ? {}", clean(&p.question));
        }
    }
    let _ = writeln!(out, "\n{}", "What is checked".bold());
    for a in &ex.assertions {
        let _ = writeln!(
            out,
            "  - {} {}",
            a.id,
            format!("({})", phase_word(a.phase)).dimmed()
        );
    }
    let _ = writeln!(
        out,
        "\nWrite your manifest to {}, then run {}",
        ex.file.learner_file.bold(),
        format!("kubelab check {} --file {}", ex.id(), ex.file.learner_file).cyan()
    );
    if !ex.file.hints.is_empty() {
        let _ = writeln!(
            out,
            "{} hint(s) available: {}",
            ex.file.hints.len(),
            format!("kubelab hint {}", ex.id()).cyan()
        );
    }
    for src in solution {
        let _ = writeln!(out, "\n{} {}", "Reference solution:".bold(), src.name);
        for line in src.text.lines() {
            let _ = writeln!(out, "    {}", clean(line));
        }
    }
    out
}

pub fn exercise_json(ex: &Exercise, solution: &[Source]) -> Json {
    json!({
        "kubelab": FORMAT_VERSION,
        "exercise": ex.file,
        "solution": solution.iter().map(|s| json!({"file": s.name, "text": s.text})).collect::<Vec<_>>(),
    })
}

pub fn render_hints(ex: &Exercise, shown: usize) -> String {
    let total = ex.file.hints.len();
    if total == 0 {
        return format!("{} has no hints.\n", ex.id());
    }
    let mut out = String::new();
    for (i, h) in ex.file.hints[..shown].iter().enumerate() {
        let _ = writeln!(
            out,
            "{} {}",
            format!("Hint {}/{total}:", i + 1).cyan().bold(),
            clean(h).trim()
        );
    }
    if shown < total {
        let _ = writeln!(
            out,
            "{}",
            format!("Run `kubelab hint {}` again for the next one.", ex.id()).dimmed()
        );
    } else {
        let _ = writeln!(out, "{}", "That was the last hint.".dimmed());
    }
    out
}
