//! `kubelab race`: the serial Job against the parallel one, and the speed-up.

use clap::Args;

use super::{Output, RunOptions, print_report, runtime};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report;
use crate::state::Store;

#[derive(Args, Debug)]
pub struct RaceArgs {
    /// The race exercise (its first target is the serial Job, the second the parallel one).
    #[arg(long, default_value = "race")]
    pub exercise: String,
    /// Start both Jobs at once instead of one after the other.
    #[arg(long)]
    pub together: bool,
    #[command(flatten)]
    pub options: RunOptions,
}

pub fn race(
    args: RaceArgs,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    let RaceArgs {
        exercise,
        together,
        options,
    } = args;
    let ex = course.exercise(&exercise)?;
    let names = ex.job_names();
    if names.len() < 2 {
        return Err(Error::Usage(format!(
            "{} names fewer than two Jobs to race",
            ex.id()
        )));
    }
    let limit = options.limit()?;
    let sources = crate::show::read_references(course, ex)?;
    let jobs: Vec<serde_json::Value> =
        match crate::run::prepare(ex, &sources, &crate::run::new_run_id())? {
            Ok(heats) => heats.into_iter().flatten().collect(),
            Err(offline) => {
                print_report(&offline, output);
                return Ok(exit::FAILED);
            }
        };
    let heats = heats(&jobs, &names, together);
    let outcome = runtime()?.block_on(crate::run::execute(
        &options.cluster.target(),
        ex,
        &heats,
        limit,
        options.replace,
    ))?;
    let Some((report, facts)) = super::judged(ex, outcome, store)? else {
        return Ok(130);
    };
    let job = |n: &str| {
        facts
            .get(n)
            .and_then(crate::facts::TargetFacts::job)
            .ok_or_else(|| Error::Usage(format!("{} has no Job target named {n}", ex.id())))
    };
    let (serial, parallel) = (job(&names[0])?, job(&names[1])?);
    let race = crate::race::result(&names[0], serial, &names[1], parallel);
    match output {
        Output::Human => {
            print!("{}", report::render_check(&report));
            println!("\n{}", crate::race::render(&race, serial, parallel));
            println!("Clean up with `kubelab clean {}`", ex.id());
        }
        Output::Json | Output::Junit => {
            super::print_json_with(
                &report,
                "race",
                serde_json::to_value(&race).expect("serialises"),
            );
        }
    }
    Ok(report.exit_code())
}

/// The race's heats: the first two Jobs one after the other, or both at once.
fn heats(
    jobs: &[serde_json::Value],
    names: &[String],
    together: bool,
) -> Vec<Vec<serde_json::Value>> {
    let job_named = |n: &str| {
        jobs.iter()
            .find(|j| {
                j.pointer("/metadata/name")
                    .and_then(serde_json::Value::as_str)
                    == Some(n)
            })
            .cloned()
    };
    let two = names.iter().take(2).filter_map(|n| job_named(n));
    if together {
        vec![two.collect()]
    } else {
        two.map(|j| vec![j]).collect()
    }
}
