//! The command line: its definition, and the dispatch of one parsed command to its file in
//! [`crate::cmd`], with the course loaded as much as the command needs. Turns the outcome into
//! an exit code (see [`crate::error::exit`]).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cmd::{self, ColorChoice, Output};
use crate::course::{self, Course};
use crate::error::{Error, exit};
use crate::state::Store;

#[derive(Parser, Debug)]
#[command(
    name = "kubelab",
    version,
    about = "Lab-exercise grader and courseware runner for Kubernetes courses",
    after_help = "Exit codes: 0 all passed, 1 assertions failed, 2 usage or input error, 3 cluster not readable."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The course folder (with units/); default: found from the current folder up.
    #[arg(long, global = true, env = "KUBELAB_COURSE", value_name = "DIR")]
    pub course: Option<PathBuf>,
    /// Colour: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Output format (`-o json`, as kubectl users type it).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Human)]
    pub output: Output,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List units and exercises with kind, points and your progress.
    List,
    /// Show an exercise's instructions (and the reference solution with --solution), or a
    /// unit's overview with --unit.
    Show(cmd::show::ShowArgs),
    /// Reveal the next hint of an exercise (all revealed so far are shown).
    Hint(cmd::hint::HintArgs),
    /// Check your work: the cluster (default), a manifest offline (--file) or a bundle (--from).
    Check(cmd::check::CheckArgs),
    /// Save the cluster state of an exercise to a bundle, to judge later with `check --from`.
    Collect(cmd::collect::CollectArgs),
    /// Run an exercise on the cluster: check offline, apply with kubelab's labels, watch to the
    /// end, judge, draw the timeline and compare your predictions.
    Run(cmd::run::RunArgs),
    /// The serial-vs-parallel race: run the exercise's first Job, then its second (or both at
    /// once with --together), and compare their durations with the ideal speed-up.
    Race(cmd::race::RaceArgs),
    /// Watch mode: re-check your file when it changes and re-judge the cluster when the
    /// exercise's Jobs change, showing the verdicts in place. Keys: h hint, n next, q quit.
    Watch(cmd::watch::WatchArgs),
    /// Delete what kubelab labelled for an exercise (or --all), pods included.
    Clean(cmd::clean::CleanArgs),
    /// A Gantt chart of a Job's pods over time (terminal, and SVG with --svg).
    Timeline(cmd::timeline::TimelineArgs),
    /// The unit's confidence check: each statement scored 1-5 from your results, compared with
    /// your own rating.
    Confidence(cmd::confidence::ConfidenceArgs),
    /// Grade a whole class (instructors): from a shared cluster (a roster CSV or labelled
    /// namespaces) or from a folder of handed-in bundles; writes the gradebook (CSV, JSON),
    /// JUnit and feedback for each learner into --out.
    Grade(cmd::grade::GradeArgs),
    /// A class on a shared cluster (instructors): `up` gives each learner of a roster a
    /// namespace, rights to what the course has them write there, a quota sized from the
    /// course and a kubeconfig; `status` shows them; `down` deletes what `up` made.
    Class(cmd::class::ClassArgs),
    /// The course site: build it (`book build`) or preview it (`book serve`) with mdBook.
    Book(cmd::book::BookArgs),
    /// Print a shell completion script: `kubelab completions bash > ~/.local/share/bash-completion/completions/kubelab`.
    Completions(cmd::completions::CompletionsArgs),
    /// Validate the course itself: every file, check, expression and reference manifest.
    Lint(cmd::lint::LintArgs),
    /// The read-only RBAC that judging the course needs (a namespaced Role, or the grader's
    /// ClusterRole): printed, or written to deploy/ with --write.
    Rbac(cmd::rbac::RbacArgs),
    /// Print or write the JSON Schemas of the course files (checks/schemas/).
    Schemas(cmd::schemas::SchemasArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(mut e) => {
            tip_for_output_file(&mut e);
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => exit::INPUT,
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            // kubelab reports errors itself; library logs only when asked for.
            tracing_subscriber::EnvFilter::try_from_env("KUBELAB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    cmd::setup_color(cli.global.color);
    let output = cli.global.output;
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            cmd::print_error(&e, output);
            e.exit_code()
        }
    }
}

