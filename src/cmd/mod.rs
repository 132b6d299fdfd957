//! The commands: one file per subcommand, each a short function that wires the layers below
//! (course, cluster, facts, judge, report) for one command; and what they share here: output
//! formats, cluster flags, printing a report or an error, recording progress.

pub mod book;
pub mod check;
pub mod class;
pub mod clean;
pub mod collect;
pub mod completions;
pub mod confidence;
pub mod grade;
pub mod hint;
pub mod lint;
pub mod list;
pub mod race;
pub mod rbac;
pub mod run;
pub mod schemas;
pub mod show;
pub mod timeline;
pub mod watch;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use colored::Colorize;
use serde_json::json;

use crate::error::Error;
use crate::report::{self, CheckReport};
use crate::state::{LastVerdict, Store};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Human,
    Json,
    /// JUnit XML (`check` and `grade` only).
    Junit,
}

/// How `run` and `race` apply and watch, and where.
#[derive(Args, Debug, Clone)]
pub struct RunOptions {
    /// How long to watch before judging what there is.
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub timeout: String,
    /// If a Job kubelab created is in the way with an immutable difference, delete and
    /// re-create it.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl RunOptions {
    /// The watch's time limit, or a usage error naming the bad duration.
    pub fn limit(&self) -> Result<jiff::SignedDuration, Error> {
        crate::check::parse_duration(&self.timeout).map_err(Error::Usage)
    }
}

/// Where the cluster is, as kubectl's flags say.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Path to the kubeconfig (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace).
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// How long one API request may take: `30s`, `1m`.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub request_timeout: std::time::Duration,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = crate::check::parse_duration(s)?;
    Ok(std::time::Duration::from_secs_f64(d.as_secs_f64().max(0.1)))
}

impl ClusterArgs {
    pub fn target(&self) -> crate::cluster::Target {
        crate::cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            request_timeout: Some(self.request_timeout),
        }
    }
}

pub fn setup_color(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(on);
}

pub fn print_error(e: &Error, output: Output) {
    if output == Output::Json {
        let body = json!({
            "kubelab": report::FORMAT_VERSION,
            "error": {
                "exit_code": e.exit_code(),
                "diagnostics": e.diagnostics(),
            }
        });
        println!("{}", serde_json::to_string_pretty(&body).expect("json"));
        return;
    }
    let mut stderr = std::io::stderr().lock();
    match e {
        Error::Input(diags) => {
            for d in diags {
                let _ = writeln!(
                    stderr,
                    "{} {}",
                    "error:".red().bold(),
                    report::render_diagnostic(d)
                );
            }
            if diags.len() > 1 {
                let _ = writeln!(stderr, "{} problems found", diags.len());
            }
        }
        Error::Cluster { message, help } => {
            let _ = writeln!(stderr, "{} {}", "error:".red().bold(), message);
            if let Some(h) = help {
                let _ = writeln!(stderr, "  {} {h}", "help:".cyan());
            }
        }
        other => {
            let _ = writeln!(stderr, "{} {other}", "error:".red().bold());
        }
    }
}

pub fn emit(
    output: Output,
    human: impl FnOnce() -> String,
    json: impl FnOnce() -> serde_json::Value,
) {
    match output {
        Output::Human => print!("{}", human()),
        Output::Json | Output::Junit => {
            println!("{}", serde_json::to_string_pretty(&json()).expect("json"))
        }
    }
}

/// The runtime a command's cluster work runs on: one thread. A command's work is concurrent
/// reads (and writes, for run) and judging what they return; on one thread nothing is handed
/// between threads. A class's grade (benches/class_load.rs) took 30% less CPU time and 15%
/// less memory than on two workers, in the same wall time.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))
}

/// For watch mode, whose thread waits for the learner's keys and file while the cluster's
/// watch runs on the runtime: a one-thread runtime runs tasks only inside `block_on`.
pub fn runtime_with_workers() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))
}

/// One atomic writer for every file kubelab writes.
pub use crate::error::write_atomically;

pub fn record(store: &mut Store, report: &CheckReport) -> Result<(), Error> {
    store.update(|state| {
        let p = state.exercises.entry(report.exercise.clone()).or_default();
        p.last = Some(LastVerdict {
            passed: report.passed,
            mode: report.mode,
            earned: f64::from(report.score.earned),
            possible: f64::from(report.score.possible),
            at: jiff::Timestamp::now().to_string(),
        });
        if report.mode == crate::check::Mode::Live {
            p.last_live = p.last.clone();
        }
    })
}

pub fn print_report(report: &CheckReport, output: Output) {
    if output == Output::Junit {
        print!("{}", crate::junit::check_report(report));
        return;
    }
    emit(
        output,
        || report::render_check(report),
        || serde_json::to_value(report).expect("report serialises"),
    );
}

/// A judged run: the report, and the facts derived per target.
pub type Judged = (CheckReport, crate::live::Derived);

/// A run's snapshot judged and recorded as progress, with the facts derived on the way; None
/// when the learner stopped watching (Ctrl-C).
pub fn judged(
    ex: &crate::course::Exercise,
    outcome: Option<crate::cluster::Snapshot>,
    store: &mut Store,
) -> Result<Option<Judged>, Error> {
    let Some(snapshot) = outcome else {
        return Ok(None);
    };
    let (report, facts) =
        crate::live::assess(ex, &snapshot, format!("namespace {}", snapshot.namespace));
    record(store, &report)?;
    Ok(Some((report, facts)))
}

/// The report as JSON with one more member (`race`, `predictions`).
pub fn print_json_with(report: &CheckReport, key: &str, value: serde_json::Value) {
    let mut v = serde_json::to_value(report).expect("report serialises");
    v[key] = value;
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
}
