//! `kubelab grade` and `kubelab grade merge`: arguments, progress, printing and files.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use colored::Colorize;

use super::{ClusterArgs, Output, emit, runtime};
use crate::course::Course;
use crate::error::{Error, exit};
use crate::grade::gradebook::{self, Gradebook};
use crate::grade::{Request, Shard, Source, outputs, parts, summary};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GradeArgs {
    #[command(subcommand)]
    pub merge: Option<GradeCommand>,
    /// Exercises to grade (default: every exercise of --unit, or of the course; quizzes are
    /// answered in files and are not graded here).
    pub exercises: Vec<String>,
    /// Grade every exercise of this unit.
    #[arg(long, value_name = "UNIT", conflicts_with = "exercises")]
    pub unit: Option<String>,
    /// The class list: CSV with header `learner,namespace` and optional `context` (a
    /// kubeconfig context per learner) and `cluster` (the kube-system uid their work must
    /// come from) columns.
    #[arg(long, value_name = "CSV", required_unless_present_any = ["namespace_selector", "bundles"])]
    pub roster: Option<PathBuf>,
    /// Find the class by a label on namespaces (`kubelab.dev/learner`); the label's value is
    /// the learner id.
    #[arg(long, value_name = "LABEL", conflicts_with_all = ["roster", "bundles"])]
    pub namespace_selector: Option<String>,
    /// Grade a folder of bundles handed in (`kubelab collect --learner ID`) instead of a
    /// cluster; with --roster, learners without a bundle are graded missing.
    #[arg(long, value_name = "DIR")]
    pub bundles: Option<PathBuf>,
    /// Work finished (Job completion, bundle collection) after this is flagged late; points
    /// are kept. RFC 3339, `YYYY-MM-DDTHH:MM` (UTC) or `YYYY-MM-DD` (its end, UTC).
    #[arg(long, value_name = "TIME")]
    pub deadline: Option<String>,
    /// Grade only slice I of N (0-based, as an Indexed Job's JOB_COMPLETION_INDEX); merge
    /// the parts with `kubelab grade merge`.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Fail (flag `mismatch`) work that is not from the cluster with this kube-system uid.
    #[arg(long, value_name = "UID")]
    pub expect_cluster: Option<String>,
    /// Where the gradebook, JUnit file and feedback are written. `-` writes only the
    /// gradebook, framed and digest-checked, to standard output: a shard's pod log, which
    /// `grade merge --job` reads (deploy/grade-job.yaml).
    #[arg(long, value_name = "DIR", default_value = "grades")]
    pub out: PathBuf,
    /// Also write the gradebook as the school's LMS imports it (canvas-import.csv,
    /// moodle-import.csv or lms-import.csv): one column per exercise and a total, with the
    /// roster's `lms_id` column.
    #[arg(long, value_enum, value_name = "LMS")]
    pub lms: Option<crate::grade::lms::Lms>,
    /// Serve the live class board at ADDR (default 127.0.0.1:8080) instead of writing files:
    /// learners by exercises, updated as the cluster changes. Any address but loopback needs
    /// the token kubelab prints.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080", conflicts_with_all = ["bundles", "lms"])]
    pub serve: Option<String>,
    /// Also say how many API calls gathering took.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Subcommand, Debug)]
pub enum GradeCommand {
    /// Merge the gradebooks of shards (their `gradebook.json`, or the folders holding it)
    /// into the outputs of the whole class.
    Merge {
        /// The shards' `gradebook.json` files, or the folders holding them (or give --job).
        #[arg(required_unless_present = "job", value_name = "PART")]
        parts: Vec<PathBuf>,
        /// Read the parts from the logs of this Indexed Job's pods instead (its shards ran
        /// with `--out -`, as deploy/grade-job.yaml does): one succeeded pod per index, each
        /// part digest-checked. The Job is in -n NAMESPACE (default: the context's).
        #[arg(long, value_name = "NAME", conflicts_with = "parts")]
        job: Option<String>,
        /// Where the class's gradebook, JUnit file and feedback are written.
        #[arg(long, value_name = "DIR", default_value = "grades")]
        out: PathBuf,
        /// Also write the LMS import file (see `grade --lms`).
        #[arg(long, value_enum, value_name = "LMS")]
        lms: Option<crate::grade::lms::Lms>,
        #[command(flatten)]
        cluster: Box<ClusterArgs>,
    },
}

fn request(args: &GradeArgs) -> Result<Request, Error> {
    if args.cluster.namespace.is_some() {
        return Err(Error::Usage(
            "grade reads each learner's namespace from the roster or the namespace label: drop -n"
                .into(),
        ));
    }
    let source = match (&args.bundles, &args.namespace_selector, &args.roster) {
        (Some(dir), _, roster) => Source::Bundles {
            dir: dir.clone(),
            roster: roster.clone(),
        },
        (None, Some(label), _) => Source::Selector(label.clone()),
        (None, None, Some(roster)) => Source::Roster(roster.clone()),
        (None, None, None) => {
            return Err(Error::Usage(
                "say where the class is: --roster CSV, --namespace-selector LABEL or --bundles DIR"
                    .into(),
            ));
        }
    };
    Ok(Request {
        exercises: args.exercises.clone(),
        unit: args.unit.clone(),
        source,
        deadline: args.deadline.clone(),
        shard: args.shard,
        expect_cluster: args.expect_cluster.clone(),
        target: args.cluster.target(),
    })
}

fn progress_bar(output: Output) -> indicatif::ProgressBar {
    if output == Output::Human && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "gathering {bar:30} {pos}/{len} learners {elapsed}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// `kubelab grade`: gather, judge, write, summarise. Exit 0 when the class was graded,
/// whatever the learners scored.
pub fn grade(args: GradeArgs, course: &Course, output: Output) -> Result<i32, Error> {
    let req = request(&args)?;
    if let Some(addr) = &args.serve {
        return serve(course, &req, addr);
    }
    let to_log = args.out.as_os_str() == "-";
    if to_log && args.lms.is_some() {
        return Err(Error::Usage(
            "--out - writes only the gradebook part `grade merge --job` reads: give --lms to the merge"
                .into(),
        ));
    }
    let bar = progress_bar(output);
    let outcome = runtime()?.block_on(crate::grade::grade(course, &req, &bar))?;
    bar.finish_and_clear();
    if to_log {
        return write_part(&outcome.book, args.shard);
    }
    let written = outputs::write_all(&outcome.book, &args.out, args.lms)?;
    for note in &outcome.notes {
        eprintln!("{} {}", "note:".cyan(), crate::text::clean(note));
    }
    if args.verbose && !matches!(req.source, Source::Bundles { .. }) {
        eprintln!("{} API calls", outcome.api_calls);
    }
    print_result(&outcome.book, &args.out, written.len(), args.lms, output);
    Ok(exit::PASSED)
}

/// `--out -`: the gradebook as a framed part on standard output (a shard's pod log), the
/// summary on standard error.
fn write_part(book: &Gradebook, shard: Option<Shard>) -> Result<i32, Error> {
    use std::io::Write;
    eprint!("{}", summary::render(book));
    let whole = Shard { index: 0, count: 1 };
    let framed = parts::encode(outputs::json_text(book).as_bytes(), shard.unwrap_or(whole));
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(framed.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("standard output", e))?;
    Ok(exit::PASSED)
}

/// `grade --serve`: the live class board, until Ctrl-C.
fn serve(course: &Course, req: &crate::grade::Request, addr: &str) -> Result<i32, Error> {
    let serving = crate::board::Serving::on(addr)?;
    let exercises = crate::grade::exercises(course, req)?;
    runtime()?.block_on(async {
        let learners =
            crate::grade::class_on_cluster(req, &crate::cluster::CallCount::default()).await?;
        crate::board::serve(&exercises, learners, &req.target, serving, |url| {
            eprintln!(
                "the class board is at {url} (read-only; Ctrl-C stops it){}",
                if url.contains("token=") {
                    ": the token is the key, share it only with who may see the class"
                } else {
                    ""
                }
            );
        })
        .await
    })?;
    Ok(exit::PASSED)
}

fn print_result(
    book: &Gradebook,
    out: &std::path::Path,
    files: usize,
    lms: Option<crate::grade::lms::Lms>,
    output: Output,
) {
    if output == Output::Junit {
        print!("{}", outputs::junit_text(book));
        return;
    }
    emit(
        output,
        || {
            let shard = book
                .shard
                .as_ref()
                .map(|s| format!(" (shard {s})"))
                .unwrap_or_default();
            format!(
                "{}wrote {files} files to {}{shard}: gradebook.csv, gradebook.json, junit.xml, {}feedback/\n",
                summary::render(book),
                out.display(),
                lms.map(|l| format!("{}, ", l.file_name()))
                    .unwrap_or_default()
            )
        },
        || serde_json::to_value(book).expect("gradebook serialises"),
    );
}

/// The largest `gradebook.json` merge reads from a file (a class of thousands fits).
const MAX_GRADEBOOK_FILE: u64 = 256 * 1024 * 1024;

fn read_part(path: &std::path::Path) -> Result<(String, Gradebook), Error> {
    let file = if path.is_dir() {
        path.join("gradebook.json")
    } else {
        path.to_path_buf()
    };
    let shown = file.display().to_string();
    let bytes = crate::error::read_bounded(&file, MAX_GRADEBOOK_FILE, "a gradebook")?;
    let book = gradebook::parse(&bytes, &shown)?;
    Ok((shown, book))
}

/// `kubelab grade merge`: the shards' gradebooks into the class's outputs.
pub fn merge(args: GradeArgs, output: Output) -> Result<i32, Error> {
    let Some(GradeCommand::Merge {
        parts: files,
        job,
        out,
        lms,
        cluster,
    }) = args.merge
    else {
        return Err(Error::Usage("nothing to merge".into()));
    };
    let parts = match job {
        Some(job) => {
            let calls = crate::cluster::CallCount::default();
            runtime()?.block_on(crate::grade::job::read(&cluster.target(), &job, &calls))?
        }
        None => files
            .iter()
            .map(|p| read_part(p))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let book = gradebook::merge(parts).map_err(Error::Usage)?;
    let written = outputs::write_all(&book, &out, lms)?;
    print_result(&book, &out, written.len(), lms, output);
    Ok(exit::PASSED)
}
