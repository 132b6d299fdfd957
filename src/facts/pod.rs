//! A Pod's facts: its phase and readiness, each container's state and restarts with how the
//! last one ended (an out-of-memory kill, an exit code, a failed liveness probe told by its
//! Event), init containers and their exits, its QoS class and service account, and why it
//! waits: an image that cannot be pulled, a configuration it cannot find, no room on a node.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
use serde::Serialize;

use super::node::NodeLost;
use super::{distinct, truncate};
use crate::snapshot::Snapshot;
use crate::text::clean;

/// How a container ended, the last time it did.
#[derive(Debug, Clone, Serialize)]
pub struct Termination {
    /// `Completed`, `Error`, `OOMKilled`, `ContainerCannotRun`...
    pub reason: String,
    pub exit_code: i32,
    /// What made it end when the kubelet killed it: "its liveness probe failed: ...".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// One container (or init container) of a pod.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerFacts {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: i32,
    /// `running`, `waiting (CrashLoopBackOff)`, `terminated (Completed, exit 0)`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_message: Option<String>,
    /// How it ended, when its current state is terminated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Termination>,
    /// How the previous run ended, when it restarted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_termination: Option<Termination>,
    /// The last line of its log, when it failed and the log was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_log_line: Option<String>,
}

/// Everything derived for one pod.
#[derive(Debug, Clone, Serialize)]
pub struct PodFacts {
    pub found: bool,
    pub name: String,
    /// One line: "Running, ready", "Pending: cannot pull image busybox:9 (ErrImagePull)".
    pub state: String,
    pub phase: String,
    pub ready: bool,
    /// Being deleted (a rollout scaling its revision down, a delete, an eviction).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub terminating: bool,
    /// Restarts of all its containers.
    pub restarts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Its node stopped reporting: what the pod shows is the last its kubelet told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_lost: Option<NodeLost>,
    pub containers: Vec<ContainerFacts>,
    pub init_containers: Vec<ContainerFacts>,
    /// Distinct waiting reasons of its containers: ErrImagePull, CrashLoopBackOff...
    pub waiting_reasons: Vec<String>,
    /// Why an image cannot be pulled, in the kubelet's words.
    pub image_pull_failures: Vec<String>,
    /// `FailedScheduling` messages: why no node takes it.
    pub unschedulable: Vec<String>,
    /// Failed probes (`Unhealthy` Events): "Liveness probe failed: ...".
    pub probe_failures: Vec<String>,
    /// Times the kubelet killed a container because its liveness (or startup) probe failed,
    /// from its `Killing` Events: the restart follows once the container has stopped.
    pub liveness_kills: i32,
    /// Configuration it cannot start with: a missing ConfigMap, Secret or key, a user the
    /// image does not allow ("container has runAsNonRoot and image will run as root").
    pub config_errors: Vec<String>,
    /// Seconds its containers have run without a restart, as of the snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_seconds: Option<f64>,
    /// The longest a liveness probe of its containers takes to kill a container that stops
    /// answering, and the restart to show: until it has run this long, "alive" is not yet
    /// known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_window_seconds: Option<f64>,
}

const IMAGE_PULL: &[&str] = &["ErrImagePull", "ImagePullBackOff", "InvalidImageName"];

/// Waiting reasons that do not go away by waiting: the pod needs a fix.
pub const STUCK: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// The Events about one pod, by name.
pub fn events_of<'a>(snapshot: &'a Snapshot, pod: &str) -> Vec<&'a Event> {
    snapshot
        .events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("Pod")
                && e.involved_object.name.as_deref() == Some(pod)
        })
        .collect()
}

