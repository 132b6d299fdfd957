//! `kubelab list`: units and exercises with kind, points and the learner's progress.

use super::{Output, emit};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::state::Store;

pub fn list(course: &Course, store: &mut Store, output: Output) -> Result<i32, Error> {
    let state = store.load();
    emit(
        output,
        || crate::show::render_list(course, &state),
        || crate::show::list_json(course, &state),
    );
    Ok(exit::PASSED)
}
