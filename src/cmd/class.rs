//! `kubelab class up|status|down`: a class on a shared cluster, set up from a roster and taken
//! down again. Arguments, confirmation and printing; the work is in `crate::class`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use colored::Colorize;

use super::{ClusterArgs, Output, emit, runtime};
use crate::class::budget::{self, Demand};
use crate::class::{self, down, status, up};
use crate::cluster::CallCount;
use crate::course::Course;
use crate::error::{Error, exit};

#[derive(Args, Debug)]
pub struct ClassArgs {
    #[command(subcommand)]
    pub command: ClassCommand,
}

#[derive(Subcommand, Debug)]
pub enum ClassCommand {
    /// For each learner of the roster: a namespace, a ServiceAccount with a Role for what the
    /// course has them write, a ResourceQuota and LimitRange sized from the course, and a
    /// kubeconfig with a token that expires. Safe to run again.
    Up(UpArgs),
    /// Per learner: namespace, quota in use, last activity, kubeconfig expiry. Read-only.
    Status(WhichArgs),
    /// Delete the namespaces kubelab made for the class (after asking; --yes for scripts).
    Down(DownArgs),
}

/// Which class: named after the roster file, or by --class.
#[derive(Args, Debug)]
pub struct WhichArgs {
    /// The class list (`learner,namespace` and optional columns; see `grade --roster`).
    #[arg(long, value_name = "CSV")]
    pub roster: Option<PathBuf>,
    /// The class's name (default: the roster's file name, `cs101.csv` is `cs101`).
    #[arg(long, value_name = "NAME")]
    pub class: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub which: WhichArgs,
    /// Size the quota for this unit's exercises only (default: the whole course).
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Where `kubeconfigs/<learner>.kubeconfig` are written (mode 0600).
    #[arg(long, value_name = "DIR", default_value = "class")]
    pub out: PathBuf,
    /// How long the learners' tokens last (the API server may grant less, and says so).
    #[arg(long, value_name = "DURATION", default_value = "10h")]
    pub token_ttl: String,
    /// The API server address learners reach (default: the one in your kubeconfig).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Use namespaces that exist and kubelab did not make (`down` then keeps them, removing
    /// only kubelab's objects).
    #[arg(long)]
    pub adopt: bool,
    /// Override one quota limit: `pods=20`, `requests.cpu=4`, `limits.memory=8Gi`
    /// (repeatable).
    #[arg(long, value_name = "KEY=QUANTITY")]
    pub quota: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    #[command(flatten)]
    pub which: WhichArgs,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to wait for the namespaces to be gone.
    #[arg(long, value_name = "DURATION", default_value = "3m")]
    pub wait: String,
}

pub fn class(args: ClassArgs, course: &Course, output: Output) -> Result<i32, Error> {
    match args.command {
        ClassCommand::Up(a) => up_cmd(a, course, output),
        ClassCommand::Status(a) => status_cmd(a, output),
        ClassCommand::Down(a) => down_cmd(a, output),
    }
}

fn name(which: &WhichArgs) -> Result<String, Error> {
    if which.cluster.namespace.is_some() {
        return Err(Error::Usage(
            "a class has a namespace per learner, from the roster: drop -n".into(),
        ));
    }
    class::class_name(which.class.as_deref(), which.roster.as_deref())
}

/// Applies `KEY=QUANTITY` overrides to the course's quota.
fn overridden(mut quota: Demand, overrides: &[String]) -> Result<Demand, Error> {
    for o in overrides {
        let bad = || {
            Error::Usage(format!(
                "--quota {}: write KEY=QUANTITY with KEY one of pods, requests.cpu, requests.memory, limits.cpu, limits.memory (e.g. requests.cpu=4, limits.memory=8Gi)",
                crate::text::clean(o)
            ))
        };
        let (key, value) = o.split_once('=').ok_or_else(bad)?;
        let v = crate::check::quantity(value)
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(bad)?;
        match key.trim() {
            "pods" => quota.pods = v.ceil().min(f64::from(u32::MAX)) as u32,
            "requests.cpu" => quota.requests.cpu_millis = (v * 1000.0).ceil() as u64,
            "limits.cpu" => quota.limits.cpu_millis = (v * 1000.0).ceil() as u64,
            "requests.memory" => quota.requests.memory_bytes = v.ceil() as u64,
            "limits.memory" => quota.limits.memory_bytes = v.ceil() as u64,
            _ => return Err(bad()),
        }
    }
    Ok(quota)
}

