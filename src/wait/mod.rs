//! Waiting until what was applied (or an exercise's targets) has settled: a Job finished, a
//! Pod ready or finished, a Deployment's rollout complete or stuck, a CronJob's first run
//! finished, a Service with ready endpoints; or stuck in a way waiting will not cure (an image
//! that cannot be pulled, a configuration the container cannot start with, a schedule that
//! fires after the time limit). Watches (kube-rs watchers, never polling) feed a local
//! snapshot, and the same facts `check` derives say where each object stands. A terminal gets
//! one live progress line; logs and pipes get a plain line per change.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};

use crate::error::Error;
use crate::facts::{self, TargetFacts};
use crate::kinds::{KindRef, Known};
use crate::snapshot::Snapshot;
use crate::target::TargetRef;

mod outage;
use outage::Outage;

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

/// An object to wait for.
#[derive(Debug, Clone)]
pub struct Awaited {
    pub kind: Known,
    pub name: String,
}

impl Awaited {
    /// The named targets of kinds that have something to wait for.
    pub fn targets(targets: &[TargetRef]) -> Vec<Awaited> {
        targets
            .iter()
            .filter_map(|t| {
                Some(Awaited {
                    kind: t.known()?,
                    name: t.name.clone()?,
                })
            })
            .filter(|a| !a.kind.watched().is_empty())
            .collect()
    }

    fn target(&self) -> TargetRef {
        TargetRef {
            key: self.name.clone(),
            kind: KindRef::new(self.kind.name()),
            api: Some(self.kind.api_kind()),
            name: Some(self.name.clone()),
            selector: None,
            selector_text: None,
            count: None,
        }
    }
}

impl Known {
    /// The kinds to watch to see where an object of this kind stands.
    fn watched(self) -> &'static [Known] {
        use Known::*;
        match self {
            // Its pods too: one on a node that stopped reporting ends the wait.
            Job => &[Job, Pod],
            Pod => &[Pod, Event],
            Deployment => &[Deployment, ReplicaSet, Pod, Event],
            CronJob => &[CronJob, Job],
            Service => &[Service, EndpointSlice, Pod],
            _ => &[],
        }
    }

    /// The kinds it cannot be judged without: a Job's own status says how it stands (its pods
    /// only add whether their node stopped reporting), the others' need all they watch.
    fn judged_by(self) -> &'static [Known] {
        match self {
            Known::Job => &[Known::Job],
            other => other.watched(),
        }
    }
}

/// Where one object stands: its progress line, and what it settled as, once it has.
enum Standing {
    Absent,
    Seen {
        progress: String,
        settled: Option<String>,
    },
}

/// Where a Job stands: finished, or its pods' node stopped reporting (nothing on it moves,
/// so waiting longer shows nothing new), or still running.
fn job_standing(s: &Snapshot, name: &str, j: &Job) -> Standing {
    let lost = s
        .pods
        .iter()
        .filter(|p| {
            let uid = j.metadata.uid.as_deref().unwrap_or("");
            facts::relations::owned_by(&p.metadata, "Job", uid)
        })
        .filter_map(facts::node::NodeLost::of)
        .find(|l| l.lasting(s.taken_at()));
    let settled = finished(j).map(|end| format!("{name}: {end}"));
    Standing::Seen {
        progress: progress_line(j),
        settled: settled.or_else(|| {
            lost.map(|l| format!(
                "{name}: node {} stopped reporting (its pods marked not ready since {}): nothing on it progresses until its kubelet is back; judging what there is",
                l.node, l.since
            ))
        }),
    }
}

/// Whether a pod of it sits on a node silent long enough to stop waiting.
fn node_silent(f: &TargetFacts, now: jiff::Timestamp) -> bool {
    f.pods()
        .iter()
        .filter_map(|p| p.node_lost.as_ref())
        .any(|l| l.lasting(now))
}