/// The facts of one pod.
pub fn of(snapshot: &Snapshot, pod: &Pod) -> PodFacts {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let events = events_of(snapshot, &name);
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.clone().unwrap_or_else(|| "Unknown".into());
    let ready = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let image_of = |c: &str| {
        pod.spec
            .iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .find(|x| x.name == c)
            .and_then(|x| x.image.clone())
            .unwrap_or_default()
    };
    let containers: Vec<ContainerFacts> = status
        .container_statuses
        .iter()
        .flatten()
        .map(|c| container(snapshot, &name, c, &events, &image_of(&c.name)))
        .collect();
    let init_containers: Vec<ContainerFacts> = status
        .init_container_statuses
        .iter()
        .flatten()
        .map(|c| container(snapshot, &name, c, &events, &image_of(&c.name)))
        .collect();
    let mut facts = PodFacts {
        found: true,
        state: String::new(),
        phase,
        ready,
        terminating: pod.metadata.deletion_timestamp.is_some(),
        restarts: containers
            .iter()
            .chain(&init_containers)
            .map(|c| c.restarts)
            .sum(),
        qos_class: status.qos_class.clone(),
        service_account: pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .or_else(|| Some("default".into())),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        node_lost: NodeLost::of(pod),
        waiting_reasons: Vec::new(),
        image_pull_failures: Vec::new(),
        unschedulable: Vec::new(),
        probe_failures: Vec::new(),
        liveness_kills: 0,
        config_errors: Vec::new(),
        running_seconds: running_seconds(&status, snapshot.taken_at()),
        liveness_window_seconds: liveness_window(pod),
        containers,
        init_containers,
        name,
    };
    facts.read_events(&events);
    facts.state = state_line(&facts);
    facts
}

