//! `kubelab run`: offline gate, labelled apply, watch, judge, timeline and predictions.

use clap::Args;
use colored::Colorize;
use std::path::PathBuf;

use super::{Output, RunOptions, print_report, runtime};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;
use crate::state::Store;
use crate::yaml::Source;

#[derive(Args, Debug)]
pub struct RunArgs {
    pub exercise: String,
    /// Your manifest.
    #[arg(
        long,
        short = 'f',
        value_name = "FILE",
        required_unless_present = "reference",
        conflicts_with = "reference"
    )]
    pub file: Option<PathBuf>,
    /// Run the exercise's reference manifest.
    #[arg(long)]
    pub reference: bool,
    /// A prediction: `60s` for the first question, or `ID=VALUE`; repeatable. Without it,
    /// a terminal asks.
    #[arg(long, value_name = "VALUE")]
    pub predict: Vec<String>,
    #[command(flatten)]
    pub options: RunOptions,
}

pub fn run(
    args: RunArgs,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    let RunArgs {
        exercise,
        file,
        reference,
        predict,
        options,
    } = args;
    let ex = course.exercise(&exercise)?;
    let limit = options.limit()?;
    let sources: Vec<Source> = match (&file, reference) {
        (Some(f), _) => vec![Source::read(f, f.display().to_string())?],
        (None, _) => crate::show::read_references(course, ex)?,
    };
    // Offline first: a manifest with errors is never applied.
    let run_id = crate::run::new_run_id();
    let heats = match crate::run::prepare(ex, &sources, &run_id)? {
        Ok(heats) => heats,
        Err(offline) => {
            print_report(&offline, output);
            eprintln!(
                "{} {} was not applied: fix what the offline check found first",
                "refused:".red().bold(),
                offline.source
            );
            return Ok(exit::FAILED);
        }
    };
    let predictions = if predict.is_empty() {
        if output == Output::Human {
            crate::run::ask_predictions(ex)
        } else {
            Vec::new()
        }
    } else {
        crate::run::predictions_from_flags(ex, &predict)?
    };
    let prerequisites = if reference {
        prerequisites(course, ex, &run_id)?
    } else {
        Vec::new()
    };
    let outcome = runtime()?.block_on(crate::run::execute_after(
        &options.cluster.target(),
        ex,
        prerequisites,
        &heats,
        limit,
        options.replace,
    ))?;
    let Some((report, facts)) = super::judged(ex, outcome, store)? else {
        return Ok(130);
    };
    let comparisons = ex
        .target_keys()
        .first()
        .and_then(|first| facts.get(first))
        .map(|f| crate::run::compare(ex, &predictions, f))
        .unwrap_or_default();
    print_run(&report, &facts, &comparisons, ex.id(), output);
    Ok(report.exit_code())
}

/// The verdicts, each Job's timeline and the predictions compared; or all of it as JSON.
fn print_run(
    report: &crate::verdict::CheckReport,
    facts: &crate::live::Derived,
    comparisons: &[crate::run::Comparison],
    exercise: &str,
    output: Output,
) {
    match output {
        Output::Human => {
            print!("{}", report::render_check(report));
            for (name, f) in facts.iter().filter_map(|(k, f)| Some((k, f.job()?))) {
                if f.found {
                    println!();
                    print!("{}", crate::timeline::render_terminal(name, f, 60));
                }
            }
            if !comparisons.is_empty() {
                println!("\n{}", "Your predictions".bold().underline());
                for c in comparisons {
                    println!(
                        "  {}\n    you said {}, it was {}: {}",
                        c.question, c.predicted, c.measured, c.verdict
                    );
                }
            }
            println!("\nClean up with `kubelab clean {exercise}`");
        }
        Output::Json | Output::Junit => {
            super::print_json_with(
                report,
                "predictions",
                serde_json::to_value(comparisons).expect("serialises"),
            );
        }
    }
}

/// The objects this exercise compares with that another exercise's reference makes (its
/// other targets that are some exercise's first target), with those references ready to run.
fn prerequisites(
    course: &Course,
    ex: &crate::course::Exercise,
    run_id: &str,
) -> Result<Vec<crate::run::Prerequisite>, Error> {
    let mut out = Vec::new();
    for t in ex.targets().iter().skip(1) {
        let (Some(name), Some(kind)) = (&t.name, &t.api) else {
            continue;
        };
        let Some(other) = course.exercises().find(|o| {
            o.id() != ex.id()
                && o.targets()
                    .first()
                    .is_some_and(|f| f.name.as_ref() == Some(name) && f.kind.kind == t.kind.kind)
        }) else {
            continue;
        };
        let mut heat = Vec::new();
        for source in crate::show::read_references(course, other)? {
            heat.extend(crate::run::labelled_objects(other, &source, run_id)?);
        }
        out.push(crate::run::Prerequisite {
            kind: kind.clone(),
            name: name.clone(),
            heat,
        });
    }
    Ok(out)
}
