//! Command-line interface: parses arguments, runs one command, prints its result and turns the
//! outcome into an exit code (see [`crate::error::exit`]).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use colored::Colorize;
use serde_json::json;

use crate::course::{self, Course};
use crate::error::{Error, exit};
use crate::report::{self, CheckReport};
use crate::state::{LastVerdict, Store};
use crate::yaml::Source;

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
    /// The course folder (with units/ and checks/); default: found from the current folder.
    #[arg(long, global = true, env = "KUBELAB_COURSE", value_name = "DIR")]
    pub course: Option<PathBuf>,
    /// Colour: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Human)]
    pub output: Output,
}

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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List units and exercises with kind, points and your progress.
    List,
    /// Show an exercise's instructions (and the reference solution with --solution), or a
    /// unit's overview with --unit.
    Show {
        /// Exercise id.
        #[arg(required_unless_present = "unit")]
        exercise: Option<String>,
        /// Show this unit's overview (objectives, reflection prompts, confidence statements).
        #[arg(long, value_name = "UNIT", conflicts_with_all = ["exercise", "solution"])]
        unit: Option<String>,
        /// Also print the reference manifest(s).
        #[arg(long)]
        solution: bool,
    },
    /// Reveal the next hint of an exercise (all revealed so far are shown).
    Hint {
        exercise: String,
        /// Start again from the first hint.
        #[arg(long)]
        reset: bool,
    },
    /// Check your work: the cluster (default), a manifest offline (--file) or a bundle (--from).
    Check(CheckArgs),
    /// Save the cluster state of an exercise to a bundle, to judge later with `check --from`.
    Collect {
        exercise: String,
        /// Where to write the bundle.
        #[arg(long = "out", short = 'o', value_name = "FILE")]
        out: PathBuf,
        /// Your learner id, as your instructor's roster has it: sealed into the bundle so
        /// that `kubelab grade --bundles` knows whose work it is.
        #[arg(long, env = "KUBELAB_LEARNER", value_name = "ID")]
        learner: Option<String>,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Run an exercise on the cluster: check offline, apply with kubelab's labels, watch to the
    /// end, judge, draw the timeline and compare your predictions.
    Run {
        exercise: String,
        /// Your manifest.
        #[arg(
            long,
            short = 'f',
            value_name = "FILE",
            required_unless_present = "reference",
            conflicts_with = "reference"
        )]
        file: Option<PathBuf>,
        /// Run the exercise's reference manifest.
        #[arg(long)]
        reference: bool,
        /// A prediction: `60s` for the first question, or `ID=VALUE`; repeatable. Without it,
        /// a terminal asks.
        #[arg(long, value_name = "VALUE")]
        predict: Vec<String>,
        /// How long to watch before judging what there is.
        #[arg(long, default_value = "10m", value_name = "DURATION")]
        timeout: String,
        /// If a Job kubelab created is in the way with an immutable difference, delete and
        /// re-create it.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// The serial-vs-parallel race: run the exercise's first Job, then its second (or both at
    /// once with --together), and compare their durations with the ideal speed-up.
    Race {
        /// The race exercise (its first target is the serial Job, the second the parallel one).
        #[arg(long, default_value = "race")]
        exercise: String,
        /// Start both Jobs at once instead of one after the other.
        #[arg(long)]
        together: bool,
        #[arg(long, default_value = "10m", value_name = "DURATION")]
        timeout: String,
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Watch mode: re-check your file when it changes and re-judge the cluster when the
    /// exercise's Jobs change, showing the verdicts in place. Keys: h hint, n next, q quit.
    Watch {
        /// Exercise to start with (default: the first not yet passed).
        exercise: Option<String>,
        /// Your manifest (default: the exercise's learner file in this folder).
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Only check the file; do not read the cluster.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Delete what kubelab labelled for an exercise (or --all), pods included.
    Clean {
        /// Exercise id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        exercise: Option<String>,
        /// Every Job kubelab labelled in the namespace.
        #[arg(long)]
        all: bool,
        /// Only say what would be deleted.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// A Gantt chart of a Job's pods over time (terminal, and SVG with --svg).
    Timeline {
        exercise: String,
        /// Draw it from a bundle instead of the cluster.
        #[arg(long, value_name = "BUNDLE")]
        from: Option<PathBuf>,
        /// Also write the chart as SVG (one file; with several Jobs, one per Job: FILE-JOB.svg).
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Columns for the time axis.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u16).range(10..=400))]
        width: u16,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// The unit's confidence check: each statement scored 1-5 from your results, compared with
    /// your own rating.
    Confidence {
        /// Unit id (default: the first unit).
        unit: Option<String>,
        /// Your ratings, 1-5, one per statement in order: `4,3,5,2,4`.
        #[arg(long, value_name = "LIST")]
        self_rating: Option<String>,
    },
    /// Grade a whole class (instructors): from a shared cluster (a roster CSV or labelled
    /// namespaces) or from a folder of handed-in bundles; writes the gradebook (CSV, JSON),
    /// JUnit and feedback for each learner into --out.
    Grade(crate::cmd::grade::GradeArgs),
    /// The course site: build it (`book build`) or preview it (`book serve`) with mdBook.
    Book(crate::cmd::book::BookArgs),
    /// Print a shell completion script: `kubelab completions bash > ~/.local/share/bash-completion/completions/kubelab`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Validate the course itself: every file, check, expression and reference manifest.
    Lint {
        /// Course folder (default: the current course).
        path: Option<PathBuf>,
    },
    /// Print or write the JSON Schemas of the course files (checks/schemas/).
    Schemas {
        /// Write them into the course's checks/schemas/ instead of printing.
        #[arg(long)]
        write: bool,
    },
}

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
    /// Wait for the Job to finish first (default 10m), showing progress.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "10m", conflicts_with_all = ["file", "from"])]
    pub wait: Option<String>,
    /// Fail if the evidence is not from this cluster (its kube-system namespace uid).
    #[arg(long, value_name = "UID")]
    pub expect_cluster: Option<String>,
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

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
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
    setup_color(cli.global.color);
    let output = cli.global.output;
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            print_error(&e, output);
            e.exit_code()
        }
    }
}

