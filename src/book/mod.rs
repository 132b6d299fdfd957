//! The course site's pages, written from the same `units/` files the CLI reads: a page per unit
//! (objectives, reflection, exercises, design questions, the confidence check) and a page per
//! exercise (instructions, given manifests, predictions, how to check, folded hints and
//! reference, recorded runs with their timelines and verdicts). Pure rendering: Markdown with
//! a little HTML that the book's theme (`book/theme/kubelab.js`) makes interactive offline.
//! [`preprocess`] hands the pages to mdBook.

pub mod preprocess;
mod quiz;
mod samples;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::check::phase_word;
use crate::course::{Course, Exercise, Unit};
use crate::error::Error;
use crate::model::ExerciseKind;

/// A page of the site: its chapter title, where it lands (relative to the book's source
/// folder, `.md`), its Markdown, and the pages nested under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub title: String,
    pub path: PathBuf,
    pub markdown: String,
    pub children: Vec<Page>,
}

/// Every page of the course: one per unit, with its exercises under it.
pub fn pages(course: &Course) -> Result<Vec<Page>, Error> {
    course.units.iter().map(|u| unit_page(course, u)).collect()
}

/// The folder a unit's pages live in: `units/03-parallel-processing`.
pub fn unit_dir(unit: &Unit) -> PathBuf {
    let folder = unit
        .dir
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| unit.file.id.clone());
    Path::new("units").join(folder)
}