impl PodFacts {
    fn read_events(&mut self, events: &[&Event]) {
        for c in self.containers.iter().chain(&self.init_containers) {
            if let Some(r) = &c.waiting_reason {
                // On the way to running: not a reason to wait for anything.
                if !matches!(r.as_str(), "PodInitializing" | "ContainerCreating") {
                    distinct(&mut self.waiting_reasons, r.clone());
                }
                if let Some(m) = &c.waiting_message
                    && r.starts_with("CreateContainer")
                {
                    distinct(&mut self.config_errors, m.clone());
                }
            }
        }
        for e in events {
            let message = e.message.as_deref().map(|m| clean(&truncate(m, 300)));
            let Some(m) = message else { continue };
            match e.reason.as_deref() {
                Some("FailedScheduling") => distinct(&mut self.unschedulable, m),
                Some("Unhealthy") => distinct(&mut self.probe_failures, m),
                Some("Killing") if m.contains("probe") => {
                    self.liveness_kills += e.count.unwrap_or(1).max(1);
                }
                Some("Failed") if m.starts_with("Failed to pull image") => {
                    distinct(&mut self.image_pull_failures, m)
                }
                Some("Failed") if m.starts_with("Error: ") && !m.contains("ImagePull") => {
                    let text = m.trim_start_matches("Error: ").to_owned();
                    if !self
                        .config_errors
                        .iter()
                        .any(|c| text.starts_with(&c[..c.len().min(40)]))
                    {
                        distinct(&mut self.config_errors, text);
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether something keeps it from running that waiting will not cure.
    pub fn stuck(&self) -> Option<String> {
        if self.liveness_kills > 0 {
            return Some(format!("pod {} is killed by its liveness probe", self.name));
        }
        if let Some(c) = self
            .init_containers
            .iter()
            .find(|c| c.restarts > 0 && c.ended.as_ref().is_some_and(|t| t.exit_code != 0))
        {
            return Some(format!("init container {} keeps failing", c.name));
        }
        self.waiting_reasons
            .iter()
            .find(|r| STUCK.contains(&r.as_str()))
            .map(|r| format!("{} of pod {}", r, self.name))
    }

    /// Every reason its containers gave (waiting and termination), for recognising pitfalls.
    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.containers.iter().chain(&self.init_containers) {
            out.extend(c.waiting_reason.clone());
            out.extend(c.waiting_message.clone());
            out.extend(c.ended.as_ref().map(|t| t.reason.clone()));
            out.extend(c.last_termination.as_ref().map(|t| t.reason.clone()));
        }
        out.extend(self.config_errors.iter().cloned());
        out
    }
}

fn termination(
    t: &k8s_openapi::api::core::v1::ContainerStateTerminated,
    container: &str,
    events: &[&Event],
) -> Termination {
    let reason = t.reason.clone().unwrap_or_else(|| "Error".into());
    // The kubelet kills a container whose liveness (or startup) probe fails: exit 137 with
    // reason Error; only its Events say why.
    let killed_by_probe = events.iter().find_map(|e| {
        let m = e.message.as_deref()?;
        (e.reason.as_deref() == Some("Killing")
            && m.contains(&format!("Container {container} failed"))
            && m.contains("probe"))
        .then(|| m.to_owned())
    });
    let cause = killed_by_probe.map(|m| {
        let which = if m.contains("startup") {
            "startup"
        } else {
            "liveness"
        };
        let why = events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("Unhealthy"))
            .filter_map(|e| e.message.as_deref())
            .find(|u| u.to_lowercase().starts_with(which));
        match why {
            Some(w) => format!(
                "killed because its {which} probe failed: {}",
                clean(&truncate(w, 200))
            ),
            None => format!("killed because its {which} probe failed"),
        }
    });
    let cause = cause.or_else(|| {
        (reason == "OOMKilled").then(|| {
            "killed for using more memory than its limit (resources.limits.memory)".to_owned()
        })
    });
    Termination {
        reason,
        exit_code: t.exit_code,
        cause,
    }
}

fn container(
    snapshot: &Snapshot,
    pod: &str,
    c: &ContainerStatus,
    events: &[&Event],
    image: &str,
) -> ContainerFacts {
    let state = c.state.clone().unwrap_or_default();
    let ended = state
        .terminated
        .as_ref()
        .map(|t| termination(t, &c.name, events));
    let last_termination = c
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| termination(t, &c.name, events));
    let waiting = state.waiting.as_ref();
    let words = match (&state.running, &ended, waiting) {
        (Some(_), _, _) => "running".to_owned(),
        (_, Some(t), _) => format!("terminated ({}, exit {})", t.reason, t.exit_code),
        (_, _, Some(w)) => format!(
            "waiting ({})",
            w.reason.as_deref().unwrap_or("no reason given")
        ),
        _ => "not started".to_owned(),
    };
    let failed = ended.as_ref().is_some_and(|t| t.exit_code != 0)
        || last_termination.as_ref().is_some_and(|t| t.exit_code != 0);
    ContainerFacts {
        name: c.name.clone(),
        image: image.to_owned(),
        ready: c.ready,
        restarts: c.restart_count,
        state: words,
        waiting_reason: waiting.and_then(|w| w.reason.clone()),
        waiting_message: waiting
            .and_then(|w| w.message.as_deref())
            .map(|m| clean(&truncate(m, 300))),
        ended,
        last_termination,
        last_log_line: if failed {
            last_line(snapshot, pod, &c.name)
        } else {
            None
        },
    }
}

fn last_line(snapshot: &Snapshot, pod: &str, container: &str) -> Option<String> {
    snapshot
        .logs
        .get(pod)
        .and_then(|cs| cs.get(container))
        .and_then(|l| l.text.lines().rfind(|l| !l.trim().is_empty()))
        .map(|l| clean(&truncate(l, 200)))
}

/// The pod's state in one line, naming what holds it up.
fn state_line(f: &PodFacts) -> String {
    let mut s = f.phase.clone();
    if f.terminating {
        s.push_str(" (terminating)");
    }
    if let Some(lost) = &f.node_lost {
        return format!(
            "{s} as last reported: node {} stopped reporting (not ready since {}), so nothing on it progresses until its kubelet is back",
            lost.node, lost.since
        );
    }
    if f.phase == "Running" {
        s.push_str(if f.ready { ", ready" } else { ", not ready" });
    }
    if let Some(m) = f
        .unschedulable
        .first()
        .filter(|_| f.phase == "Pending" && f.node.is_none())
    {
        return format!("{s}: no node can take it ({m})");
    }
    if let Some(c) = f.init_containers.iter().find(|c| {
        c.ended
            .as_ref()
            .or(c.last_termination.as_ref())
            .is_some_and(|t| t.exit_code != 0)
    }) {
        let t = c
            .ended
            .as_ref()
            .or(c.last_termination.as_ref())
            .expect("found above");
        return format!(
            "{s}: init container {} exited {} ({}), so the app containers never started",
            c.name, t.exit_code, t.reason
        );
    }
    for c in &f.containers {
        if let Some(r) = &c.waiting_reason {
            if IMAGE_PULL.contains(&r.as_str()) {
                return format!("{s}: cannot pull image {} ({r})", c.image);
            }
            if r.starts_with("CreateContainer") {
                let why = c.waiting_message.clone().unwrap_or_else(|| r.clone());
                return format!("{s}: container {} cannot start: {why}", c.name);
            }
        }
    }
    if f.liveness_kills > 0 && f.restarts == 0 {
        s.push_str(" (killed by its liveness probe; it restarts once it has stopped)");
    }
    if f.restarts > 0 {
        let last = f
            .containers
            .iter()
            .filter(|c| c.restarts > 0)
            .find_map(|c| c.last_termination.as_ref().or(c.ended.as_ref()));
        let how = last.map_or(String::new(), |t| match &t.cause {
            Some(cause) => format!(": last {cause}"),
            None => format!(": last ended {} (exit {})", t.reason, t.exit_code),
        });
        s.push_str(&format!(
            " ({} restart{}{how})",
            f.restarts,
            if f.restarts == 1 { "" } else { "s" }
        ));
    }
    s
}

/// A pod that is not in the snapshot.
pub fn not_found(name: &str) -> PodFacts {
    PodFacts {
        found: false,
        name: name.to_owned(),
        state: "not found".into(),
        phase: "Unknown".into(),
        ready: false,
        terminating: false,
        restarts: 0,
        qos_class: None,
        service_account: None,
        node: None,
        node_lost: None,
        containers: Vec::new(),
        init_containers: Vec::new(),
        waiting_reasons: Vec::new(),
        image_pull_failures: Vec::new(),
        unschedulable: Vec::new(),
        probe_failures: Vec::new(),
        liveness_kills: 0,
        config_errors: Vec::new(),
        running_seconds: None,
        liveness_window_seconds: None,
    }
}

/// How long the containers have run since the last (re)start of any of them.
fn running_seconds(
    status: &k8s_openapi::api::core::v1::PodStatus,
    now: jiff::Timestamp,
) -> Option<f64> {
    let starts: Vec<jiff::Timestamp> = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| {
            c.state
                .as_ref()?
                .running
                .as_ref()?
                .started_at
                .as_ref()
                .map(|t| t.0)
        })
        .collect();
    let latest = starts.into_iter().max()?;
    Some(now.duration_since(latest).as_secs_f64().max(0.0))
}

/// The liveness probes' time to act and be seen: initial delay + period x (failure threshold
/// + 1), and a few seconds for the kubelet to report the restart.
fn liveness_window(pod: &Pod) -> Option<f64> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| c.liveness_probe.as_ref())
        .map(|p| {
            let delay = p.initial_delay_seconds.unwrap_or(0);
            let period = p.period_seconds.unwrap_or(10);
            let threshold = p.failure_threshold.unwrap_or(3);
            f64::from(delay + period * (threshold + 1) + 5)
        })
        .reduce(f64::max)
}