fn up_cmd(args: UpArgs, course: &Course, output: Output) -> Result<i32, Error> {
    let class_name = name(&args.which)?;
    let Some(roster) = &args.which.roster else {
        return Err(Error::Usage(
            "class up needs the class list: --roster CSV".into(),
        ));
    };
    let learners = crate::grade::roster::read(roster)?;
    let seats = class::seats(&roster.display().to_string(), &learners)?;
    let ttl = crate::check::parse_duration(&args.token_ttl).map_err(Error::Usage)?;
    if ttl.as_secs() < 600 {
        return Err(Error::Usage(format!(
            "--token-ttl {}: the API server grants tokens of 10 minutes or more",
            args.token_ttl
        )));
    }
    let exercises: Vec<&crate::course::Exercise> = match &args.unit {
        Some(u) => course.unit(u)?.exercises.iter().collect(),
        None => course.exercises().collect(),
    };
    let budget = budget::from_course(course, &exercises);
    let plan = up::Plan {
        quota: overridden(budget.quota, &args.quota)?,
        budget,
        class: class_name,
        seats,
        out: args.out.clone(),
        token_seconds: ttl.as_secs(),
        server: args.server.clone(),
        adopt: args.adopt,
        rules: crate::rbac::learner_rules(course),
    };
    let calls = CallCount::default();
    let target = args.which.cluster.target();
    let made = runtime()?.block_on(up::up(&target, &plan, &calls))?;
    emit(
        output,
        || render_made(&made, ttl),
        || serde_json::to_value(&made).expect("serialises"),
    );
    Ok(exit::PASSED)
}