fn unit_page(course: &Course, unit: &Unit) -> Result<Page, Error> {
    let dir = unit_dir(unit);
    let mut md = String::new();
    let f = &unit.file;
    let _ = writeln!(md, "# Unit {}: {}\n", f.number, f.title);
    let _ = writeln!(md, "{}\n", f.summary.trim());
    bullets(&mut md, "What you will be able to do", &f.objectives);
    bullets(&mut md, "Before you start: think about it", &f.reflection);
    exercise_table(&mut md, unit);
    bullets(
        &mut md,
        "After the exercises: design questions",
        &f.design_questions,
    );
    if !f.confidence.is_empty() {
        md.push_str(&quiz::confidence(unit));
    }
    let children = unit
        .exercises
        .iter()
        .enumerate()
        .map(|(i, ex)| exercise_page(course, unit, i, ex).map(|md| (ex, md)))
        .map(|r| {
            r.map(|(ex, markdown)| Page {
                title: ex.file.title.clone(),
                path: dir.join(format!("{}.md", ex.id())),
                markdown,
                children: Vec::new(),
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Page {
        title: format!("Unit {}: {}", f.number, f.title),
        path: dir.join("index.md"),
        markdown: md,
        children,
    })
}

fn bullets(md: &mut String, heading: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(md, "## {heading}\n");
    for item in items {
        let _ = writeln!(md, "- {}", one_line(item));
    }
    md.push('\n');
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn exercise_table(md: &mut String, unit: &Unit) {
    let _ = writeln!(md, "## Exercises\n");
    let _ = writeln!(md, "| # | Exercise | Kind | Points |\n|---|---|---|---|");
    for (i, ex) in unit.exercises.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {} | [{}]({}.md) | {} | {} |",
            i + 1,
            ex.file.title.replace('|', "\\|"),
            ex.id(),
            ex.file.kind.as_str(),
            ex.file.points
        );
    }
    let total: u32 = unit.exercises.iter().map(|e| e.file.points).sum();
    let _ = writeln!(md, "\n{total} points in all.\n");
}

fn exercise_page(
    course: &Course,
    unit: &Unit,
    index: usize,
    ex: &Exercise,
) -> Result<String, Error> {
    let f = &ex.file;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", f.title);
    let _ = writeln!(
        md,
        "<p class=\"kl-meta\">Unit {} · exercise {} of {} · <span class=\"kl-kind\">{}</span> · {} points · <code>{}</code></p>\n",
        unit.file.number,
        index + 1,
        unit.exercises.len(),
        f.kind.as_str(),
        f.points,
        ex.id()
    );
    let _ = writeln!(md, "{}\n", demote_headings(f.instructions.trim()));
    manifests(
        &mut md,
        course,
        ex,
        &f.given,
        "The manifest you start from",
        false,
    )?;
    predictions(&mut md, ex);
    if f.kind == ExerciseKind::Quiz {
        md.push_str(&quiz::questions(ex));
    }
    check_your_work(&mut md, ex);
    what_is_judged(&mut md, ex);
    hints(&mut md, ex);
    pitfalls(&mut md, ex);
    manifests(
        &mut md,
        course,
        ex,
        &f.reference,
        "Reference solution",
        true,
    )?;
    md.push_str(&samples::section(course, ex)?);
    Ok(md)
}

/// Instructions are written as a page of their own (`# The race`): the exercise's title takes
/// the place of their own first heading, and their other headings become sections.
fn demote_headings(text: &str) -> String {
    let mut fenced = false;
    let body = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => rest.trim_start(),
        None if text.starts_with("# ") => "",
        _ => text,
    };
    body.lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            if !fenced && line.starts_with('#') {
                format!("#{line}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn manifests(
    md: &mut String,
    course: &Course,
    ex: &Exercise,
    files: &[String],
    heading: &str,
    folded: bool,
) -> Result<(), Error> {
    if files.is_empty() {
        return Ok(());
    }
    let _ = writeln!(md, "## {heading}\n");
    for file in files {
        let (shown, full) = ex.file_path(&course.root, file).ok_or_else(|| {
            Error::Usage(format!(
                "{}: `{file}` is outside the exercise folder",
                ex.path
            ))
        })?;
        let text = std::fs::read_to_string(&full).map_err(|e| Error::io(&shown, e))?;
        let fence = if text.contains("```") { "~~~~" } else { "```" };
        let lang = if file.ends_with(".yaml") || file.ends_with(".yml") {
            "yaml"
        } else {
            ""
        };
        let code = format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end());
        if folded {
            let _ = writeln!(
                md,
                "<details class=\"kl-solution\">\n<summary>Show <code>{}</code> (try it yourself first)</summary>\n\n{code}\n</details>\n",
                html_escape(file)
            );
        } else {
            let _ = writeln!(md, "`{file}`:\n\n{code}");
        }
    }
    Ok(())
}

fn predictions(md: &mut String, ex: &Exercise) {
    if ex.file.predictions.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Predict before you run\n");
    let _ = writeln!(
        md,
        "Write your answers down first: `kubelab run {}` asks for them and compares them with what the cluster measured.\n",
        ex.id()
    );
    for p in &ex.file.predictions {
        let _ = writeln!(md, "- {}", one_line(&p.question));
    }
    md.push('\n');
}

fn check_your_work(md: &mut String, ex: &Exercise) {
    let id = ex.id();
    let file = &ex.file.learner_file;
    let mut lines = vec![(
        format!("kubelab check {id} --file {file}"),
        "your answers, judged",
    )];
    if ex.file.kind != ExerciseKind::Quiz {
        lines = vec![
            (
                format!("kubelab check {id} --file {file}"),
                "before applying: the manifest alone",
            ),
            (
                format!("kubelab run {id} --file {file}"),
                "apply, watch, judge, draw the timeline",
            ),
            (
                format!("kubelab check {id}"),
                "judge what is on the cluster now",
            ),
        ];
    }
    lines.push((format!("kubelab hint {id}"), "one more hint"));
    let width = lines.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let _ = writeln!(md, "## Check your work\n\n```console");
    for (command, why) in lines {
        let _ = writeln!(md, "$ {command:width$}   # {why}");
    }
    let _ = writeln!(md, "```\n");
}

fn what_is_judged(md: &mut String, ex: &Exercise) {
    if ex.assertions.is_empty() {
        return;
    }
    let _ = writeln!(md, "## What is judged\n");
    let _ = writeln!(md, "| Assertion | Where | Points |\n|---|---|---|");
    for a in &ex.assertions {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} |",
            a.id,
            phase_word(a.phase),
            a.points
        );
    }
    md.push('\n');
}

fn hints(md: &mut String, ex: &Exercise) {
    if ex.file.hints.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Hints\n\nOpen them one at a time.\n");
    for (i, hint) in ex.file.hints.iter().enumerate() {
        let _ = writeln!(
            md,
            "<details class=\"kl-hint\">\n<summary>Hint {}</summary>\n\n{}\n\n</details>\n",
            i + 1,
            hint.trim()
        );
    }
}

fn pitfalls(md: &mut String, ex: &Exercise) {
    if ex.pitfalls.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## When it goes wrong on a real cluster\n\nkubelab recognises these in your pods' logs and Events and explains them.\n"
    );
    for (p, _) in &ex.pitfalls {
        let _ = writeln!(
            md,
            "<details class=\"kl-pitfall\">\n<summary><code>{}</code></summary>\n\n{}\n\n</details>\n",
            p.id,
            p.explanation.trim()
        );
    }
}

/// Escapes text for HTML content and attribute values.
pub fn html_escape(text: &str) -> String {
    crate::text::clean(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