impl PodFacts {
    /// Seconds until its liveness probes have had time to fail, when they have not yet.
    pub fn on_probation(&self) -> Option<f64> {
        let window = self.liveness_window_seconds?;
        let ran = self.running_seconds?;
        (ran < window).then(|| (window - ran).ceil())
    }
}

/// A group of pods (a Deployment's, a Service's) summed up.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PodsSummary {
    pub total: usize,
    pub running: usize,
    pub ready: usize,
    pub pending: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub restarts: i32,
    /// Containers killed by a failing liveness probe (a restart follows).
    pub liveness_kills: i32,
    /// Pods being deleted: not counted above.
    pub terminating: usize,
    /// One line per distinct problem, naming a pod: "pod web-x: cannot pull image ...".
    pub problems: Vec<String>,
}

pub fn summarise(pods: &[PodFacts]) -> PodsSummary {
    let mut s = PodsSummary::default();
    for p in pods {
        if p.terminating {
            s.terminating += 1;
            continue;
        }
        s.total += 1;
        match p.phase.as_str() {
            "Running" => s.running += 1,
            "Pending" => s.pending += 1,
            "Succeeded" => s.succeeded += 1,
            "Failed" => s.failed += 1,
            _ => {}
        }
        s.ready += usize::from(p.ready);
        s.restarts += p.restarts;
        s.liveness_kills += p.liveness_kills;
        if !(p.ready || p.phase == "Succeeded") || p.restarts > 0 || p.liveness_kills > 0 {
            let liveness = (p.liveness_kills > 0).then(|| {
                let why = p
                    .probe_failures
                    .iter()
                    .find(|f| f.to_lowercase().starts_with("liveness"))
                    .map(|f| format!(": {f}"))
                    .unwrap_or_default();
                format!("killed by its liveness probe{why}")
            });
            let problem = liveness
                .or_else(|| p.state.split_once(": ").map(|(_, why)| why.to_owned()))
                .or_else(|| (p.restarts > 0).then(|| p.state.clone()));
            if let Some(why) = problem
                && !s.problems.iter().any(|x| x.ends_with(&why))
            {
                s.problems.push(format!("pod {}: {why}", p.name));
            }
        }
    }
    s
}