fn render_made(made: &up::Made, asked: jiff::SignedDuration) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} class {}: {} learner(s) set up ({} API calls)",
        "✓".green(),
        made.class.bold(),
        made.seats.len(),
        made.api_calls
    );
    let _ = writeln!(out, "  quota per learner: {}", made.quota);
    if let Some((id, peak)) = &made.budget.largest {
        let _ = writeln!(
            out,
            "    from the course: its reference runs need {} (the largest, {id}: {peak}); with {}x margin",
            made.budget.needed,
            budget::MARGIN
        );
    }
    let _ = writeln!(
        out,
        "  containers that set none get requests {} CPU / {} and limits {} CPU / {} (LimitRange {})",
        budget::cpu(made.budget.default_request.cpu_millis),
        budget::memory(made.budget.default_request.memory_bytes),
        budget::cpu(made.budget.default_limit.cpu_millis),
        budget::memory(made.budget.default_limit.memory_bytes),
        class::LIMIT_RANGE
    );
    let width = made
        .seats
        .iter()
        .map(|s| s.learner.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let nsw = made
        .seats
        .iter()
        .map(|s| s.namespace.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let _ = writeln!(
        out,
        "  {:width$}  {:nsw$}  {:25}  kubeconfig",
        "learner", "namespace", "token expires"
    );
    for s in &made.seats {
        let adopted = if s.adopted { " (adopted)" } else { "" };
        let _ = writeln!(
            out,
            "  {:width$}  {:nsw$}  {:25}  {}{adopted}",
            crate::text::clean(&s.learner),
            s.namespace,
            s.token_expires,
            s.kubeconfig
        );
    }
    let granted = made
        .seats
        .first()
        .and_then(|s| s.token_expires.parse::<jiff::Timestamp>().ok());
    if let Some(t) = granted {
        let got = t.duration_since(jiff::Timestamp::now());
        if got < asked - jiff::SignedDuration::from_mins(5) {
            let _ = writeln!(
                out,
                "  {} the API server granted tokens until {t}, shorter than the {} asked (its --service-account-max-token-expiration): run `class up` again to renew them",
                "note:".yellow(),
                crate::text::format_duration(asked)
            );
        }
    }
    let _ = writeln!(
        out,
        "  hand each learner their file (it is a credential): they run `export KUBECONFIG=$PWD/FILE` and work in their namespace"
    );
    out
}

fn status_cmd(args: WhichArgs, output: Output) -> Result<i32, Error> {
    let class_name = name(&args)?;
    let calls = CallCount::default();
    let target = args.cluster.target();
    let now = jiff::Timestamp::now();
    let st = runtime()?.block_on(async {
        let (client, _) = crate::cluster::connect(&target).await?;
        status::status(&client, &class_name, now, &calls).await
    })?;
    emit(
        output,
        || render_status(&st, now),
        || serde_json::to_value(&st).expect("serialises"),
    );
    Ok(exit::PASSED)
}

fn ago(at: &str, now: jiff::Timestamp) -> String {
    at.parse::<jiff::Timestamp>().map_or_else(
        |_| at.to_owned(),
        |t| {
            let d = now.duration_since(t);
            format!(
                "{} ago",
                crate::text::format_duration(jiff::SignedDuration::from_secs(d.as_secs()))
            )
        },
    )
}

fn render_status(st: &status::Status, now: jiff::Timestamp) -> String {
    use comfy_table::{Table, presets};
    if st.rows.is_empty() {
        return format!(
            "class {}: no namespaces are labelled for it (set it up with `kubelab class up --roster CSV`)\n",
            st.class
        );
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header([
        "learner",
        "namespace",
        "pods",
        "cpu requested",
        "memory requested",
        "last activity",
        "kubeconfig",
    ]);
    let use_of = |r: &status::Row, key: &str| {
        r.quota
            .get(key)
            .map_or("-".to_owned(), |u| format!("{}/{}", u.used, u.hard))
    };
    for r in &st.rows {
        let activity = r.last_activity.as_ref().map_or("none yet".to_owned(), |a| {
            format!("{} ({})", ago(&a.at, now), a.what)
        });
        let token = match (&r.token_expires, r.token_expired) {
            (None, _) => "no token".to_owned(),
            (Some(t), true) => format!("expired {t}"),
            (Some(t), false) => format!("until {t}"),
        };
        let ns = if r.phase == "Active" {
            r.namespace.clone()
        } else {
            format!("{} ({})", r.namespace, r.phase)
        };
        table.add_row([
            crate::text::clean(&r.learner),
            ns,
            use_of(r, "pods"),
            use_of(r, "requests.cpu"),
            use_of(r, "requests.memory"),
            activity,
            token,
        ]);
    }
    format!(
        "class {}: {} learner(s) ({} API calls)\n{table}\n",
        st.class,
        st.rows.len(),
        st.api_calls
    )
}

fn confirm(question: &str) -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "{question}: kubelab asks before deleting, and no one can answer here; pass --yes"
        )));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("standard input", e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn down_cmd(args: DownArgs, output: Output) -> Result<i32, Error> {
    let class_name = name(&args.which)?;
    let wait = crate::check::parse_duration(&args.wait).map_err(Error::Usage)?;
    let calls = CallCount::default();
    let target = args.which.cluster.target();
    let rt = runtime()?;
    let (client, seated) = rt.block_on(async {
        let (client, _) = crate::cluster::connect(&target).await?;
        let seated = down::find(&client, &class_name, &calls).await?;
        Ok::<_, Error>((client, seated))
    })?;
    if seated.is_empty() {
        emit(
            output,
            || {
                format!(
                    "class {class_name}: no namespaces are labelled for it; nothing to delete\n"
                )
            },
            || serde_json::json!({"class": class_name, "deleted": []}),
        );
        return Ok(exit::PASSED);
    }
    let names: Vec<String> = seated.iter().map(|s| s.namespace.clone()).collect();
    if !args.yes {
        let kept = seated.iter().filter(|s| s.adopted).count();
        let question = format!(
            "delete the {} namespace(s) of class {class_name} ({}) and everything in them{}?",
            seated.len() - kept,
            crate::text::list_more(&names, 5),
            if kept > 0 {
                format!("; {kept} adopted namespace(s) are kept, emptied of kubelab's objects")
            } else {
                String::new()
            }
        );
        if !confirm(&question)? {
            eprintln!("nothing was deleted");
            return Ok(exit::PASSED);
        }
    }
    let removed = rt.block_on(down::down(
        &client,
        &class_name,
        seated,
        std::time::Duration::from_secs(wait.as_secs().max(0) as u64),
        &calls,
    ))?;
    emit(
        output,
        || render_removed(&removed),
        || serde_json::to_value(&removed).expect("serialises"),
    );
    Ok(if removed.still_terminating.is_empty() {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

fn render_removed(r: &down::Removed) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for s in &r.deleted {
        let what = if s.adopted {
            "kept (adopted); kubelab's objects and labels removed"
        } else if r.still_terminating.contains(&s.namespace) {
            "deleting (still terminating)"
        } else {
            "deleted"
        };
        let _ = writeln!(
            out,
            "  {} {} ({}): {what}",
            "-".red(),
            s.namespace,
            crate::text::clean(&s.learner)
        );
    }
    let _ = writeln!(
        out,
        "class {}: {} namespace(s) removed ({} API calls); the learners' tokens no longer work",
        r.class,
        r.deleted.len() - r.still_terminating.len(),
        r.api_calls
    );
    if !r.still_terminating.is_empty() {
        let _ = writeln!(
            out,
            "  {} still terminating: {} (kubectl get namespace; they finish on their own)",
            "!".yellow(),
            r.still_terminating.join(", ")
        );
    }
    out
}