/// Where an object stands in the snapshot. `others_settled`: every other object has settled
/// (a Service with no ready endpoint then waits no longer).
fn standing(
    s: &Snapshot,
    a: &Awaited,
    deadline: jiff::Timestamp,
    others_settled: bool,
) -> Standing {
    if a.kind == Known::Job {
        return match s
            .jobs
            .iter()
            .find(|j| j.metadata.name.as_deref() == Some(&a.name))
        {
            None => Standing::Absent,
            Some(j) => job_standing(s, &a.name, j),
        };
    }
    let f = facts::derive(s, &a.target());
    if !f.found() {
        return Standing::Absent;
    }
    let mut line = format!("{}/{}: {}", a.kind.name(), a.name, f.state());
    if let Some(left) = f
        .pods()
        .iter()
        .filter(|p| p.ready && !p.terminating)
        .filter_map(|p| p.on_probation())
        .reduce(f64::max)
    {
        line.push_str(&format!(
            "; ready, and waiting {left}s more for the liveness probes to have their say"
        ));
    }
    let settled = node_silent(&f, s.taken_at())
        || match &f {
            TargetFacts::Pod(p) => {
                p.phase == "Succeeded"
                    || p.phase == "Failed"
                    || (p.ready && p.on_probation().is_none())
                    || p.stuck().is_some()
                    || p.restarts >= 2
            }
            TargetFacts::Deployment(d) => {
                let probation = d
                    .pods
                    .iter()
                    .filter(|p| !p.terminating)
                    .any(|p| p.on_probation().is_some());
                (d.rollout_complete && !probation)
                    || d.rollout_stuck
                    || d.paused
                    || d.new_pods_stuck.is_some()
            }
            TargetFacts::CronJob(c) => {
                c.jobs.iter().any(|j| j.complete || j.failed)
                    || c.suspended
                    || c.schedule_error.is_some()
                    || c.next_runs.first().is_none_or(|n| {
                        c.jobs.is_empty()
                            && n.parse::<jiff::Timestamp>().is_ok_and(|t| t > deadline)
                    })
            }
            TargetFacts::Service(svc) => svc.ready > 0 || others_settled,
            _ => true,
        };
    if let TargetFacts::Deployment(d) = &f {
        tracing::debug!(
            complete = d.rollout_complete,
            stuck = d.rollout_stuck,
            new_pods_stuck = ?d.new_pods_stuck,
            settled,
            "{}",
            d.state
        );
    }
    Standing::Seen {
        settled: settled.then(|| line.clone()),
        progress: line,
    }
}

type Changes = Pin<Box<dyn Stream<Item = Result<Change, watcher::Error>> + Send>>;

/// One watch event, of one kind.
enum Change {
    Pod(Box<watcher::Event<Pod>>),
    Job(Box<watcher::Event<Job>>),
    CronJob(Box<watcher::Event<CronJob>>),
    Deployment(Box<watcher::Event<Deployment>>),
    ReplicaSet(Box<watcher::Event<ReplicaSet>>),
    Service(Box<watcher::Event<Service>>),
    EndpointSlice(Box<watcher::Event<EndpointSlice>>),
    Event(Box<watcher::Event<k8s_openapi::api::core::v1::Event>>),
}

fn watch<K>(client: &Client, ns: &str, wrap: fn(Box<watcher::Event<K>>) -> Change) -> Changes
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    Box::pin(
        watcher(api, crate::cluster::watch_config())
            .backoff(crate::cluster::watch_backoff())
            .map(move |e| e.map(|ev| wrap(Box::new(ev)))),
    )
}

/// Applies one watch event to a list: upsert by name or remove. A (re)listing is gathered in
/// `incoming` and replaces the list whole when it ends: after a watch expires (410 Gone) the
/// watcher lists again, and a list cleared at its start would show the objects gone until
/// the listing is through.
fn apply_event<K: Resource + Clone>(
    list: &mut Vec<K>,
    incoming: &mut Vec<K>,
    ev: watcher::Event<K>,
) {
    let name = |k: &K| k.meta().name.clone();
    match ev {
        watcher::Event::Init => incoming.clear(),
        watcher::Event::InitApply(o) => incoming.push(o),
        watcher::Event::InitDone => *list = std::mem::take(incoming),
        watcher::Event::Apply(o) => match list.iter_mut().find(|x| name(x) == name(&o)) {
            Some(slot) => *slot = o,
            None => list.push(o),
        },
        watcher::Event::Delete(o) => list.retain(|x| name(x) != name(&o)),
    }
}

