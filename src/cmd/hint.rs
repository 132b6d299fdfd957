//! `kubelab hint`: reveals the next hint and remembers how many were shown.

use clap::Args;
use serde_json::json;

use super::{Output, emit};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;
use crate::state::Store;

#[derive(Args, Debug)]
pub struct HintArgs {
    pub exercise: String,
    /// Start again from the first hint.
    #[arg(long)]
    pub reset: bool,
}

pub fn hint(
    args: HintArgs,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    let HintArgs { exercise, reset } = args;
    let ex = course.exercise(&exercise)?;
    let total = ex.file.hints.len();
    let shown = store.update(|state| {
        let progress = state.exercises.entry(ex.id().to_owned()).or_default();
        if reset {
            progress.hints_shown = 0;
        }
        if !reset && progress.hints_shown < total {
            progress.hints_shown += 1;
        }
        progress.hints_shown.min(total)
    })?;
    emit(
        output,
        || crate::show::render_hints(ex, shown),
        || json!({"kubelab": report::FORMAT_VERSION, "exercise": ex.id(), "hints": &ex.file.hints[..shown], "total": total}),
    );
    Ok(exit::PASSED)
}
