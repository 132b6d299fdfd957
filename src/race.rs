//! The serial-vs-parallel race: the two Jobs' durations from their status, the speed-up against
//! the ideal for the parallelism, and why the gap is what it is (pod start-up overhead, node
//! capacity), from the derived facts.

use comfy_table::{Cell, Table, presets};
use serde::Serialize;

use crate::facts::JobFacts as Facts;

#[derive(Debug, Serialize)]
pub struct RaceResult {
    pub serial: String,
    pub parallel: String,
    pub serial_seconds: Option<f64>,
    pub parallel_seconds: Option<f64>,
    pub speed_up: Option<f64>,
    pub ideal: Option<f64>,
    /// Average seconds a parallel pod waited between creation and running.
    pub parallel_wait: Option<f64>,
    pub explanation: Vec<String>,
}

fn average_wait(f: &Facts) -> Option<f64> {
    let waits: Vec<f64> = f
        .runs
        .iter()
        .filter_map(|r| r.started.map(|s| (s - r.created).max(0.0)))
        .collect();
    (!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64)
}

fn average_run(f: &Facts) -> Option<f64> {
    let runs: Vec<f64> = f.runs.iter().filter_map(|r| r.seconds).collect();
    (!runs.is_empty()).then(|| runs.iter().sum::<f64>() / runs.len() as f64)
}

pub fn result(
    serial_name: &str,
    serial: &Facts,
    parallel_name: &str,
    parallel: &Facts,
) -> RaceResult {
    let speed_up = serial
        .duration_seconds
        .zip(parallel.duration_seconds)
        .filter(|(_, p)| *p > 0.0)
        .map(|(s, p)| (s / p * 10.0).round() / 10.0);
    let ideal = parallel.parallelism.map(f64::from);
    let wait = average_wait(parallel);
    let mut explanation = Vec::new();
    if let (Some(s), Some(i)) = (speed_up, ideal) {
        if s >= i * 0.8 {
            explanation.push(format!(
                "close to the ideal {i}x: the work dominated the overhead"
            ));
        } else {
            explanation.push(format!("{s}x against an ideal {i}x:"));
            if let (Some(w), Some(run)) = (wait, average_run(parallel)) {
                explanation.push(format!(
                    "- pod start-up overhead: each of the {} pods waited {w:.1} s on average before running, for {run:.1} s of work",
                    parallel.runs.len()
                ));
            }
            if let Some(p) = parallel.parallelism
                && (parallel.max_running as i32) < p
            {
                explanation.push(format!(
                    "- node capacity: at most {} pods ran at once, not the {p} parallelism allows",
                    parallel.max_running
                ));
            }
            if let Some(c) = parallel.completions.zip(parallel.parallelism) {
                let waves = (f64::from(c.0) / f64::from(c.1.max(1))).ceil();
                explanation.push(format!(
                    "- {} completions at {} at a time is {waves} waves, each paying start-up again",
                    c.0, c.1
                ));
            }
        }
    }
    RaceResult {
        serial: serial_name.to_owned(),
        parallel: parallel_name.to_owned(),
        serial_seconds: serial.duration_seconds,
        parallel_seconds: parallel.duration_seconds,
        speed_up,
        ideal,
        parallel_wait: wait,
        explanation,
    }
}

pub fn render(r: &RaceResult, serial: &Facts, parallel: &Facts) -> String {
    let dur = |d: Option<f64>| {
        d.map_or("not finished".to_owned(), |s| {
            crate::text::format_seconds(s)
        })
    };
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .force_no_tty();
    table.set_header(vec![
        "Job",
        "completions",
        "parallelism",
        "duration",
        "at most running",
    ]);
    for (name, f, d) in [
        (&r.serial, serial, r.serial_seconds),
        (&r.parallel, parallel, r.parallel_seconds),
    ] {
        table.add_row(vec![
            Cell::new(name),
            Cell::new(f.completions.map_or("1".into(), |c| c.to_string())),
            Cell::new(f.parallelism.map_or("1".into(), |c| c.to_string())),
            Cell::new(dur(d)),
            Cell::new(f.max_running),
        ]);
    }
    let mut out = table.to_string();
    out.push('\n');
    match (r.speed_up, r.ideal) {
        (Some(s), Some(i)) => out.push_str(&format!("speed-up {s}x (ideal {i}x)\n")),
        _ => out.push_str("speed-up: not measurable until both Jobs have finished\n"),
    }
    for line in &r.explanation {
        out.push_str(line);
        out.push('\n');
    }
    out
}