impl Change {
    /// The kind whose listing this event ends (its first, or a new one after a 410), if it does.
    fn listed(&self) -> Option<Known> {
        fn done<K>(e: &watcher::Event<K>) -> bool {
            matches!(e, watcher::Event::InitDone)
        }
        let (kind, ended) = match self {
            Change::Pod(e) => (Known::Pod, done(e)),
            Change::Job(e) => (Known::Job, done(e)),
            Change::CronJob(e) => (Known::CronJob, done(e)),
            Change::Deployment(e) => (Known::Deployment, done(e)),
            Change::ReplicaSet(e) => (Known::ReplicaSet, done(e)),
            Change::Service(e) => (Known::Service, done(e)),
            Change::EndpointSlice(e) => (Known::EndpointSlice, done(e)),
            Change::Event(e) => (Known::Event, done(e)),
        };
        ended.then_some(kind)
    }

    /// Applies the event to the snapshot; `incoming` holds listings under way.
    fn into(self, s: &mut Snapshot, incoming: &mut Snapshot) {
        let i = incoming;
        match self {
            Change::Pod(e) => apply_event(&mut s.pods, &mut i.pods, *e),
            Change::Job(e) => apply_event(&mut s.jobs, &mut i.jobs, *e),
            Change::CronJob(e) => apply_event(&mut s.cron_jobs, &mut i.cron_jobs, *e),
            Change::Deployment(e) => apply_event(&mut s.deployments, &mut i.deployments, *e),
            Change::ReplicaSet(e) => apply_event(&mut s.replica_sets, &mut i.replica_sets, *e),
            Change::Service(e) => apply_event(&mut s.services, &mut i.services, *e),
            Change::EndpointSlice(e) => {
                apply_event(&mut s.endpoint_slices, &mut i.endpoint_slices, *e)
            }
            Change::Event(e) => apply_event(&mut s.events, &mut i.events, *e),
        }
    }
}

fn streams(client: &Client, ns: &str, objects: &[Awaited]) -> Vec<Changes> {
    let kinds: Vec<Known> = objects
        .iter()
        .flat_map(|a| a.kind.watched().iter().copied())
        .collect();
    watches(client, ns, kinds)
}

/// One watch per kind (of those kubelab watches: Pods, Jobs, CronJobs, Deployments,
/// ReplicaSets, Services, EndpointSlices); a change of any yields `Ok(())`.
pub fn changes(
    client: &Client,
    ns: &str,
    kinds: Vec<Known>,
) -> impl Stream<Item = Result<(), watcher::Error>> + Send + use<> {
    futures::stream::select_all(watches(client, ns, kinds)).map(|c| c.map(|_| ()))
}

fn watches(client: &Client, ns: &str, mut kinds: Vec<Known>) -> Vec<Changes> {
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .filter_map(|k| {
            Some(match k {
                Known::Pod => watch(client, ns, Change::Pod),
                Known::Job => watch(client, ns, Change::Job),
                Known::CronJob => watch(client, ns, Change::CronJob),
                Known::Deployment => watch(client, ns, Change::Deployment),
                Known::ReplicaSet => watch(client, ns, Change::ReplicaSet),
                Known::Service => watch(client, ns, Change::Service),
                Known::EndpointSlice => watch(client, ns, Change::EndpointSlice),
                Known::Event => watch(client, ns, Change::Event),
                _ => return None,
            })
        })
        .collect()
}

