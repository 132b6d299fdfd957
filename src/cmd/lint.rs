//! `kubelab lint`: proves the course itself (the work is in `crate::lint`).

use std::path::{Path, PathBuf};

use clap::Args;
use colored::Colorize;
use serde_json::json;

use super::{Output, emit};
use crate::course;
use crate::error::{Error, exit};
use crate::report;

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Course folder (default: the current course).
    pub path: Option<PathBuf>,
}

pub fn lint(args: LintArgs, course_flag: Option<&Path>, output: Output) -> Result<i32, Error> {
    let LintArgs { path } = args;
    let root = match path {
        Some(p) => lint_root(&p)?,
        None => course::discover(course_flag)?,
    };
    let summary = crate::lint::lint(&root)?;
    emit(
        output,
        || {
            format!(
                "{} {} unit(s), {} exercise(s), {} reference manifest(s), {} recorded run(s), {} reusable check(s), {} assertion(s)\n",
                "ok".green().bold(),
                summary.units,
                summary.exercises,
                summary.references,
                summary.samples,
                summary.checks,
                summary.assertions
            )
        },
        || json!({"kubelab": report::FORMAT_VERSION, "lint": "ok", "summary": summary}),
    );
    Ok(exit::PASSED)
}

fn lint_root(p: &Path) -> Result<PathBuf, Error> {
    if p.join("units").is_dir() {
        return Ok(p.to_path_buf());
    }
    if p.file_name().is_some_and(|n| n == "units")
        && p.is_dir()
        && let Some(parent) = p.parent()
    {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        return Ok(parent.to_path_buf());
    }
    Err(Error::Usage(format!(
        "{} is neither a course folder (with units/) nor its units/ folder",
        p.display()
    )))
}