/// `-o bundle.json`: `-o` is the output format here, as in kubectl, and a file name after it
/// is refused as a format; say where a file name goes.
fn tip_for_output_file(e: &mut clap::Error) {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let is_output = matches!(
        e.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg.starts_with("--output")
    );
    let looks_like_file = matches!(
        e.get(ContextKind::InvalidValue),
        Some(ContextValue::String(v)) if v.contains('.') || v.contains('/')
    );
    if e.kind() == ErrorKind::InvalidValue && is_output && looks_like_file {
        e.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                "`-o` is the output format (human, json or junit), as in kubectl; to write to a file, give `--out` (a bundle file for collect, a folder for grade)".into(),
            ]),
        );
    }
}

pub fn run(cli: Cli) -> Result<i32, Error> {
    let g = cli.global;
    if g.output == Output::Junit && !matches!(cli.command, Command::Check(_) | Command::Grade(_)) {
        return Err(Error::Usage(
            "--output junit is for `check` and `grade`; use human or json here".into(),
        ));
    }
    let course_flag = g.course.as_deref();
    match cli.command {
        Command::Lint(args) => cmd::lint::lint(args, course_flag, g.output),
        Command::Schemas(args) => cmd::schemas::schemas(args, course_flag),
        Command::Completions(args) => {
            use clap::CommandFactory;
            cmd::completions::completions(args, Cli::command())
        }
        Command::Book(args) => cmd::book::book(args, course_flag),
        Command::Grade(args) if args.merge.is_some() => cmd::grade::merge(args, g.output),
        command => {
            let root = course::discover(course_flag)?;
            let course = load(&root, &command)?;
            let mut store = Store::for_course(&root);
            let code = on_course(command, &course, &mut store, g.output);
            if let Some(w) = &store.warning {
                use colored::Colorize;
                eprintln!("{} {w}", "warning:".yellow().bold());
            }
            code
        }
    }
}

/// The course, or only what one exercise needs when the command is about one.
fn load(root: &std::path::Path, command: &Command) -> Result<Course, Error> {
    let one = match command {
        Command::Check(a) => Some(&a.exercise),
        Command::Collect(a) => Some(&a.exercise),
        Command::Timeline(a) => Some(&a.exercise),
        Command::Clean(a) => a.exercise.as_ref(),
        Command::Race(a) => Some(&a.exercise),
        Command::Hint(a) => Some(&a.exercise),
        // A run may need another exercise's reference first (prerequisites).
        _ => None,
    };
    match one {
        Some(exercise) => Course::load_for(root, exercise),
        None => Course::load(root),
    }
}

fn on_course(
    command: Command,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    match command {
        Command::List => cmd::list::list(course, store, output),
        Command::Show(args) => cmd::show::show(args, course, output),
        Command::Hint(args) => cmd::hint::hint(args, course, store, output),
        Command::Check(args) => cmd::check::check(args, course, store, output),
        Command::Collect(args) => cmd::collect::collect(args, course, output),
        Command::Run(args) => cmd::run::run(args, course, store, output),
        Command::Race(args) => cmd::race::race(args, course, store, output),
        Command::Watch(args) => cmd::watch::watch(args, course, store),
        Command::Clean(args) => cmd::clean::clean(args, course, output),
        Command::Timeline(args) => cmd::timeline::timeline(args, course, output),
        Command::Confidence(args) => cmd::confidence::confidence(args, course, store, output),
        Command::Grade(args) => cmd::grade::grade(args, course, output),
        Command::Rbac(args) => cmd::rbac::rbac(args, course),
        Command::Class(args) => cmd::class::class(args, course, output),
        Command::Lint(_) | Command::Schemas(_) | Command::Completions(_) | Command::Book(_) => Err(
            Error::Usage("this command does not work on a loaded course".into()),
        ),
    }
}