/// Waits, at most `limit`, until every awaited object that exists has settled (an exercise
/// may name objects the learner has not made here, e.g. the Job it is compared with).
/// Returns normally on timeout (the caller judges what there is) after saying so.
pub async fn until_settled(
    client: &Client,
    namespace: &str,
    objects: &[Awaited],
    limit: jiff::SignedDuration,
) -> Result<(), Error> {
    if objects.is_empty() {
        return Ok(());
    }
    let limit = Duration::from_secs_f64(limit.as_secs_f64().max(0.0));
    let deadline = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs_f64(limit.as_secs_f64()))
        .unwrap_or(jiff::Timestamp::MAX);
    let mut progress = Progress::new();
    let mut kinds: Vec<&str> = objects.iter().map(|a| a.kind.name()).collect();
    kinds.dedup();
    let mut outage = Outage {
        since: None,
        what: format!("Your {}s", kinds.join("s and ")),
        expiry_said: None,
    };
    let all = streams(client, namespace, objects);
    // Nothing is decided about an object before the kinds it is judged by have been listed:
    // an object not seen yet may only be in a list still on its way.
    let mut listed: Vec<Known> = Vec::new();
    let judged_by_listed = |listed: &[Known]| {
        objects
            .iter()
            .all(|a| a.kind.judged_by().iter().all(|k| listed.contains(k)))
    };
    let mut changes = futures::stream::select_all(all);
    let mut snapshot = Snapshot::default();
    let mut incoming = Snapshot::default();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let outcome = tokio::time::timeout(limit, async {
        loop {
            tokio::select! {
                next = changes.next() => match next {
                    Some(Ok(change)) => {
                        outage.over();
                        listed.extend(change.listed());
                        change.into(&mut snapshot, &mut incoming);
                    }
                    Some(Err(e)) => {
                        outage.interrupted(&e, namespace)?;
                        continue;
                    }
                    None => return Ok(()),
                },
                // Time passes: a CronJob's next run may now lie past the limit.
                _ = tick.tick() => snapshot.gathered_at = jiff::Timestamp::now().to_string(),
            }
            snapshot.gathered_at = jiff::Timestamp::now().to_string();
            if judged_by_listed(&listed) && progress.saw(&snapshot, objects, deadline) {
                return Ok(());
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

/// What the learner sees while waiting: a spinner on a terminal, otherwise one line per
/// change; and which objects have settled.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    last: BTreeMap<String, String>,
    settled: Vec<String>,
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
            last: BTreeMap::new(),
            settled: Vec::new(),
        }
    }

    /// Shows each object's progress; true once every object there has settled.
    fn saw(&mut self, s: &Snapshot, objects: &[Awaited], deadline: jiff::Timestamp) -> bool {
        let mut there = 0;
        let mut all_settled = true;
        for pass in 0..2 {
            // A Service settles once the rest has: judge the others first.
            let others_settled = pass == 1 && all_settled;
            for a in objects {
                if (a.kind == Known::Service) != (pass == 1) {
                    continue;
                }
                let Standing::Seen { progress, settled } = standing(s, a, deadline, others_settled)
                else {
                    continue;
                };
                there += 1;
                self.show(&a.name, progress);
                match settled {
                    None => all_settled = false,
                    Some(line) if !self.settled.contains(&a.name) => {
                        if self.bar.is_none() && a.kind == Known::Job {
                            eprintln!("{line}");
                        }
                        self.settled.push(a.name.clone());
                    }
                    Some(_) => {}
                }
            }
        }
        there > 0 && all_settled
    }

    fn show(&mut self, name: &str, line: String) {
        let shown = format!("{line} ({}s)", self.start.elapsed().as_secs());
        if self.last.get(name) == Some(&line) {
            return;
        }
        match &self.bar {
            Some(pb) => pb.set_message(shown),
            None if a_job_line(&line) => eprintln!("{shown}"),
            None => eprintln!("{line}"),
        }
        self.last.insert(name.to_owned(), line);
    }
}

/// Job lines carry the time so far, as they always have.
fn a_job_line(line: &str) -> bool {
    line.contains(" succeeded, ") && line.contains(" active, ")
}
