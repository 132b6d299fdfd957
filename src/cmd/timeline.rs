//! `kubelab timeline`: the pods of an exercise's Jobs over time, for the terminal and as SVG.

use clap::Args;
use serde_json::json;
use std::path::PathBuf;

use super::{ClusterArgs, Output, emit, runtime, write_atomically};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;

#[derive(Args, Debug)]
pub struct TimelineArgs {
    pub exercise: String,
    /// Draw it from a bundle instead of the cluster.
    #[arg(long, value_name = "BUNDLE")]
    pub from: Option<PathBuf>,
    /// Also write the chart as SVG (one file; with several Jobs, one per Job: FILE-JOB.svg).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Columns for the time axis.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u16).range(10..=400))]
    pub width: u16,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn timeline(args: TimelineArgs, course: &Course, output: Output) -> Result<i32, Error> {
    let TimelineArgs {
        exercise,
        from,
        svg,
        width,
        cluster,
    } = args;
    let ex = course.exercise(&exercise)?;
    let snapshot = match &from {
        Some(path) => crate::bundle::read_bundle(path)?.snapshot,
        None => runtime()?.block_on(async {
            let (client, namespace) = crate::cluster::connect(&cluster.target()).await?;
            let calls = crate::cluster::CallCount::default();
            crate::cluster::gather(&client, &namespace, &ex.plan, &calls).await
        })?,
    };
    let mut text = String::new();
    let mut charts = Vec::new();
    for name in ex.job_names() {
        let facts = crate::facts::job::derive(&snapshot, &name);
        if !facts.found {
            continue;
        }
        text.push_str(&crate::timeline::render_terminal(
            &name,
            &facts,
            usize::from(width),
        ));
        text.push('\n');
        charts.push((name.clone(), crate::timeline::render_svg(&name, &facts)));
    }
    if charts.is_empty() {
        return Err(Error::Usage(format!(
            "no Job of exercise {} ({}) in namespace {}",
            ex.id(),
            ex.job_names().join(", "),
            snapshot.namespace
        )));
    }
    if let Some(path) = &svg {
        let several = charts.len() > 1;
        for (name, chart) in &charts {
            let file = if several {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("timeline");
                path.with_file_name(format!("{stem}-{name}.svg"))
            } else {
                path.clone()
            };
            write_atomically(&file, chart.as_bytes())?;
            text.push_str(&format!("wrote {}\n", file.display()));
        }
    }
    emit(
        output,
        || text,
        || json!({"kubelab": report::FORMAT_VERSION, "svg": charts.iter().map(|(n, s)| json!({"job": n, "svg": s})).collect::<Vec<_>>()}),
    );
    Ok(exit::PASSED)
}
