//! `check --wait`: watch the target Jobs (a kube-rs watcher, not polling) until each has a
//! terminal condition or the time is up, showing succeeded/completions, active and failed.
//! A terminal gets one live progress line; logs and pipes get a plain line per change.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use crate::error::Error;

/// One line of progress for a Job.
pub fn progress_line(job: &Job) -> String {
    let name = job.metadata.name.as_deref().unwrap_or("?");
    let status = job.status.clone().unwrap_or_default();
    let completions = job
        .spec
        .as_ref()
        .and_then(|s| s.completions)
        .map_or("?".to_owned(), |c| c.to_string());
    format!(
        "{name}: {}/{completions} succeeded, {} active, {} failed",
        status.succeeded.unwrap_or(0),
        status.active.unwrap_or(0),
        status.failed.unwrap_or(0)
    )
}

/// The terminal condition, if the Job has one.
pub fn finished(job: &Job) -> Option<String> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| {
            format!(
                "{}{}",
                c.type_,
                c.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
}

/// Waits, at most `limit`, until every named Job that exists has finished (an exercise may
/// name Jobs the learner has not run here, e.g. the one it is compared with). Returns normally
/// on timeout (the caller judges what there is) after saying so.
pub async fn wait_for_jobs(
    client: &Client,
    namespace: &str,
    names: &[String],
    limit: jiff::SignedDuration,
) -> Result<(), Error> {
    let api: Api<Job> = Api::namespaced(client.clone(), namespace);
    let limit = Duration::from_secs_f64(limit.as_secs_f64().max(0.0));
    let mut progress = Progress::new();
    let mut outage = Outage::default();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects();
    futures::pin_mut!(stream);
    let outcome = tokio::time::timeout(limit, async {
        loop {
            match stream.try_next().await {
                Ok(Some(job)) => {
                    outage.over();
                    if progress.saw(&job, names) {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => outage.interrupted(&e, namespace)?,
            }
        }
    })
    .await;
    if let Some(pb) = &progress.bar {
        pb.finish_and_clear();
    }
    match outcome {
        Ok(r) => r,
        Err(_) => {
            eprintln!(
                "still not finished after {}s; judging what there is now",
                limit.as_secs()
            );
            Ok(())
        }
    }
}

/// The watch's interruptions, told once each: a refusal ends the wait with what is needed; a
/// lost API server (stopped, restarting, unreachable) is said once, with what goes on
/// meanwhile, and its return once, with how long it was away; an expired resource version
/// is the watcher listing again. The watcher itself reconnects with backoff; the wait's own
/// limit still bounds it.
#[derive(Default)]
struct Outage {
    since: Option<Instant>,
}

impl Outage {
    fn interrupted(&mut self, e: &watcher::Error, namespace: &str) -> Result<(), Error> {
        let (code, text) = crate::cluster::watch_status(e);
        if matches!(code, Some(401 | 403)) {
            return Err(Error::Cluster {
                message: format!(
                    "watching Jobs in {namespace} was refused ({}): {}",
                    code.unwrap_or_default(),
                    crate::text::clean(&text)
                ),
                help: Some("the grader needs watch on jobs; without it, run `kubelab check` again later without --wait".into()),
            });
        }
        if self.since.is_some() {
            return Ok(());
        }
        if code == Some(410) || text.contains("too old resource version") {
            eprintln!(
                "watch expired ({}); listing the Jobs again",
                crate::text::clean(&text)
            );
            return Ok(());
        }
        eprintln!(
            "lost the API server ({}); retrying until it answers. Your Jobs keep running on the cluster meanwhile, and the verdict reads their logs afresh at the end.",
            crate::text::clean(&text)
        );
        self.since = Some(Instant::now());
        Ok(())
    }

    fn over(&mut self) {
        if let Some(since) = self.since.take() {
            eprintln!(
                "the API server answers again (after {}s); watching on",
                since.elapsed().as_secs()
            );
        }
    }
}

/// What the learner sees while waiting: a spinner on a terminal, otherwise one line per
/// change; and which Jobs have finished.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    done: Vec<String>,
    seen: Vec<String>,
    last_line: String,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.enable_steady_tick(Duration::from_millis(200));
            pb
        });
        Progress {
            bar,
            start: Instant::now(),
            done: Vec::new(),
            seen: Vec::new(),
            last_line: String::new(),
        }
    }

    /// Shows a Job's progress; true once every Job seen has finished.
    fn saw(&mut self, job: &Job, names: &[String]) -> bool {
        let Some(name) = job.metadata.name.clone() else {
            return false;
        };
        if !names.contains(&name) {
            return false;
        }
        if !self.seen.contains(&name) {
            self.seen.push(name.clone());
        }
        let line = format!(
            "{} ({}s)",
            progress_line(job),
            self.start.elapsed().as_secs()
        );
        match &self.bar {
            Some(pb) => pb.set_message(line.clone()),
            None if line != self.last_line => eprintln!("{line}"),
            None => {}
        }
        self.last_line = line;
        let Some(end) = finished(job) else {
            return false;
        };
        if !self.done.contains(&name) {
            if self.bar.is_none() {
                eprintln!("{name}: {end}");
            }
            self.done.push(name);
        }
        self.seen.iter().all(|n| self.done.contains(n))
    }
}
