//! Gathering a whole class from clusters: per kubeconfig context, one LIST per kind for all
//! namespaces at once (split per namespace in memory), or, where cluster-wide LIST is
//! forbidden, the same calls `check` makes, namespace by namespace. Secrets are never listed
//! cluster-wide (that would hand the grader every token in the cluster): only in the learners'
//! namespaces, as keys. A class's pods and Events wait on a [`Shelf`] as JSON until their
//! learner's turn. Logs are read under one limit for the whole class. The snapshots are
//! exactly what `check` would judge, and each is handed to the caller's judge as soon as it is
//! complete and dropped after: a class's logs are never all held at once (60 learners x 20
//! pods x 256 KiB would be 300 MiB), only those of the few learners being read.

use std::collections::BTreeMap;

use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, Namespace, Pod, Secret};
use kube::api::{Api, ListParams};
use kube::{Client, Resource};

use super::roster::Learner;
use crate::cluster::{
    self, CallCount, ClusterIdentity, Listed, LogLimiter, Shelf, Snapshot, Target,
};
use crate::error::Error;
use crate::kinds::{ApiKind, Known};
use crate::snapshot::listed_name;
use crate::target::Plan;

/// Logs read at once for the whole class.
pub const CLASS_LOG_CONCURRENCY: usize = 16;

/// Learners read at once: enough to keep the log reads busy, few enough that their logs
/// (up to 256 KiB per container) stay a bounded few MiB.
pub const LEARNERS_AT_ONCE: usize = 4;

/// What was found for one learner: a snapshot, or why there is none.
pub type Found = Result<Snapshot, String>;

/// What the judge made of each learner's snapshot, and how the class was read.
pub struct Gathered<J> {
    pub found: BTreeMap<String, J>,
    pub calls: usize,
    /// Said once per run: how the class was read (cluster-wide, or why not).
    pub notes: Vec<String>,
}

/// Called after each learner is gathered, for a progress bar.
pub type Progress<'a> = &'a (dyn Fn() + Sync);

/// Judges one learner's snapshot (or why there is none) as soon as it is gathered.
pub type Judge<'a, J> = &'a (dyn Fn(&Learner, Found) -> J + Sync);

/// How a context's learners are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// One LIST per kind for all of them (where allowed): a whole class.
    ClassWide,
    /// Namespace by namespace: a few learners whose namespaces changed.
    OneByOne,
}

/// Reads the work of every learner from their clusters, contexts concurrently, and judges
/// each as it comes.
pub async fn from_clusters<J: Send>(
    learners: &[Learner],
    plan: &Plan,
    base: &Target,
    reading: Reading,
    (progress, judge): (Progress<'_>, Judge<'_, J>),
) -> Result<Gathered<J>, Error> {
    let mut by_context: BTreeMap<Option<String>, Vec<&Learner>> = BTreeMap::new();
    for l in learners {
        by_context
            .entry(l.context.clone().or_else(|| base.context.clone()))
            .or_default()
            .push(l);
    }
    let limiter = LogLimiter::new(CLASS_LOG_CONCURRENCY);
    let calls = CallCount::default();
    let runs = by_context.into_iter().map(|(context, group)| {
        let target = Target {
            context,
            namespace: None,
            ..base.clone()
        };
        let (limiter, calls) = (&limiter, &calls);
        async move {
            let (client, _) = cluster::connect(&target).await?;
            let cx = Context {
                kinds: cluster::resolve_kinds(&client, &plan.kinds, calls).await?,
                identity: cluster::identity(&client, calls).await,
                client: &client,
                plan,
                limiter,
                calls,
                progress,
                judge,
            };
            gather_context(&cx, &group, reading).await
        }
    });
    let mut found = BTreeMap::new();
    let mut notes = Vec::new();
    for part in futures::future::try_join_all(runs).await? {
        found.extend(part.0);
        notes.extend(part.1);
    }
    notes.dedup();
    Ok(Gathered {
        found,
        calls: calls.get(),
        notes,
    })
}

type Part<J> = (BTreeMap<String, J>, Vec<String>);

/// What one context's gathering shares: the client, the plan and its kinds, the limits, and
/// what to do with each learner gathered.
struct Context<'a, J> {
    client: &'a Client,
    plan: &'a Plan,
    kinds: Vec<ApiKind>,
    identity: ClusterIdentity,
    limiter: &'a LogLimiter,
    calls: &'a CallCount,
    progress: Progress<'a>,
    judge: Judge<'a, J>,
}

impl<J> Context<'_, J> {
    /// A learner is read: judged now, so their snapshot (and its logs) goes at once.
    fn done(&self, learner: &Learner, found: Found) -> (String, J) {
        (self.progress)();
        (learner.id.clone(), (self.judge)(learner, found))
    }
}

