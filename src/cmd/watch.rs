//! `kubelab watch`: re-checks as the learner works (the loop lives in `crate::watch`).

use clap::Args;
use std::path::PathBuf;

use super::ClusterArgs;
use crate::course::Course;
use crate::error::Error;
use crate::state::Store;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Exercise to start with (default: the first not yet passed).
    pub exercise: Option<String>,
    /// Your manifest (default: the exercise's learner file in this folder).
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Only check the file; do not read the cluster.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn watch(args: WatchArgs, course: &Course, store: &mut Store) -> Result<i32, Error> {
    let WatchArgs {
        exercise,
        file,
        offline,
        cluster,
    } = args;
    let state = store.load();
    let first = match exercise {
        Some(id) => course.exercise(&id)?.id().to_owned(),
        None => course
            .exercises()
            .find(|e| {
                !state
                    .exercises
                    .get(e.id())
                    .and_then(|p| p.last.as_ref())
                    .is_some_and(|l| l.passed)
            })
            .or_else(|| course.exercises().next())
            .map(|e| e.id().to_owned())
            .ok_or_else(|| Error::Usage("the course has no exercises".into()))?,
    };
    let target = (!offline).then(|| cluster.target());
    crate::watch::run(
        &super::runtime_with_workers()?,
        course,
        &first,
        file,
        target,
        store,
    )
}
