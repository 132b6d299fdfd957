//! A Job's facts: what really happened, in numbers the assertions and the feedback use. Pods
//! count only when the Job owns them (ownerReferences to its uid); look-alikes are reported,
//! never counted.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde::Serialize;

use super::{distinct, owned_by, secs, truncate};
use crate::snapshot::Snapshot;

/// One pod's life, as the Job controller and kubelet recorded it.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub pod: String,
    pub phase: String,
    /// Seconds from the Job's start: when the pod was created, its container started and ended.
    pub created: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<f64>,
    /// How long the container ran (started to finished), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// `Completed`, `Error`, `OOMKilled`, or a waiting reason such as `ImagePullBackOff`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<String>,
    /// Completion index of an Indexed Job's pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    /// The last log line, for failed pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_log_line: Option<String>,
}

/// Everything derived for one Job.
#[derive(Debug, Clone, Serialize)]
pub struct JobFacts {
    pub found: bool,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// One line: "Complete (CompletionsReached)", "Failed (BackoffLimitExceeded): ...", "running".
    pub state: String,
    pub complete: bool,
    pub failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completions: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
    /// The Job's own status counters.
    pub status_succeeded: i32,
    pub status_failed: i32,
    pub status_active: i32,
    /// Pods the Job owns, by outcome.
    pub pods: usize,
    pub pods_succeeded: usize,
    pub pods_failed: usize,
    pub pods_unfinished: usize,
    /// `status.completionTime`, when it completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// startTime to completionTime (or to the snapshot while running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Most pods active at once (created, not finished): what `parallelism` caps.
    pub max_active: usize,
    /// Most containers running at once: lower when pods wait for the scheduler.
    pub max_running: usize,
    pub runs: Vec<Run>,
    /// Shortest and longest container run time of the succeeded pods, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded_seconds_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded_seconds_max: Option<f64>,
    /// `FailedScheduling` messages, distinct: "0/1 nodes are available: 1 Insufficient cpu."
    pub scheduling_failures: Vec<String>,
    /// Why the Job could not create its pods (`FailedCreate` Events, distinct): a namespace's
    /// ResourceQuota or LimitRange refusing them, an admission policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_failures: Vec<String>,
    /// Distinct container waiting reasons: ErrImagePull, ImagePullBackOff, CrashLoopBackOff.
    pub waiting_reasons: Vec<String>,
    /// Distinct non-zero exit codes.
    pub exit_codes: Vec<i32>,
    /// Pods that look like this Job's workers but are not owned by it.
    pub impostors: Vec<String>,
    /// Pods of an earlier Job of the same name (the Job was replaced).
    pub previous_job_pods: Vec<String>,
    /// Pods this Job created (its `SuccessfulCreate` events say so) that are no longer in the
    /// namespace: deleted or evicted. One deleted while running counts as failed and is replaced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gone_pods: Vec<String>,
}

/// The pods a Job owns.
pub fn owned_pods<'a>(snapshot: &'a Snapshot, uid: &str) -> Vec<&'a Pod> {
    snapshot
        .pods
        .iter()
        .filter(|p| owned_by(p, "Job", uid))
        .collect()
}

pub fn find_job<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a Job> {
    snapshot
        .jobs
        .iter()
        .find(|j| j.metadata.name.as_deref() == Some(name))
}

/// Events about the Job or the given pods.
pub fn events_for<'a>(snapshot: &'a Snapshot, name: &str, pods: &[&Pod]) -> Vec<&'a Event> {
    let names: Vec<&str> = pods
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    snapshot
        .events
        .iter()
        .filter(|e| {
            let io = &e.involved_object;
            let n = io.name.as_deref().unwrap_or("");
            match io.kind.as_deref() {
                Some("Job") => n == name,
                Some("Pod") => names.contains(&n),
                _ => false,
            }
        })
        .collect()
}

/// The facts of the Job named `name`, or what is there instead when it is missing.
pub fn derive(snapshot: &Snapshot, name: &str) -> JobFacts {
    match find_job(snapshot, name) {
        Some(job) => of(snapshot, job),
        None => not_found(snapshot, name),
    }
}