async fn gather_context<J: Send>(
    cx: &Context<'_, J>,
    learners: &[&Learner],
    reading: Reading,
) -> Result<Part<J>, Error> {
    if reading == Reading::OneByOne {
        return Ok((per_namespace(cx, learners).await?, Vec::new()));
    }
    match list_everywhere(cx).await? {
        Ok(all) => {
            let found = split_and_assemble(cx, learners, all).await?;
            Ok((
                found,
                vec!["read cluster-wide: one LIST per kind for the whole class".into()],
            ))
        }
        Err(Forbidden(why)) => {
            let found = per_namespace(cx, learners).await?;
            Ok((
                found,
                vec![format!(
                    "cluster-wide LIST is forbidden ({why}); read namespace by namespace instead (grant the ClusterRole in deploy/kubelab-grader.yaml for one LIST per kind)"
                )],
            ))
        }
    }
}

/// Every kind listed in all namespaces at once (Secrets excepted), and the namespaces.
struct Everything {
    namespaces: Vec<Namespace>,
    /// The kinds a namespace holds few of, typed.
    listed: Listed,
    /// Pods and Events, shelved until their learner's turn.
    shelved: Mutex<Shelved>,
}

/// The class's pods and Events (or why its Events could not be read), when the plan lists them.
#[derive(Default)]
struct Shelved {
    pods: Option<Shelf<Pod>>,
    events: Option<Result<Shelf<Event>, String>>,
}

/// Why the cluster-wide path is not open.
struct Forbidden(String);

async fn list_everywhere<J>(cx: &Context<'_, J>) -> Result<Result<Everything, Forbidden>, Error> {
    cx.calls.add();
    let namespaces = Api::<Namespace>::all(cx.client.clone())
        .list(&ListParams::default())
        .await;
    let namespaces = match namespaces {
        Ok(l) => l.items,
        Err(kube::Error::Api(s)) if s.code == 403 => return Ok(Err(Forbidden(s.message))),
        Err(e) => {
            return Err(cluster::explain(
                e,
                "listing the class's namespaces",
                "(all)",
            ));
        }
    };
    let shelved_kind = |k: &&ApiKind| matches!(k.known(), Some(Known::Pod | Known::Event));
    let few: Vec<ApiKind> = cx
        .kinds
        .iter()
        .filter(|k| !shelved_kind(k))
        .cloned()
        .collect();
    let (pods, events) = (
        cx.kinds.iter().find(|k| k.known() == Some(Known::Pod)),
        cx.kinds.iter().find(|k| k.known() == Some(Known::Event)),
    );
    let listed = futures::try_join!(
        cluster::list_namespace(cx.client, None, &few, cx.calls),
        optional(pods.map(|k| cluster::list_onto_shelf::<Pod>(cx.client, k, cx.calls))),
        optional(events.map(|k| cluster::list_onto_shelf::<Event>(cx.client, k, cx.calls))),
    );
    match listed {
        Ok((mut listed, pods, events)) => {
            listed.snapshot.listed = cx.kinds.iter().map(listed_name).collect();
            let pods = match pods {
                Some(Err(why)) => return Ok(Err(Forbidden(why))),
                Some(Ok(shelf)) => Some(shelf),
                None => None,
            };
            Ok(Ok(Everything {
                namespaces,
                listed,
                shelved: Mutex::new(Shelved { pods, events }),
            }))
        }
        Err(Error::Cluster { message, .. }) if message.contains("forbidden (403)") => {
            Ok(Err(Forbidden(message)))
        }
        Err(e) => Err(e),
    }
}

/// A listing the plan may not need.
async fn optional<T>(
    listing: Option<impl Future<Output = Result<T, Error>>>,
) -> Result<Option<T>, Error> {
    match listing {
        Some(l) => l.await.map(Some),
        None => Ok(None),
    }
}

fn in_namespace<K: Resource + Clone>(items: &[K], ns: &str) -> Vec<K> {
    items
        .iter()
        .filter(|i| i.meta().namespace.as_deref() == Some(ns))
        .cloned()
        .collect()
}

/// One namespace's share of the cluster-wide lists, when its learner's turn comes: its pods
/// and Events taken off the shelf, the few objects of other kinds copied.
fn share(all: &Everything, ns: &str) -> Result<Listed, Error> {
    let a = &all.listed.snapshot;
    let mut l = Listed::default();
    let s = &mut l.snapshot;
    s.jobs = in_namespace(&a.jobs, ns);
    s.deployments = in_namespace(&a.deployments, ns);
    s.replica_sets = in_namespace(&a.replica_sets, ns);
    s.cron_jobs = in_namespace(&a.cron_jobs, ns);
    s.services = in_namespace(&a.services, ns);
    s.endpoint_slices = in_namespace(&a.endpoint_slices, ns);
    s.config_maps = in_namespace(&a.config_maps, ns);
    s.others = in_namespace(&a.others, ns);
    s.listed = a.listed.clone();
    let mut shelved = all.shelved.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(pods) = &mut shelved.pods {
        s.pods = pods.take(ns)?;
    }
    l.events = match &mut shelved.events {
        Some(Ok(events)) => Ok(events.take(ns)?),
        Some(Err(why)) => Err(why.clone()),
        None => Ok(Vec::new()),
    };
    Ok(l)
}

