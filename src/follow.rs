//! Following a run's pod logs live (`kubelab run`): each pod's log printed as it is written,
//! prefixed by its pod like `kubectl logs --prefix`, cleaned of control sequences and bounded;
//! pods deleted or evicted while running said as it happens. A stream cut while its container
//! still runs (the API server restarted, a connection dropped) is followed again from its
//! last line, which the log's own timestamps make exact.

use std::collections::{HashMap, HashSet};

use futures::{AsyncBufReadExt, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::mpsc;

/// Follows the pods a label selector picks as they start, until `stop` fires. Pods that were
/// running before `since` (an earlier revision's) are followed from then on, not replayed.
pub async fn stream_logs(
    client: Client,
    namespace: String,
    selector: String,
    since: Timestamp,
    redactor: std::sync::Arc<crate::text::Redactor>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let stream = watcher(
        pods.clone(),
        crate::cluster::watch_config().labels(&selector),
    )
    .backoff(crate::cluster::watch_backoff())
    .applied_objects();
    futures::pin_mut!(stream);
    let (ended_tx, mut ended) = mpsc::unbounded_channel();
    let mut followers = Followers {
        run_started: Some(since),
        redactor,
        ..Followers::default()
    };
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some((name, last)) = ended.recv() => followers.ended(name, last),
            next = stream.next() => match next {
                Some(Ok(pod)) => followers.saw(&pod, &pods, &ended_tx),
                Some(Err(_)) => continue,
                None => break,
            },
        }
    }
    for t in followers.tasks {
        t.abort();
    }
}

/// Whose logs are being followed, whose were followed to their end, and where each stopped.
#[derive(Default)]
struct Followers {
    following: HashSet<String>,
    /// Pods followed before whose stream ended: where, and when.
    stopped_at: HashMap<String, Stopped>,
    said_stopped: HashSet<String>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// When the run began: older pods' logs are followed from here.
    run_started: Option<Timestamp>,
    /// The applied Secrets' values, hidden in what the pods print.
    redactor: std::sync::Arc<crate::text::Redactor>,
}

impl Followers {
    fn saw(&mut self, pod: &Pod, api: &Api<Pod>, ended: &mpsc::UnboundedSender<Ended>) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        if let Some(why) = stopped_while_running(pod)
            && self.said_stopped.insert(name.clone())
            && let Some(next) = what_follows(pod, &why)
        {
            eprintln!("[{name}] {why} while running: {next}");
        }
        let (running, terminated) = container_states(pod);
        if !(running || terminated) {
            return;
        }
        let containers: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
        for container in &containers {
            // One container is shown by its pod's name, as kubectl does; several as pod/container.
            let shown = if containers.len() == 1 {
                name.clone()
            } else {
                format!("{name}/{container}")
            };
            if self.following.contains(&shown) {
                continue;
            }
            // A stream that ended is resumed while the container still runs (it was cut, not
            // finished), or when the container ended well after the stream did (the API server
            // was down meanwhile). A container that ended with its stream was read to the end.
            let since = match self.stopped_at.get(&shown) {
                Some(stop) if running || stop.before_end_of(pod, container) => stop.last_line,
                Some(_) => continue,
                None => self
                    .run_started
                    .filter(|start| created.is_some_and(|c| c < *start)),
            };
            self.following.insert(shown.clone());
            let (api, ended) = (api.clone(), ended.clone());
            let (pod_name, container) = (name.clone(), container.clone());
            let redactor = self.redactor.clone();
            self.tasks.push(tokio::spawn(async move {
                let last = follow(&api, &pod_name, &container, &shown, since, &redactor).await;
                let _ = ended.send((shown, last));
            }));
        }
    }

    fn ended(&mut self, name: String, last: Option<Timestamp>) {
        self.following.remove(&name);
        let before = self.stopped_at.get(&name).and_then(|s| s.last_line);
        let stopped = Stopped {
            last_line: last.or(before),
            at: Timestamp::now(),
        };
        self.stopped_at.insert(name, stopped);
    }
}

/// Where a log stream stopped: the time of its last line printed, and when it stopped.
#[derive(Debug, Clone, Copy)]
struct Stopped {
    last_line: Option<Timestamp>,
    at: Timestamp,
}

impl Stopped {
    /// Whether the container ended clearly after this stream stopped (by more than a
    /// second: the node's clock and this machine's may differ a little), so that what it
    /// printed in between was never read.
    fn before_end_of(&self, pod: &Pod, container: &str) -> bool {
        let finished = statuses(pod)
            .filter(|c| c.name == container)
            .find_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref());
        finished.is_some_and(|f| f.0 > self.at + jiff::SignedDuration::from_secs(1))
    }
}

/// A follower's end: its pod (or pod/container) and the time of the last line it printed.
type Ended = (String, Option<Timestamp>);