/// The facts of one Job of the snapshot (a target, or a CronJob's run).
pub fn of(snapshot: &Snapshot, job: &Job) -> JobFacts {
    let now = snapshot.taken_at();
    let name = job.metadata.name.as_deref().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let spec = job.spec.as_ref();
    let status = job.status.clone().unwrap_or_default();
    let is_true = |t: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == t && c.status == "True")
    };
    let (complete_c, failed_c) = (is_true("Complete"), is_true("Failed"));
    let terminal = complete_c.or(failed_c);
    let start = status.start_time.as_ref().map(|t| t.0);
    let end = status
        .completion_time
        .as_ref()
        .map(|t| t.0)
        .or_else(|| failed_c.and_then(|c| c.last_transition_time.as_ref().map(|t| t.0)));
    let origin = start
        .or(job.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(now);
    let pods = owned_pods(snapshot, &uid);
    let mut tally = Tally::default();
    for pod in &pods {
        tally.add(snapshot, pod, origin, now);
    }
    let mut runs = std::mem::take(&mut tally.runs);
    runs.sort_by(|a, b| a.created.total_cmp(&b.created).then(a.pod.cmp(&b.pod)));
    let succeeded_seconds = succeeded_seconds(&runs);
    let (impostors, previous_job_pods) = lookalikes(snapshot, name, &uid);
    let condition_reason = terminal.and_then(|c| c.reason.clone());
    let condition_message = terminal.and_then(|c| c.message.clone());
    let state = job_state(
        complete_c.is_some(),
        failed_c.is_some(),
        condition_reason.as_deref(),
        condition_message.as_deref(),
        &status,
        spec,
    );
    let running_edges = std::mem::take(&mut tally.running_edges);
    JobFacts {
        found: true,
        name: name.to_owned(),
        uid: Some(uid),
        state,
        complete: complete_c.is_some(),
        failed: failed_c.is_some(),
        condition_reason,
        condition_message,
        completions: spec.and_then(|s| s.completions),
        parallelism: spec.and_then(|s| s.parallelism),
        backoff_limit: spec.and_then(|s| s.backoff_limit),
        status_succeeded: status.succeeded.unwrap_or(0),
        status_failed: status.failed.unwrap_or(0),
        status_active: status.active.unwrap_or(0),
        completed_at: status.completion_time.as_ref().map(|t| t.0.to_string()),
        pods: pods.len(),
        pods_succeeded: tally.succeeded,
        pods_failed: tally.failed,
        pods_unfinished: tally.unfinished,
        duration_seconds: start.map(|s| secs(s, end.unwrap_or(now))),
        max_active: sweep(tally.active_edges),
        // A container that started and ended within the same second still ran.
        max_running: sweep(running_edges.clone()).max(usize::from(!running_edges.is_empty())),
        runs,
        succeeded_seconds_min: succeeded_seconds.0,
        succeeded_seconds_max: succeeded_seconds.1,
        scheduling_failures: scheduling_failures(snapshot, name, &pods),
        create_failures: create_failures(snapshot, name),
        waiting_reasons: tally.waiting_reasons,
        exit_codes: tally.exit_codes,
        impostors,
        previous_job_pods,
        gone_pods: gone_pods(snapshot, name, job.metadata.uid.as_deref()),
    }
}

/// The pods the Job's events say it created that the snapshot no longer holds.
fn gone_pods(snapshot: &Snapshot, name: &str, uid: Option<&str>) -> Vec<String> {
    let mut gone = Vec::new();
    for e in &snapshot.events {
        let io = &e.involved_object;
        let this_job = io.kind.as_deref() == Some("Job")
            && io.name.as_deref() == Some(name)
            && (io.uid.is_none() || io.uid.as_deref() == uid);
        let created = e
            .message
            .as_deref()
            .filter(|_| this_job && e.reason.as_deref() == Some("SuccessfulCreate"))
            .and_then(|m| m.strip_prefix("Created pod: "));
        if let Some(pod) = created
            && !snapshot
                .pods
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some(pod))
        {
            distinct(&mut gone, crate::text::clean(&truncate(pod, 253)));
        }
    }
    gone.sort();
    gone
}

/// The shortest and longest run of the pods that succeeded.
fn succeeded_seconds(runs: &[Run]) -> (Option<f64>, Option<f64>) {
    let secs = runs
        .iter()
        .filter(|r| r.phase == "Succeeded")
        .filter_map(|r| r.seconds);
    (secs.clone().reduce(f64::min), secs.reduce(f64::max))
}

