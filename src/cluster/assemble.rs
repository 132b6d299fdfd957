//! From a namespace's lists to the exercise's snapshot: keep the Events about the targets and
//! what belongs to them, read the logs of the pods whose logs are judged (and of containers
//! that crashed, whose last lines explain it) under a shared limit, and hide Secret values
//! wherever the logs or Events repeat them.

use std::collections::BTreeMap;

use futures::AsyncReadExt;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, LogParams};
use kube::{Client, ResourceExt};

use super::list::{Listed, list_namespace, resolve_kinds};
use super::{
    CallCount, LOG_LIMIT_BYTES, LOG_TAIL_LINES, LogLimiter, LogText, Snapshot, explain, identity,
};
use crate::error::Error;
use crate::facts::relations;
use crate::kinds::Known;
use crate::target::Plan;
use crate::text::Redactor;

/// Gathers everything the exercise's plan needs from one namespace. Read-only: only GET,
/// LIST (and discovery, for a custom kind) requests.
pub async fn gather(
    client: &Client,
    namespace: &str,
    plan: &Plan,
    calls: &CallCount,
) -> Result<Snapshot, Error> {
    let kinds = resolve_kinds(client, &plan.kinds, calls).await?;
    let listed = list_namespace(client, Some(namespace), &kinds, calls).await?;
    let empty = listed.is_empty();
    let mut snapshot = assemble(
        client,
        namespace,
        plan,
        listed,
        &LogLimiter::default(),
        calls,
    )
    .await?;
    if empty {
        // Listing a namespace that does not exist answers an empty list; ask, to tell the two apart.
        calls.add();
        let ns: Api<Namespace> = Api::all(client.clone());
        if let Ok(None) = ns.get_opt(namespace).await {
            return Err(Error::Cluster {
                message: format!("namespace {namespace} does not exist"),
                help: Some("pass the namespace you applied your work in with -n NAMESPACE (kubectl get namespaces lists them)".into()),
            });
        }
    }
    snapshot.cluster = identity(client, calls).await;
    Ok(snapshot)
}

fn strip_managed_fields(s: &mut Snapshot) {
    // managedFields say which client set which field: not evidence, and a third of each object.
    fn strip<K: ResourceExt>(items: &mut [K]) {
        items
            .iter_mut()
            .for_each(|i| i.meta_mut().managed_fields = None);
    }
    strip(&mut s.jobs);
    strip(&mut s.pods);
    strip(&mut s.deployments);
    strip(&mut s.replica_sets);
    strip(&mut s.cron_jobs);
    strip(&mut s.services);
    strip(&mut s.endpoint_slices);
    strip(&mut s.config_maps);
    strip(&mut s.others);
}

/// A Secret's value copied into another object (a literal env var, a ConfigMap, a command)
/// is hidden there too: a snapshot never holds one.
fn scrub_objects(s: &mut Snapshot, r: &Redactor) {
    fn scrub<K: serde::Serialize + serde::de::DeserializeOwned>(items: &mut [K], r: &Redactor) {
        for item in items.iter_mut() {
            let mut v = serde_json::to_value(&*item).expect("API objects serialise");
            if r.scrub_json(&mut v)
                && let Ok(clean) = serde_json::from_value(v)
            {
                *item = clean;
            }
        }
    }
    scrub(&mut s.jobs, r);
    scrub(&mut s.pods, r);
    scrub(&mut s.deployments, r);
    scrub(&mut s.replica_sets, r);
    scrub(&mut s.cron_jobs, r);
    scrub(&mut s.services, r);
    scrub(&mut s.config_maps, r);
    scrub(&mut s.others, r);
}

