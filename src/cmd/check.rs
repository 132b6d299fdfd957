//! `kubelab check`: a manifest offline (`--file`), a bundle (`--from`) or the cluster, judged
//! and recorded as the learner's progress.

use clap::Args;
use std::path::PathBuf;

use super::{ClusterArgs, Output, print_report, record, runtime};
use crate::course::Course;
use crate::error::Error;
use crate::report::CheckReport;
use crate::state::Store;
use crate::yaml::Source;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The exercise id, e.g. image-processor.
    pub exercise: String,
    /// Check this manifest offline, before applying it.
    #[arg(long, short = 'f', value_name = "FILE", conflicts_with = "from")]
    pub file: Option<PathBuf>,
    /// Judge a bundle saved by `kubelab collect` instead of the cluster.
    #[arg(long, value_name = "BUNDLE")]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Wait first (default 10m) until the exercise's objects settle (a Job finished, a
    /// rollout complete, a Pod ready...), showing progress.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "10m", conflicts_with_all = ["file", "from"])]
    pub wait: Option<String>,
    /// Fail if the evidence is not from this cluster (its kube-system namespace uid).
    #[arg(long, value_name = "UID")]
    pub expect_cluster: Option<String>,
}

pub fn check(
    args: CheckArgs,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    let ex = course.exercise(&args.exercise)?;
    if ex.file.kind == crate::model::ExerciseKind::Quiz && args.file.is_none() {
        return Err(Error::Usage(format!(
            "{} is a quiz: answer it in a file and run `kubelab check {} --file {}`",
            ex.id(),
            ex.id(),
            ex.file.learner_file
        )));
    }
    let report = if let Some(file) = &args.file {
        let source = Source::read(file, file.display().to_string())?;
        if ex.file.kind == crate::model::ExerciseKind::Quiz {
            crate::quiz::check(ex, &source)?
        } else {
            crate::offline::check(ex, &source)?
        }
    } else if let Some(path) = &args.from {
        let bundle = crate::bundle::read_bundle(path)?;
        crate::bundle::expect_exercise(&bundle, path, ex.id())?;
        let mut report =
            crate::live::judge(ex, &bundle.snapshot, format!("bundle {}", path.display()));
        if !crate::bundle::intact(&bundle) {
            report.passed = false;
            report.notes.insert(0, "this bundle was edited after it was collected (its digest does not match): it cannot be trusted as evidence".to_owned());
        }
        provenance(
            &mut report,
            &bundle.snapshot.cluster,
            args.expect_cluster.as_deref(),
        );
        report
    } else {
        let runtime = runtime()?;
        let (snapshot, calls) = runtime.block_on(async {
            let (client, namespace) = crate::cluster::connect(&args.cluster.target()).await?;
            if let Some(wait) = &args.wait {
                let limit = crate::check::parse_duration(wait).map_err(Error::Usage)?;
                let awaited = crate::wait::Awaited::targets(ex.targets());
                crate::wait::until_settled(&client, &namespace, &awaited, limit).await?;
            }
            let calls = crate::cluster::CallCount::default();
            let snap = crate::cluster::gather(&client, &namespace, &ex.plan, &calls).await?;
            Ok::<_, Error>((snap, calls.get()))
        })?;
        tracing::debug!(calls, "gathered");
        let mut report =
            crate::live::judge(ex, &snapshot, format!("namespace {}", snapshot.namespace));
        provenance(
            &mut report,
            &snapshot.cluster,
            args.expect_cluster.as_deref(),
        );
        report
    };
    record(store, &report)?;
    print_report(&report, output);
    Ok(report.exit_code())
}

/// Says where the evidence came from, and fails it when it is not the expected cluster.
fn provenance(
    report: &mut CheckReport,
    cluster: &crate::cluster::ClusterIdentity,
    expect: Option<&str>,
) {
    let who = format!(
        "cluster {} (kube-system uid {})",
        cluster
            .server_version
            .as_deref()
            .unwrap_or("of unknown version"),
        cluster.kube_system_uid.as_deref().unwrap_or("unknown")
    );
    if let Some(want) = expect
        && cluster.kube_system_uid.as_deref() != Some(want)
    {
        report.passed = false;
        report.notes.insert(
            0,
            format!("this evidence is from {who}, not the expected cluster {want}"),
        );
        return;
    }
    report.notes.push(format!("evidence from {who}"));
}