/// Prints one pod's log from `since` (or its start) until the stream ends; the time of the
/// last line printed. Lines the server repeats at `since` (it has one-second precision) are
/// skipped by their timestamps.
async fn follow(
    api: &Api<Pod>,
    name: &str,
    container: &str,
    shown: &str,
    since: Option<Timestamp>,
    redactor: &crate::text::Redactor,
) -> Option<Timestamp> {
    let lp = LogParams {
        container: Some(container.to_owned()),
        follow: true,
        limit_bytes: Some(crate::cluster::LOG_LIMIT_BYTES),
        timestamps: true,
        since_time: since,
        ..LogParams::default()
    };
    let mut last = since;
    let Ok(stream) = api.log_stream(name, &lp).await else {
        return last;
    };
    let mut lines = stream.lines();
    while let Some(Ok(line)) = lines.next().await {
        let (at, text) = split_timestamp(&line);
        if let (Some(at), Some(seen)) = (at, last)
            && at <= seen
        {
            continue;
        }
        last = at.or(last);
        eprintln!("[{shown}] {}", crate::text::clean(&redactor.scrub(text)));
    }
    last
}

/// `2026-12-02T12:00:00.123456789Z text` as its time and text; a line without a timestamp
/// (a server that ignores `timestamps`) as it is.
fn split_timestamp(line: &str) -> (Option<Timestamp>, &str) {
    match line.split_once(' ') {
        Some((head, text)) => match head.parse::<Timestamp>() {
            Ok(at) => (Some(at), text),
            Err(_) => (None, line),
        },
        None => match line.parse::<Timestamp>() {
            Ok(at) => (Some(at), ""),
            Err(_) => (None, line),
        },
    }
}

/// The pod's containers as its kubelet last reported them.
fn statuses(pod: &Pod) -> impl Iterator<Item = &k8s_openapi::api::core::v1::ContainerStatus> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
}

/// Whether any container of the pod runs, and whether any has ended.
fn container_states(pod: &Pod) -> (bool, bool) {
    let states = statuses(pod).filter_map(|c| c.state.as_ref());
    let (mut running, mut terminated) = (false, false);
    for s in states {
        running |= s.running.is_some();
        terminated |= s.terminated.is_some();
    }
    (running, terminated)
}

/// What replaces a pod that was deleted or evicted, by what owns it; nothing to say when a
/// ReplicaSet scales down (a rollout replacing its revision is not news).
fn what_follows(pod: &Pod, why: &str) -> Option<&'static str> {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| o.kind.as_str());
    match owner {
        Some("Job") => {
            Some("the Job counts it failed and starts a replacement, which does its work again")
        }
        Some("ReplicaSet") if why.starts_with("evicted") => {
            Some("its ReplicaSet starts a replacement to keep the replica count")
        }
        Some("ReplicaSet") => None,
        Some(_) => Some("its controller starts a replacement"),
        None => Some("a bare pod is not replaced: nothing owns it"),
    }
}

/// A pod being deleted before it finished, and by what: the `DisruptionTarget` condition
/// names an eviction, a preemption or the kubelet; a plain delete has none.
pub fn stopped_while_running(pod: &k8s_openapi::api::core::v1::Pod) -> Option<String> {
    pod.metadata.deletion_timestamp.as_ref()?;
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    let disruption = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "DisruptionTarget"))
        .and_then(|c| c.reason.clone());
    Some(match disruption {
        Some(reason) => format!("evicted ({})", crate::text::clean(&reason)),
        None => "deleted".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::{Stopped, split_timestamp};

    /// A stream cut while the API server was down, the container ending meanwhile: its log is
    /// read again from the last line; one that ended with its container is not.
    #[test]
    fn a_stream_stopped_before_its_container_ended_is_resumed() {
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "slow-sequential-x"},
            "status": {"containerStatuses": [{
                "name": "worker", "image": "busybox:1.35", "imageID": "", "ready": false,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "finishedAt": "2026-12-06T03:42:40Z"}}
            }]}
        }))
        .unwrap();
        let stopped = |at: &str| Stopped {
            last_line: None,
            at: at.parse().unwrap(),
        };
        assert!(stopped("2026-12-06T03:41:35Z").before_end_of(&pod, "worker"));
        assert!(!stopped("2026-12-06T03:42:40.2Z").before_end_of(&pod, "worker"));
        assert!(!stopped("2026-12-06T03:42:39.5Z").before_end_of(&pod, "worker"));
        assert!(!stopped("2026-12-06T03:41:35Z").before_end_of(&pod, "sidecar"));
    }

    #[test]
    fn a_timestamped_line_splits_and_a_plain_one_stays_whole() {
        let (at, text) = split_timestamp("2026-12-02T11:45:33.123456789Z Completed item 3");
        assert_eq!(
            at.map(|t| t.to_string()).as_deref(),
            Some("2026-12-02T11:45:33.123456789Z")
        );
        assert_eq!(text, "Completed item 3");
        assert_eq!(
            split_timestamp("Completed item 3"),
            (None, "Completed item 3")
        );
        let (at, text) = split_timestamp("2026-12-02T11:45:33Z");
        assert!(at.is_some() && text.is_empty());
    }
}
