//! `kubelab clean`: deletes what kubelab labelled (and the exercise's cleanup selector).

use clap::Args;
use serde_json::json;

use super::{ClusterArgs, Output, emit, runtime};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;

#[derive(Args, Debug)]
pub struct CleanArgs {
    /// Exercise id.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub exercise: Option<String>,
    /// Everything kubelab labelled in the namespace.
    #[arg(long)]
    pub all: bool,
    /// Only say what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn clean(args: CleanArgs, course: &Course, output: Output) -> Result<i32, Error> {
    let CleanArgs {
        exercise,
        all: _,
        dry_run,
        cluster,
    } = args;
    let target = match &exercise {
        Some(id) => {
            let ex = course.exercise(id)?;
            Some((ex.id(), ex.file.cleanup_selector.as_deref()))
        }
        None => None,
    };
    let selectors = crate::clean::selectors(target)?;
    // The kinds `run` applies: for one exercise its own, for all every exercise's.
    let mut kinds: Vec<crate::kinds::KindRef> = Vec::new();
    let exercises: Vec<&crate::course::Exercise> = match &exercise {
        Some(id) => vec![course.exercise(id)?],
        None => course.exercises().collect(),
    };
    for ex in exercises {
        for k in crate::run::appliable(ex) {
            if !kinds.iter().any(|x| x.kind == k.kind) {
                kinds.push(k);
            }
        }
    }
    let (gone, namespace) = runtime()?.block_on(async {
        let (client, namespace) = crate::cluster::connect(&cluster.target()).await?;
        let gone = crate::clean::clean(&client, &namespace, &kinds, &selectors, dry_run).await?;
        Ok::<_, Error>((gone, namespace))
    })?;
    let verb = if dry_run { "would delete" } else { "deleted" };
    emit(
        output,
        || {
            if gone.is_empty() {
                format!(
                    "nothing to clean in namespace {namespace} (looked for {})\n",
                    selectors.join(" or ")
                )
            } else {
                format!(
                    "{verb} in namespace {namespace}: {} (what they own, such as pods, goes with them)\n",
                    gone.iter()
                        .map(|c| format!("{}/{}", c.kind, c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        },
        || {
            let jobs: Vec<&str> = gone
                .iter()
                .filter(|c| c.kind == "Job")
                .map(|c| c.name.as_str())
                .collect();
            json!({"kubelab": report::FORMAT_VERSION, "namespace": namespace, "dry_run": dry_run, "deleted": gone, "jobs": jobs})
        },
    );
    Ok(exit::PASSED)
}