/// Turns one namespace's lists into the exercise's snapshot: keeps the Events about the
/// targets and reads the logs of their pods (under the shared limit). The cluster identity
/// is left for the caller.
pub async fn assemble(
    client: &Client,
    namespace: &str,
    plan: &Plan,
    listed: Listed,
    limiter: &LogLimiter,
    calls: &CallCount,
) -> Result<Snapshot, Error> {
    let Listed {
        mut snapshot,
        events,
        redactor,
    } = listed;
    strip_managed_fields(&mut snapshot);
    if !redactor.is_empty() {
        scrub_objects(&mut snapshot, &redactor);
    }
    snapshot.namespace = namespace.to_owned();
    snapshot.gathered_at = jiff::Timestamp::now().to_string();
    snapshot.targets = plan.targets.iter().map(|t| t.key.clone()).collect();
    match events {
        Ok(all) => snapshot.events = events_about(&snapshot, plan, all, &redactor),
        Err(message) => snapshot.notes.push(format!(
            "Events were not readable ({message}); scheduling problems cannot be explained"
        )),
    }
    let requests = log_requests(&snapshot, plan);
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut notes = Vec::new();
    snapshot.logs = read_logs(
        &pods_api, namespace, requests, limiter, calls, &redactor, &mut notes,
    )
    .await?;
    snapshot.notes.extend(notes);
    Ok(snapshot)
}

/// The Events about the targets and what belongs to them. Pods named like a target Job's are
/// kept too: a pod deleted or evicted is gone from the list, its Events are not.
fn events_about(s: &Snapshot, plan: &Plan, all: Vec<Event>, redactor: &Redactor) -> Vec<Event> {
    let mut about: Vec<(String, String)> = Vec::new();
    for t in &plan.targets {
        about.extend(relations::related(s, t));
    }
    let prefixes: Vec<String> = plan
        .targets
        .iter()
        .filter(|t| t.is(Known::Job) || t.is(Known::CronJob))
        .filter_map(|t| t.name.as_ref().map(|n| format!("{n}-")))
        .collect();
    let named: Vec<(&str, &str)> = plan
        .targets
        .iter()
        .filter_map(|t| Some((t.kind.kind.as_str(), t.name.as_deref()?)))
        .collect();
    all.into_iter()
        .filter(|e| {
            let io = &e.involved_object;
            let (kind, name) = (
                io.kind.as_deref().unwrap_or(""),
                io.name.as_deref().unwrap_or(""),
            );
            about.iter().any(|(k, n)| k == kind && n == name)
                || named.iter().any(|(k, n)| *k == kind && *n == name)
                || (kind == "Pod" && prefixes.iter().any(|p| name.starts_with(p.as_str())))
        })
        .map(|mut e| {
            e.metadata.managed_fields = None;
            if !redactor.is_empty() {
                e.message = e.message.map(|m| redactor.scrub(&m));
            }
            e
        })
        .collect()
}

/// Whether a container ever ran: only then is there a log to read.
fn ran(c: &k8s_openapi::api::core::v1::ContainerStatus) -> bool {
    c.state
        .as_ref()
        .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        || c.last_state
            .as_ref()
            .is_some_and(|s| s.terminated.is_some())
}

/// A container that crashed: its last lines say why.
fn crashed(c: &k8s_openapi::api::core::v1::ContainerStatus) -> bool {
    c.restart_count > 0
        || c.state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .is_some_and(|t| t.exit_code != 0)
}

/// One log to read: pod, container, and whether the previous run's (a container waiting to
/// restart has only an empty log of its own).
type LogRequest = (String, String, bool);

/// The logs to read: every container that ran, of the pods of the targets whose logs are
/// judged; and of any target's pods, the containers that crashed.
fn log_requests(s: &Snapshot, plan: &Plan) -> Vec<LogRequest> {
    let mut out: Vec<LogRequest> = Vec::new();
    for t in &plan.targets {
        let judged = plan.logs_of.contains(&t.key);
        for p in relations::pods_of_target(s, t) {
            let name = p.metadata.name.clone().unwrap_or_default();
            let statuses = p.status.iter().flat_map(|st| {
                st.init_container_statuses
                    .iter()
                    .flatten()
                    .chain(st.container_statuses.iter().flatten())
            });
            for c in statuses {
                if !(ran(c) && (judged || crashed(c))) {
                    continue;
                }
                let waiting = c.state.as_ref().is_some_and(|st| st.waiting.is_some());
                let previous = waiting && c.restart_count > 0;
                let request = (name.clone(), c.name.clone(), previous);
                if !out.contains(&request) {
                    out.push(request);
                }
            }
        }
    }
    out
}

