//! `kubelab show`: an exercise's instructions (and reference with --solution), or a unit.

use clap::Args;
use serde_json::json;

use super::{Output, emit};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Exercise id.
    #[arg(required_unless_present = "unit")]
    pub exercise: Option<String>,
    /// Show this unit's overview (objectives, reflection prompts, confidence statements).
    #[arg(long, value_name = "UNIT", conflicts_with_all = ["exercise", "solution"])]
    pub unit: Option<String>,
    /// Also print the reference manifest(s).
    #[arg(long)]
    pub solution: bool,
}

pub fn show(args: ShowArgs, course: &Course, output: Output) -> Result<i32, Error> {
    let ShowArgs {
        exercise,
        unit,
        solution,
    } = args;
    if let Some(id) = unit {
        let unit = course.unit(&id)?;
        emit(
            output,
            || crate::show::render_unit(unit),
            || json!({"kubelab": report::FORMAT_VERSION, "unit": unit.file}),
        );
        return Ok(exit::PASSED);
    }
    let ex = course.exercise(exercise.as_deref().unwrap_or_default())?;
    let refs = if solution {
        crate::show::read_references(course, ex)?
    } else {
        Vec::new()
    };
    emit(
        output,
        || crate::show::render_exercise(course, ex, &refs),
        || crate::show::exercise_json(ex, &refs),
    );
    Ok(exit::PASSED)
}