/// A learner namespace's Secrets, as keys: read there only, never cluster-wide.
async fn secrets_of<J>(cx: &Context<'_, J>, ns: &str, into: &mut Listed) -> Result<(), Error> {
    if !cx.kinds.iter().any(|k| k.known() == Some(Known::Secret)) {
        return Ok(());
    }
    cx.calls.add();
    let secrets = Api::<Secret>::namespaced(cx.client.clone(), ns)
        .list(&ListParams::default())
        .await
        .map_err(|e| cluster::explain(e, &format!("listing Secrets in {ns}"), ns))
        .map_err(grader_help)?
        .items;
    let keys = cluster::keys_only(secrets, &mut into.redactor);
    into.snapshot.secrets = keys;
    Ok(())
}

async fn split_and_assemble<J: Send>(
    cx: &Context<'_, J>,
    learners: &[&Learner],
    all: Everything,
) -> Result<BTreeMap<String, J>, Error> {
    let all = &all;
    let runs = learners.iter().map(|l| async move {
        let Some(ns) = l.namespace.as_deref() else {
            return Ok(cx.done(l, Err(no_namespace(l))));
        };
        let Some(namespace) = all
            .namespaces
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(ns))
        else {
            return Ok(cx.done(l, Err(format!("namespace {ns} does not exist"))));
        };
        let mut listed = share(all, ns)?;
        secrets_of(cx, ns, &mut listed).await?;
        let mut snap = finish(cx, ns, listed).await?;
        if let (Ok(s), Some(since)) = (&mut snap, &namespace.metadata.deletion_timestamp) {
            s.notes.push(format!(
                "namespace {ns} is being deleted (since {}): what is left in it was graded; its work may already be gone",
                since.0
            ));
        }
        Ok(cx.done(l, snap))
    });
    futures::stream::iter(runs)
        .buffer_unordered(LEARNERS_AT_ONCE)
        .try_collect()
        .await
}

fn no_namespace(l: &Learner) -> String {
    format!("no namespace is given for this learner ({})", l.listed_at)
}

async fn per_namespace<J: Send>(
    cx: &Context<'_, J>,
    learners: &[&Learner],
) -> Result<BTreeMap<String, J>, Error> {
    let runs = learners.iter().map(|l| async move {
        let Some(ns) = l.namespace.as_deref() else {
            return Ok(cx.done(l, Err(no_namespace(l))));
        };
        let listed = cluster::list_namespace(cx.client, Some(ns), &cx.kinds, cx.calls)
            .await
            .map_err(grader_help)?;
        if listed.is_empty() {
            cx.calls.add();
            let api: Api<Namespace> = Api::all(cx.client.clone());
            if let Ok(None) = api.get_opt(ns).await {
                return Ok(cx.done(l, Err(format!("namespace {ns} does not exist"))));
            }
        }
        let snap = finish(cx, ns, listed).await?;
        Ok(cx.done(l, snap))
    });
    futures::stream::iter(runs)
        .buffer_unordered(LEARNERS_AT_ONCE)
        .try_collect()
        .await
}

async fn finish<J>(cx: &Context<'_, J>, ns: &str, listed: Listed) -> Result<Found, Error> {
    let mut snap = cluster::assemble(cx.client, ns, cx.plan, listed, cx.limiter, cx.calls)
        .await
        .map_err(grader_help)?;
    snap.cluster = cx.identity.clone();
    Ok(Ok(snap))
}

/// A permission error while grading points to the grader's ClusterRole.
fn grader_help(e: Error) -> Error {
    match e {
        Error::Cluster { message, help } if message.contains("forbidden (403)") => Error::Cluster {
            message,
            help: Some(format!(
                "grant the grader the read-only ClusterRole in deploy/kubelab-grader.yaml (kubectl apply -f deploy/kubelab-grader.yaml, then bind it); {}",
                help.unwrap_or_default()
            )),
        },
        other => other,
    }
}

/// The learners of a class found by a label on their namespaces: the label's value is the
/// learner id. `selector` is `KEY` or `KEY=VALUE`.
pub async fn learners_by_label(
    target: &Target,
    selector: &str,
    calls: &cluster::CallCount,
) -> Result<Vec<Learner>, Error> {
    let key = selector.split(['=', '!']).next().unwrap_or(selector).trim();
    let (client, _) = cluster::connect(target).await?;
    let api: Api<Namespace> = Api::all(client);
    calls.add();
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| grader_help(cluster::explain(e, "listing namespaces", "(all)")))?;
    let mut learners = Vec::new();
    for ns in list.items {
        let name = ns.metadata.name.clone().unwrap_or_default();
        // `class up` keeps the full id in an annotation: a label value holds 63 plain characters.
        let id = ns
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(super::roster::LEARNER_ID_ANNOTATION))
            .or_else(|| ns.metadata.labels.as_ref().and_then(|l| l.get(key)))
            .cloned()
            .unwrap_or_default();
        learners.push(Learner {
            id: if id.is_empty() { name.clone() } else { id },
            namespace: Some(name.clone()),
            context: target.context.clone(),
            cluster: None,
            lms_id: None,
            deadline: None,
            listed_at: format!("namespace {name}"),
        });
    }
    super::roster::no_duplicates(&format!("namespaces labelled {selector}"), &learners)?;
    Ok(learners)
}

use futures::{StreamExt, TryStreamExt};
