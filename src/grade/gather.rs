//! Gathering a whole class from clusters: per kubeconfig context, one LIST per kind for all
//! namespaces at once (split per namespace in memory), or, where cluster-wide LIST is
//! forbidden, the same calls `check` makes, namespace by namespace. Logs are read under one
//! limit for the whole class. The snapshots are exactly what `check` would judge.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, ListParams};
use kube::{Client, Resource};

use super::roster::Learner;
use crate::cluster::{self, CallCount, ClusterIdentity, Listed, LogLimiter, Snapshot, Target};
use crate::error::Error;

/// Logs read at once for the whole class.
pub const CLASS_LOG_CONCURRENCY: usize = 16;

/// What was found for one learner: a snapshot, or why there is none.
pub type Found = Result<Snapshot, String>;

/// The class's snapshots and how they were read.
pub struct Gathered {
    pub found: BTreeMap<String, Found>,
    pub calls: usize,
    /// Said once per run: how the class was read (cluster-wide, or why not).
    pub notes: Vec<String>,
}

/// Called after each learner is gathered, for a progress bar.
pub type Progress<'a> = &'a (dyn Fn() + Sync);

/// Reads the work of every learner from their clusters, contexts concurrently.
pub async fn from_clusters(
    learners: &[Learner],
    targets: &[String],
    base: &Target,
    progress: Progress<'_>,
) -> Result<Gathered, Error> {
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
            gather_context(&client, &group, targets, limiter, calls, progress).await
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

type Part = (BTreeMap<String, Found>, Vec<String>);

async fn gather_context(
    client: &Client,
    learners: &[&Learner],
    targets: &[String],
    limiter: &LogLimiter,
    calls: &CallCount,
    progress: Progress<'_>,
) -> Result<Part, Error> {
    let identity = cluster::identity(client, calls).await;
    match list_everywhere(client, calls).await? {
        Ok(all) => {
            let found = split_and_assemble(
                client, learners, targets, all, &identity, limiter, calls, progress,
            )
            .await?;
            Ok((
                found,
                vec!["read cluster-wide: one LIST per kind for the whole class".into()],
            ))
        }
        Err(Forbidden(why)) => {
            let found = per_namespace(
                client, learners, targets, &identity, limiter, calls, progress,
            )
            .await?;
            Ok((
                found,
                vec![format!(
                    "cluster-wide LIST is forbidden ({why}); read namespace by namespace instead (grant the ClusterRole in deploy/kubelab-grader.yaml for one LIST per kind)"
                )],
            ))
        }
    }
}

struct Everything {
    namespaces: Vec<Namespace>,
    jobs: Vec<Job>,
    pods: Vec<Pod>,
    events: Vec<Event>,
}

/// Why the cluster-wide path is not open.
struct Forbidden(String);

async fn list_all<K>(client: &Client, calls: &CallCount) -> Result<Vec<K>, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    calls.add();
    Ok(Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items)
}

async fn list_everywhere(
    client: &Client,
    calls: &CallCount,
) -> Result<Result<Everything, Forbidden>, Error> {
    let all = futures::future::try_join4(
        list_all::<Namespace>(client, calls),
        list_all::<Job>(client, calls),
        list_all::<Pod>(client, calls),
        list_all::<Event>(client, calls),
    )
    .await;
    match all {
        Ok((namespaces, jobs, pods, events)) => Ok(Ok(Everything {
            namespaces,
            jobs,
            pods,
            events,
        })),
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(Err(Forbidden(s.message))),
        Err(e) => Err(cluster::explain(
            e,
            "listing the class's Jobs, Pods and Events",
            "(all)",
        )),
    }
}

fn in_namespace<K: Resource + Clone>(items: &[K], ns: &str) -> Vec<K> {
    items
        .iter()
        .filter(|i| i.meta().namespace.as_deref() == Some(ns))
        .cloned()
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn split_and_assemble(
    client: &Client,
    learners: &[&Learner],
    targets: &[String],
    all: Everything,
    identity: &ClusterIdentity,
    limiter: &LogLimiter,
    calls: &CallCount,
    progress: Progress<'_>,
) -> Result<BTreeMap<String, Found>, Error> {
    let runs = learners.iter().map(|l| {
        let all = &all;
        async move {
            let Some(ns) = l.namespace.as_deref() else {
                progress();
                return Ok((l.id.clone(), Err(no_namespace(l))));
            };
            if !all
                .namespaces
                .iter()
                .any(|n| n.metadata.name.as_deref() == Some(ns))
            {
                progress();
                return Ok((l.id.clone(), Err(format!("namespace {ns} does not exist"))));
            }
            let listed = Listed {
                jobs: in_namespace(&all.jobs, ns),
                pods: in_namespace(&all.pods, ns),
                events: Ok(in_namespace(&all.events, ns)),
            };
            let snap = finish(client, ns, targets, listed, identity, limiter, calls).await;
            progress();
            snap.map(|s| (l.id.clone(), s))
        }
    });
    Ok(futures::future::try_join_all(runs)
        .await?
        .into_iter()
        .collect())
}

fn no_namespace(l: &Learner) -> String {
    format!("no namespace is given for this learner ({})", l.listed_at)
}

async fn per_namespace(
    client: &Client,
    learners: &[&Learner],
    targets: &[String],
    identity: &ClusterIdentity,
    limiter: &LogLimiter,
    calls: &CallCount,
    progress: Progress<'_>,
) -> Result<BTreeMap<String, Found>, Error> {
    let runs = learners.iter().map(|l| async move {
        let Some(ns) = l.namespace.as_deref() else {
            progress();
            return Ok((l.id.clone(), Err(no_namespace(l))));
        };
        let listed = cluster::list_namespace(client, ns, calls)
            .await
            .map_err(grader_help)?;
        let empty = listed.jobs.is_empty() && listed.pods.is_empty();
        if empty {
            calls.add();
            let api: Api<Namespace> = Api::all(client.clone());
            if let Ok(None) = api.get_opt(ns).await {
                progress();
                return Ok((l.id.clone(), Err(format!("namespace {ns} does not exist"))));
            }
        }
        let snap = finish(client, ns, targets, listed, identity, limiter, calls).await;
        progress();
        snap.map(|s| (l.id.clone(), s))
    });
    Ok(futures::stream::iter(runs)
        .buffer_unordered(CLASS_LOG_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .collect())
}

async fn finish(
    client: &Client,
    ns: &str,
    targets: &[String],
    listed: Listed,
    identity: &ClusterIdentity,
    limiter: &LogLimiter,
    calls: &CallCount,
) -> Result<Found, Error> {
    let mut snap = cluster::assemble(client, ns, targets, listed, limiter, calls)
        .await
        .map_err(grader_help)?;
    snap.cluster = identity.clone();
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
        let id = ns
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .cloned()
            .unwrap_or_default();
        learners.push(Learner {
            id: if id.is_empty() { name.clone() } else { id },
            namespace: Some(name.clone()),
            context: target.context.clone(),
            cluster: None,
            listed_at: format!("namespace {name}"),
        });
    }
    super::roster::no_duplicates(&format!("namespaces labelled {selector}"), &learners)?;
    Ok(learners)
}

use futures::{StreamExt, TryStreamExt};