fn setup_color(choice: ColorChoice) {
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

pub fn run(cli: Cli) -> Result<i32, Error> {
    let g = cli.global;
    if g.output == Output::Junit && !matches!(cli.command, Command::Check(_) | Command::Grade(_)) {
        return Err(Error::Usage(
            "--output junit is for `check` and `grade`; use human or json here".into(),
        ));
    }
    match cli.command {
        Command::Lint { path } => {
            let root = match path {
                Some(p) => lint_root(&p)?,
                None => course::discover(g.course.as_deref())?,
            };
            let summary = crate::course::lint::lint(&root)?;
            emit(
                g.output,
                || {
                    format!(
                        "{} {} unit(s), {} exercise(s), {} reference manifest(s), {} recorded run(s), {} reusable check(s), {} assertion(s)\n",
                        "ok".green().bold(),
                        summary.units,
                        summary.exercises,
                        summary.references,
                        summary.samples,
                        summary.checks,
                        summary.assertions
                    )
                },
                || json!({"kubelab": report::FORMAT_VERSION, "lint": "ok", "summary": summary}),
            );
            Ok(exit::PASSED)
        }
        Command::Schemas { write } => {
            let files = course::schema_files();
            if write {
                let root = course::discover(g.course.as_deref())?;
                let dir = root.join("checks").join("schemas");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::io(&dir.display().to_string(), e))?;
                let kube_dir = dir.join("kubernetes");
                std::fs::create_dir_all(&kube_dir)
                    .map_err(|e| Error::io(&kube_dir.display().to_string(), e))?;
                let kube = crate::manifest::kube_schema::KINDS
                    .iter()
                    .filter_map(|(v, k)| {
                        crate::manifest::kube_schema::schema_json(v, k).map(|s| {
                            (
                                format!(
                                    "kubernetes/{}",
                                    crate::manifest::kube_schema::file_name(v, k)
                                ),
                                s,
                            )
                        })
                    });
                let all: Vec<(String, serde_json::Value)> = files
                    .into_iter()
                    .map(|(n, s)| (n.to_owned(), s))
                    .chain(kube)
                    .collect();
                for (name, schema) in all {
                    let path = dir.join(name);
                    let text = serde_json::to_string_pretty(&schema).expect("json") + "\n";
                    std::fs::write(&path, text)
                        .map_err(|e| Error::io(&path.display().to_string(), e))?;
                    println!("wrote {}", path.display());
                }
            } else {
                let all: serde_json::Map<String, serde_json::Value> =
                    files.into_iter().map(|(n, s)| (n.to_owned(), s)).collect();
                println!("{}", serde_json::to_string_pretty(&all).expect("json"));
            }
            Ok(exit::PASSED)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "kubelab", &mut std::io::stdout());
            Ok(exit::PASSED)
        }
        Command::Book(args) => crate::cmd::book::book(args, g.course.as_deref()),
        Command::Grade(args) if args.merge.is_some() => crate::cmd::grade::merge(args, g.output),
        command => {
            let root = course::discover(g.course.as_deref())?;
            let course = match &command {
                Command::Check(args) => Course::load_for(&root, &args.exercise)?,
                Command::Collect { exercise, .. } | Command::Timeline { exercise, .. } => {
                    Course::load_for(&root, exercise)?
                }
                Command::Clean {
                    exercise: Some(exercise),
                    ..
                } => Course::load_for(&root, exercise)?,
                // A run may need another exercise's reference first (prerequisites).
                Command::Run { .. } => Course::load(&root)?,
                Command::Race { exercise, .. } => Course::load_for(&root, exercise)?,
                Command::Hint { exercise, .. } => Course::load_for(&root, exercise)?,
                _ => Course::load(&root)?,
            };
            let mut store = Store::for_course(&root);
            let code = run_on_course(command, &course, &mut store, g.output);
            if let Some(w) = &store.warning {
                eprintln!("{} {w}", "warning:".yellow().bold());
            }
            code
        }
    }
}

