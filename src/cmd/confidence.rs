//! `kubelab confidence`: the unit's confidence check, rated by the learner (flags or a
//! terminal prompt) and compared with the evidence of their results.

use std::io::IsTerminal;

use clap::Args;
use serde_json::json;

use super::Output;
use crate::confidence::{ask, parse_ratings, render, score};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::report::FORMAT_VERSION;
use crate::state::{State, Store};

#[derive(Args, Debug)]
pub struct ConfidenceArgs {
    /// Unit id (default: the first unit).
    pub unit: Option<String>,
    /// Your ratings, 1-5, one per statement in order: `4,3,5,2,4`.
    #[arg(long, value_name = "LIST")]
    pub self_rating: Option<String>,
}

pub fn confidence(
    args: ConfidenceArgs,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    let state = store.load();
    report(
        course,
        &state,
        args.unit.as_deref(),
        args.self_rating.as_deref(),
        output,
    )
}

fn report(
    course: &Course,
    state: &State,
    unit: Option<&str>,
    ratings: Option<&str>,
    output: Output,
) -> Result<i32, Error> {
    let unit = match unit {
        Some(id) => course.unit(id)?,
        None => course
            .units
            .first()
            .ok_or_else(|| Error::Usage("the course has no units".into()))?,
    };
    let n = unit.file.confidence.len();
    let ratings = match ratings {
        Some(t) => parse_ratings(t, n)?,
        None if output == Output::Human && std::io::stdin().is_terminal() => ask(unit),
        None => vec![None; n],
    };
    let scores = score(unit, state, &ratings);
    match output {
        Output::Json | Output::Junit => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "kubelab": FORMAT_VERSION,
                "unit": unit.file.id,
                "statements": scores,
            }))
            .expect("json")
        ),
        Output::Human => print!("{}", render(unit, &scores)),
    }
    Ok(exit::PASSED)
}
