//! `kubelab collect`: gathers an exercise's cluster state into a sealed bundle.

use clap::Args;
use serde_json::json;
use std::path::PathBuf;

use super::{ClusterArgs, Output, emit, runtime, write_atomically};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;
use crate::text::count;

#[derive(Args, Debug)]
pub struct CollectArgs {
    pub exercise: String,
    /// Where to write the bundle.
    #[arg(long = "out", value_name = "FILE")]
    pub out: PathBuf,
    /// Your learner id, as your instructor's roster has it: sealed into the bundle so
    /// that `kubelab grade --bundles` knows whose work it is.
    #[arg(long, env = "KUBELAB_LEARNER", value_name = "ID")]
    pub learner: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn collect(args: CollectArgs, course: &Course, output: Output) -> Result<i32, Error> {
    let CollectArgs {
        exercise,
        out,
        learner,
        cluster,
    } = args;
    let ex = course.exercise(&exercise)?;
    let runtime = runtime()?;
    let snapshot = runtime.block_on(async {
        let (client, namespace) = crate::cluster::connect(&cluster.target()).await?;
        let calls = crate::cluster::CallCount::default();
        crate::cluster::gather(&client, &namespace, &ex.plan, &calls).await
    })?;
    let bundle = crate::bundle::bundle(ex, learner, snapshot);
    write_atomically(
        &out,
        &serde_json::to_vec_pretty(&bundle).expect("bundle serialises"),
    )?;
    emit(
        output,
        || {
            let snapshot = &bundle.snapshot;
            let mut what: Vec<String> = snapshot
                .counts()
                .into_iter()
                .map(|(kind, n)| count(n, kind, &format!("{kind}s")))
                .collect();
            what.push(count(snapshot.logs.len(), "log", "logs"));
            format!(
                "wrote {} ({}; {})\n",
                out.display(),
                what.join(", "),
                bundle.digest
            )
        },
        || json!({"kubelab": report::FORMAT_VERSION, "bundle": out.display().to_string(), "digest": bundle.digest}),
    );
    Ok(exit::PASSED)
}