fn lint_root(p: &Path) -> Result<PathBuf, Error> {
    if p.join("units").is_dir() {
        return Ok(p.to_path_buf());
    }
    if p.file_name().is_some_and(|n| n == "units")
        && p.is_dir()
        && let Some(parent) = p.parent()
    {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        return Ok(parent.to_path_buf());
    }
    Err(Error::Usage(format!(
        "{} is neither a course folder (with units/) nor its units/ folder",
        p.display()
    )))
}

fn run_on_course(
    command: Command,
    course: &Course,
    store: &mut Store,
    output: Output,
) -> Result<i32, Error> {
    match command {
        Command::Grade(args) => crate::cmd::grade::grade(args, course, output),
        Command::List => {
            let state = store.load();
            emit(
                output,
                || crate::show::render_list(course, &state),
                || crate::show::list_json(course, &state),
            );
            Ok(exit::PASSED)
        }
        Command::Show {
            exercise,
            unit,
            solution,
        } => {
            if let Some(id) = unit {
                let unit = course.unit(&id)?;
                emit(
                    output,
                    || crate::show::render_unit(unit),
                    || json!({"kubelab": report::FORMAT_VERSION, "unit": unit.file}),
                );
                return Ok(exit::PASSED);
            }
            let ex = course.exercise(exercise.as_deref().unwrap_or_default())?;
            let refs = if solution {
                crate::show::read_references(course, ex)?
            } else {
                Vec::new()
            };
            emit(
                output,
                || crate::show::render_exercise(course, ex, &refs),
                || crate::show::exercise_json(ex, &refs),
            );
            Ok(exit::PASSED)
        }
        Command::Hint { exercise, reset } => {
            let ex = course.exercise(&exercise)?;
            let mut state = store.load();
            let progress = state.exercises.entry(ex.id().to_owned()).or_default();
            if reset {
                progress.hints_shown = 0;
            }
            let total = ex.file.hints.len();
            if !reset && progress.hints_shown < total {
                progress.hints_shown += 1;
            }
            let shown = progress.hints_shown.min(total);
            store.save(&state)?;
            emit(
                output,
                || crate::show::render_hints(ex, shown),
                || json!({"kubelab": report::FORMAT_VERSION, "exercise": ex.id(), "hints": &ex.file.hints[..shown], "total": total}),
            );
            Ok(exit::PASSED)
        }
        Command::Check(args) => {
            let ex = course.exercise(&args.exercise)?;
            if ex.file.kind == crate::course::model::ExerciseKind::Quiz && args.file.is_none() {
                return Err(Error::Usage(format!(
                    "{} is a quiz: answer it in a file and run `kubelab check {} --file {}`",
                    ex.id(),
                    ex.id(),
                    ex.file.learner_file
                )));
            }
            let report = if let Some(file) = &args.file {
                let source = Source::read(file, file.display().to_string())?;
                if ex.file.kind == crate::course::model::ExerciseKind::Quiz {
                    crate::quiz::check(ex, &source)?
                } else {
                    crate::offline::check(ex, &source)?
                }
            } else if let Some(path) = &args.from {
                let bundle = crate::live::read_bundle(path)?;
                if bundle.exercise != ex.id() {
                    return Err(Error::Usage(format!(
                        "{} is a bundle of exercise `{}`, not `{}`",
                        path.display(),
                        bundle.exercise,
                        ex.id()
                    )));
                }
                let mut report =
                    crate::live::judge(ex, &bundle.snapshot, format!("bundle {}", path.display()));
                if !crate::live::intact(&bundle) {
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
                    let (client, namespace) =
                        crate::cluster::connect(&args.cluster.target()).await?;
                    if let Some(wait) = &args.wait {
                        let limit = crate::check::parse_duration(wait).map_err(Error::Usage)?;
                        crate::wait::wait_for_jobs(&client, &namespace, &ex.target_names(), limit)
                            .await?;
                    }
                    let calls = crate::cluster::CallCount::default();
                    let snap =
                        crate::cluster::gather(&client, &namespace, &ex.target_names(), &calls)
                            .await?;
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
        Command::Collect {
            exercise,
            out,
            learner,
            cluster,
        } => {
            let ex = course.exercise(&exercise)?;
            let runtime = runtime()?;
            let snapshot = runtime.block_on(async {
                let (client, namespace) = crate::cluster::connect(&cluster.target()).await?;
                let calls = crate::cluster::CallCount::default();
                crate::cluster::gather(&client, &namespace, &ex.target_names(), &calls).await
            })?;
            let bundle = crate::live::bundle(ex, learner, snapshot);
            write_atomically(
                &out,
                &serde_json::to_vec_pretty(&bundle).expect("bundle serialises"),
            )?;
            emit(
                output,
                || {
                    format!(
                        "wrote {} ({} Jobs, {} pods, {} Events, {} logs; {})\n",
                        out.display(),
                        bundle.snapshot.jobs.len(),
                        bundle.snapshot.pods.len(),
                        bundle.snapshot.events.len(),
                        bundle.snapshot.logs.len(),
                        bundle.digest
                    )
                },
                || json!({"kubelab": report::FORMAT_VERSION, "bundle": out.display().to_string(), "digest": bundle.digest}),
            );
            Ok(exit::PASSED)
        }
        Command::Timeline {
            exercise,
            from,
            svg,
            width,
            cluster,
        } => {
            let ex = course.exercise(&exercise)?;
            let snapshot = match &from {
                Some(path) => crate::live::read_bundle(path)?.snapshot,
                None => runtime()?.block_on(async {
                    let (client, namespace) = crate::cluster::connect(&cluster.target()).await?;
                    let calls = crate::cluster::CallCount::default();
                    crate::cluster::gather(&client, &namespace, &ex.target_names(), &calls).await
                })?,
            };
            let mut text = String::new();
            let mut charts = Vec::new();
            for name in ex.target_names() {
                let facts = crate::facts::derive(&snapshot, &name);
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
                    ex.target_names().join(", "),
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
        Command::Run {
            exercise,
            file,
            reference,
            predict,
            timeout,
            replace,
            cluster,
        } => {
            let ex = course.exercise(&exercise)?;
            let limit = crate::check::parse_duration(&timeout).map_err(Error::Usage)?;
            let sources: Vec<Source> = match (&file, reference) {
                (Some(f), _) => vec![Source::read(f, f.display().to_string())?],
                (None, _) => crate::show::read_references(course, ex)?,
            };
            // Offline first: a manifest with errors is never applied.
            let run_id = crate::run::new_run_id();
            let jobs = match crate::run::prepare(ex, &sources, &run_id)? {
                Ok(jobs) => jobs,
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
                &cluster.target(),
                ex,
                prerequisites,
                &[jobs],
                limit,
                replace,
            ))?;
            let Some(snapshot) = outcome else {
                return Ok(130);
            };
            let (report, facts) =
                crate::live::assess(ex, &snapshot, format!("namespace {}", snapshot.namespace));
            record(store, &report)?;
            let comparisons = ex
                .target_names()
                .first()
                .and_then(|first| facts.get(first))
                .map(|f| crate::run::compare(ex, &predictions, f))
                .unwrap_or_default();
            match output {
                Output::Human => {
                    print!("{}", report::render_check(&report));
                    for (name, f) in facts.iter().filter(|(_, f)| f.found) {
                        println!();
                        print!("{}", crate::timeline::render_terminal(name, f, 60));
                    }
                    if !comparisons.is_empty() {
                        println!("\n{}", "Your predictions".bold().underline());
                        for c in &comparisons {
                            println!(
                                "  {}\n    you said {}, it was {}: {}",
                                c.question, c.predicted, c.measured, c.verdict
                            );
                        }
                    }
                    println!("\nClean up with `kubelab clean {}`", ex.id());
                }
                Output::Json | Output::Junit => {
                    let mut v = serde_json::to_value(&report).expect("report serialises");
                    v["predictions"] = serde_json::to_value(&comparisons).expect("serialises");
                    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
                }
            }
            Ok(report.exit_code())
        }
        Command::Watch {
            exercise,
            file,
            offline,
            cluster,
        } => {
            let state = store.load();
            let first = match exercise {
                Some(id) => course.exercise(&id)?.id().to_owned(),
                None => course
                    .exercises()
                    .find(|e| {
                        !state
                            .exercises
                            .get(e.id())
                            .and_then(|p| p.last.as_ref())
                            .is_some_and(|l| l.passed)
                    })
                    .or_else(|| course.exercises().next())
                    .map(|e| e.id().to_owned())
                    .ok_or_else(|| Error::Usage("the course has no exercises".into()))?,
            };
            let target = (!offline).then(|| cluster.target());
            crate::watch::run(course, &first, file, target, store)
        }
        Command::Race {
            exercise,
            together,
            timeout,
            replace,
            cluster,
        } => {
            let ex = course.exercise(&exercise)?;
            let names = ex.target_names();
            if names.len() < 2 {
                return Err(Error::Usage(format!(
                    "{} names fewer than two Jobs to race",
                    ex.id()
                )));
            }
            let limit = crate::check::parse_duration(&timeout).map_err(Error::Usage)?;
            let sources = crate::show::read_references(course, ex)?;
            let jobs = match crate::run::prepare(ex, &sources, &crate::run::new_run_id())? {
                Ok(jobs) => jobs,
                Err(offline) => {
                    print_report(&offline, output);
                    return Ok(exit::FAILED);
                }
            };
            let job_named = |n: &str| {
                jobs.iter()
                    .find(|j| {
                        j.pointer("/metadata/name")
                            .and_then(serde_json::Value::as_str)
                            == Some(n)
                    })
                    .cloned()
            };
            let heats: Vec<Vec<serde_json::Value>> = if together {
                vec![names.iter().take(2).filter_map(|n| job_named(n)).collect()]
            } else {
                names
                    .iter()
                    .take(2)
                    .filter_map(|n| job_named(n))
                    .map(|j| vec![j])
                    .collect()
            };
            let outcome = runtime()?.block_on(crate::run::execute(
                &cluster.target(),
                ex,
                &heats,
                limit,
                replace,
            ))?;
            let Some(snapshot) = outcome else {
                return Ok(130);
            };
            let (report, facts) =
                crate::live::assess(ex, &snapshot, format!("namespace {}", snapshot.namespace));
            record(store, &report)?;
            let (serial, parallel) = (&facts[&names[0]], &facts[&names[1]]);
            let race = crate::race::result(&names[0], serial, &names[1], parallel);
            match output {
                Output::Human => {
                    print!("{}", report::render_check(&report));
                    println!("\n{}", crate::race::render(&race, serial, parallel));
                    println!("Clean up with `kubelab clean {}`", ex.id());
                }
                Output::Json | Output::Junit => {
                    let mut v = serde_json::to_value(&report).expect("report serialises");
                    v["race"] = serde_json::to_value(&race).expect("serialises");
                    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
                }
            }
            Ok(report.exit_code())
        }
        Command::Clean {
            exercise,
            all: _,
            dry_run,
            cluster,
        } => {
            let target = match &exercise {
                Some(id) => {
                    let ex = course.exercise(id)?;
                    Some((ex.id(), ex.file.cleanup_selector.as_deref()))
                }
                None => None,
            };
            let selectors = crate::clean::selectors(target)?;
            let (gone, namespace) = runtime()?.block_on(async {
                let (client, namespace) = crate::cluster::connect(&cluster.target()).await?;
                let gone = crate::clean::clean(&client, &namespace, &selectors, dry_run).await?;
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
                            "{verb} in namespace {namespace}: {} (Jobs; their pods go with them)\n",
                            gone.join(", ")
                        )
                    }
                },
                || json!({"kubelab": report::FORMAT_VERSION, "namespace": namespace, "dry_run": dry_run, "jobs": gone}),
            );
            Ok(exit::PASSED)
        }
        Command::Confidence { unit, self_rating } => {
            let state = store.load();
            crate::confidence::run(
                course,
                &state,
                unit.as_deref(),
                self_rating.as_deref(),
                output,
            )
        }
        Command::Lint { .. }
        | Command::Schemas { .. }
        | Command::Completions { .. }
        | Command::Book(_) => {
            unreachable!("handled before loading")
        }
    }
}

/// The Jobs this exercise compares with that another exercise's reference makes (its other
/// targets that are some exercise's first target), with those references ready to run.
fn prerequisites(
    course: &Course,
    ex: &crate::course::Exercise,
    run_id: &str,
) -> Result<Vec<crate::run::Prerequisite>, Error> {
    let mut out = Vec::new();
    for job in ex.target_names().into_iter().skip(1) {
        let Some(other) = course
            .exercises()
            .find(|o| o.id() != ex.id() && o.target_names().first() == Some(&job))
        else {
            continue;
        };
        let mut heat = Vec::new();
        for source in crate::show::read_references(course, other)? {
            heat.extend(crate::run::labelled_jobs(other, &source, run_id)?);
        }
        out.push(crate::run::Prerequisite { job, heat });
    }
    Ok(out)
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))
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

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let shown = path.display().to_string();
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&shown, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(&shown, e))
}

fn record(store: &mut Store, report: &CheckReport) -> Result<(), Error> {
    let mut state = store.load();
    let p = state.exercises.entry(report.exercise.clone()).or_default();
    p.last = Some(LastVerdict {
        passed: report.passed,
        mode: serde_json::to_value(report.mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        earned: report.score.earned,
        possible: report.score.possible,
        at: jiff::Timestamp::now().to_string(),
    });
    if report.mode == crate::check::Mode::Live {
        p.last_live = p.last.clone();
    }
    store.save(&state)
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