/// Every log asked for, read through the shared limiter; a log that is gone (the pod was
/// deleted meanwhile) is a note, any other failure an error.
async fn read_logs(
    pods_api: &Api<Pod>,
    namespace: &str,
    requests: Vec<LogRequest>,
    limiter: &LogLimiter,
    calls: &CallCount,
    redactor: &Redactor,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, BTreeMap<String, LogText>>, Error> {
    let results: Vec<(String, String, Result<LogText, kube::Error>)> =
        futures::future::join_all(requests.into_iter().map(|(pod, container, previous)| {
            let api = pods_api.clone();
            calls.add();
            async move {
                let _permit = limiter
                    .0
                    .acquire()
                    .await
                    .expect("the limiter is never closed");
                let r = read_log(&api, &pod, &container, previous).await;
                (pod, container, r)
            }
        }))
        .await;
    let mut logs: BTreeMap<String, BTreeMap<String, LogText>> = BTreeMap::new();
    // Pods whose kubelet did not answer, with the first answer: one note for them all.
    let mut unreachable: Vec<String> = Vec::new();
    let mut kubelet_said = String::new();
    for (pod, container, r) in results {
        match r {
            Ok(mut log) => {
                if !redactor.is_empty() {
                    log.text = redactor.scrub(&log.text).into();
                }
                logs.entry(pod).or_default().insert(container, log);
            }
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 400 => {
                notes.push(format!("the log of pod {pod} is gone: {}", s.message));
            }
            // The API server answered, but the node's kubelet, which holds the log, did not
            // (stopped, or the node is down): the rest of the namespace can still be judged.
            Err(kube::Error::Api(s)) if s.code >= 500 && s.message.contains("containerLogs") => {
                if unreachable.is_empty() {
                    kubelet_said = crate::text::clean(&s.message);
                }
                if !unreachable.contains(&pod) {
                    unreachable.push(pod);
                }
            }
            Err(e) => {
                return Err(explain(
                    e,
                    &format!("reading the log of pod {pod}"),
                    namespace,
                ));
            }
        }
    }
    if !unreachable.is_empty() {
        let whose = match unreachable.as_slice() {
            [pod] => format!(
                "the log of pod {pod} cannot be read: the API server could not reach its node's kubelet"
            ),
            pods => format!(
                "the logs of {} pods ({}) cannot be read: the API server could not reach their nodes' kubelets",
                pods.len(),
                crate::text::list_more(pods, 3)
            ),
        };
        notes.push(format!("{whose} (it answered: {kubelet_said})"));
    }
    Ok(logs)
}

async fn read_log(
    api: &Api<Pod>,
    pod: &str,
    container: &str,
    previous: bool,
) -> Result<LogText, kube::Error> {
    let lp = LogParams {
        container: Some(container.to_owned()),
        limit_bytes: Some(LOG_LIMIT_BYTES),
        tail_lines: Some(LOG_TAIL_LINES),
        previous,
        ..LogParams::default()
    };
    let stream = api.log_stream(pod, &lp).await?;
    // The server honours limitBytes; this bound holds even if it did not.
    read_bounded(stream, LOG_LIMIT_BYTES as usize).await
}

/// A log stream read to its end or to `limit` bytes, whichever comes first. In chunks, not
/// `read_to_end`, which zero-fills every doubling of its buffer (a class's logs made that a
/// visible share of a grade's time in benches/class_load.rs).
pub async fn read_bounded(
    mut stream: impl futures::AsyncRead + Unpin,
    limit: usize,
) -> Result<LogText, kube::Error> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while bytes.len() <= limit {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(kube::Error::ReadEvents)?;
        if n == 0 {
            break;
        }
        let take = n.min(limit + 1 - bytes.len());
        if bytes.len() + take > bytes.capacity() {
            // Doubling, but never past the limit: a log at the limit doubled to twice its
            // size, and 16 of them read at once were a grade's largest transient.
            let want = (bytes.capacity() * 2)
                .max(bytes.len() + take)
                .min(limit + 1);
            bytes.reserve_exact(want - bytes.len());
        }
        bytes.extend_from_slice(&chunk[..take]);
    }
    let truncated = bytes.len() >= limit;
    bytes.truncate(limit);
    // Valid UTF-8 (nearly every log) becomes the text with one copy, into its shared form.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(LogText {
        text: text.into(),
        truncated,
    })
}