/// The Job's pods added up: each pod's run, when pods were active and running, and what
/// made them wait or fail.
#[derive(Default)]
struct Tally {
    runs: Vec<Run>,
    active_edges: Vec<(Timestamp, i32)>,
    running_edges: Vec<(Timestamp, i32)>,
    waiting_reasons: Vec<String>,
    exit_codes: Vec<i32>,
    succeeded: usize,
    failed: usize,
    unfinished: usize,
}

/// What a pod's containers say: when the first started and the last finished, how the last
/// ended, and why one waits.
#[derive(Default)]
struct Containers {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    exit_code: Option<i32>,
    reason: Option<String>,
    waiting: Option<String>,
}

impl Tally {
    fn add(&mut self, snapshot: &Snapshot, pod: &Pod, origin: Timestamp, now: Timestamp) {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let pstatus = pod.status.clone().unwrap_or_default();
        let phase = pstatus.phase.clone().unwrap_or_else(|| "Unknown".into());
        match phase.as_str() {
            "Succeeded" => self.succeeded += 1,
            "Failed" => self.failed += 1,
            _ => self.unfinished += 1,
        }
        let created = pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(origin);
        let c = self.containers(&pstatus);
        // A pod stops being active when it finishes; one that never ran ends with its phase.
        let pod_end = c.end.or_else(|| {
            matches!(phase.as_str(), "Succeeded" | "Failed").then(|| {
                pstatus
                    .conditions
                    .iter()
                    .flatten()
                    .filter_map(|c| c.last_transition_time.as_ref().map(|t| t.0))
                    .max()
                    .unwrap_or(created)
            })
        });
        self.active_edges.push((created, 1));
        self.active_edges.push((pod_end.unwrap_or(now), -1));
        if let Some(s) = c.start {
            self.running_edges.push((s, 1));
            self.running_edges.push((c.end.unwrap_or(now), -1));
        }
        let index = pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("batch.kubernetes.io/job-completion-index"))
            .and_then(|v| v.parse().ok());
        let last_log_line = (phase == "Failed")
            .then(|| last_line(snapshot, &pod_name))
            .flatten();
        self.runs.push(Run {
            pod: pod_name,
            phase,
            created: secs(origin, created),
            started: c.start.map(|s| secs(origin, s)),
            finished: c.end.map(|e| secs(origin, e)),
            seconds: c.start.zip(c.end).map(|(s, e)| secs(s, e)),
            exit_code: c.exit_code,
            reason: c.reason,
            waiting_reason: c.waiting,
            index,
            last_log_line,
        });
    }

    fn containers(&mut self, pstatus: &k8s_openapi::api::core::v1::PodStatus) -> Containers {
        let mut c = Containers::default();
        for cs in pstatus.container_statuses.iter().flatten() {
            if let Some(state) = &cs.state {
                if let Some(t) = &state.terminated {
                    c.start = c.start.or(t.started_at.as_ref().map(|x| x.0));
                    c.end = t.finished_at.as_ref().map(|x| x.0).or(c.end);
                    c.exit_code = Some(t.exit_code);
                    c.reason = t.reason.clone();
                    if t.exit_code != 0 {
                        distinct(&mut self.exit_codes, t.exit_code);
                    }
                }
                if let Some(r) = &state.running {
                    c.start = c.start.or(r.started_at.as_ref().map(|x| x.0));
                }
                if let Some(w) = &state.waiting
                    && let Some(r) = &w.reason
                {
                    distinct(&mut self.waiting_reasons, r.clone());
                    c.waiting = Some(r.clone());
                }
            }
            if let Some(t) = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref())
                && t.exit_code != 0
            {
                distinct(&mut self.exit_codes, t.exit_code);
            }
        }
        c
    }
}

/// A failed pod's last log line, cleaned: usually what went wrong.
fn last_line(snapshot: &Snapshot, pod: &str) -> Option<String> {
    snapshot.logs.get(pod).and_then(|cs| {
        cs.values()
            .flat_map(|l| l.text.lines())
            .rfind(|l| !l.trim().is_empty())
            .map(|l| crate::text::clean(&truncate(l, 200)))
    })
}

fn scheduling_failures(snapshot: &Snapshot, name: &str, pods: &[&Pod]) -> Vec<String> {
    let mut out = Vec::new();
    for e in events_for(snapshot, name, pods) {
        if e.reason.as_deref() == Some("FailedScheduling")
            && let Some(m) = &e.message
        {
            distinct(&mut out, crate::text::clean(&truncate(m, 300)));
        }
    }
    out
}

/// The Job controller's `FailedCreate` Events about this Job: pods it could not create.
fn create_failures(snapshot: &Snapshot, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in events_for(snapshot, name, &[]) {
        if e.reason.as_deref() == Some("FailedCreate")
            && e.involved_object.kind.as_deref() == Some("Job")
            && let Some(m) = &e.message
        {
            distinct(&mut out, crate::text::clean(&truncate(m, 400)));
        }
    }
    out
}

/// The Job's state in one line.
fn job_state(
    complete: bool,
    failed: bool,
    reason: Option<&str>,
    message: Option<&str>,
    status: &k8s_openapi::api::batch::v1::JobStatus,
    spec: Option<&k8s_openapi::api::batch::v1::JobSpec>,
) -> String {
    if complete {
        format!(
            "Complete ({})",
            reason.unwrap_or("all completions succeeded")
        )
    } else if failed {
        format!(
            "Failed ({}){}",
            reason.unwrap_or("unknown reason"),
            message.map(|m| format!(": {m}")).unwrap_or_default()
        )
    } else {
        format!(
            "still running: {} of {} succeeded, {} active, {} failed",
            status.succeeded.unwrap_or(0),
            spec.and_then(|s| s.completions)
                .map_or("?".to_owned(), |c| c.to_string()),
            status.active.unwrap_or(0),
            status.failed.unwrap_or(0)
        )
    }
}

fn not_found(snapshot: &Snapshot, name: &str) -> JobFacts {
    let (impostors, previous_job_pods) = lookalikes(snapshot, name, "");
    JobFacts {
        found: false,
        name: name.to_owned(),
        uid: None,
        state: "not found".into(),
        complete: false,
        failed: false,
        condition_reason: None,
        condition_message: None,
        completions: None,
        parallelism: None,
        backoff_limit: None,
        status_succeeded: 0,
        status_failed: 0,
        status_active: 0,
        completed_at: None,
        pods: 0,
        pods_succeeded: 0,
        pods_failed: 0,
        pods_unfinished: 0,
        duration_seconds: None,
        max_active: 0,
        max_running: 0,
        runs: Vec::new(),
        succeeded_seconds_min: None,
        succeeded_seconds_max: None,
        scheduling_failures: Vec::new(),
        create_failures: Vec::new(),
        waiting_reasons: Vec::new(),
        exit_codes: Vec::new(),
        impostors,
        previous_job_pods,
        gone_pods: Vec::new(),
    }
}

/// Pods that claim to be this Job's (by label or name) without being owned by it: bare pods
/// named like workers, or pods of an earlier Job with the same name.
fn lookalikes(snapshot: &Snapshot, name: &str, uid: &str) -> (Vec<String>, Vec<String>) {
    let mut impostors = Vec::new();
    let mut previous = Vec::new();
    for p in &snapshot.pods {
        let pname = p.metadata.name.clone().unwrap_or_default();
        let owners: Vec<_> = p.metadata.owner_references.iter().flatten().collect();
        if owners
            .iter()
            .any(|o| o.kind == "Job" && o.uid == uid && !uid.is_empty())
        {
            continue;
        }
        let labels = p.metadata.labels.clone().unwrap_or_default();
        let labelled = labels.get("job-name").map(String::as_str) == Some(name)
            || labels
                .get("batch.kubernetes.io/job-name")
                .map(String::as_str)
                == Some(name);
        let named = pname.starts_with(&format!("{name}-"));
        if !(labelled || named) {
            continue;
        }
        let owned_by_other_job = owners.iter().any(|o| o.kind == "Job" && o.name == name);
        if owned_by_other_job {
            previous.push(pname);
        } else if owners.is_empty() || labelled {
            impostors.push(pname);
        }
    }
    (impostors, previous)
}

/// The most intervals open at once; at equal times, ends come before starts (timestamps have
/// one-second resolution and a replacement pod is created in the same second its predecessor
/// finished).
fn sweep(mut edges: Vec<(Timestamp, i32)>) -> usize {
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut cur, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        cur += d;
        max = max.max(cur);
    }
    max.max(0) as usize
}
