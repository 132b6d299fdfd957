//! A Deployment's facts: its replicas (desired, updated, ready, available), its rollout
//! (complete, in progress, stuck on its progress deadline, paused) with why new pods are not
//! ready, and its revisions: each ReplicaSet it owns, with the images of that revision.

use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;

use super::pod::{self, PodFacts, PodsSummary};
use super::relations::{pods_owned, replica_sets_of};
use crate::snapshot::Snapshot;
use crate::text::clean;

/// One revision: a ReplicaSet the Deployment owns.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub revision: u32,
    pub replica_set: String,
    pub images: Vec<String>,
    /// Pods it runs now, and how many are ready.
    pub replicas: i32,
    pub ready: i32,
    /// Whether it is the revision the Deployment's template is now.
    pub current: bool,
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rollout {
    /// Every replica runs the current template and is available.
    Complete,
    InProgress,
    /// The `Progressing` condition gave up (`ProgressDeadlineExceeded`).
    Stuck,
    Paused,
}

impl Rollout {
    pub fn words(self) -> &'static str {
        match self {
            Rollout::Complete => "rollout complete",
            Rollout::InProgress => "rollout in progress",
            Rollout::Stuck => "rollout stuck",
            Rollout::Paused => "rollout paused",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentFacts {
    pub found: bool,
    pub name: String,
    /// One line: "rollout complete: 3 of 3 available (revision 2, image kuard:blue)".
    pub state: String,
    pub rollout: Rollout,
    pub rollout_complete: bool,
    pub rollout_stuck: bool,
    /// When the current rollout completed (its `Progressing` condition's last update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// `spec.replicas` (1 when unset).
    pub replicas: i32,
    /// `status.replicas`: pods of every revision.
    pub total: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub unavailable: i32,
    pub paused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progressing_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progressing_message: Option<String>,
    /// The current revision number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// Oldest first.
    pub revisions: Vec<Revision>,
    /// The images of the current template.
    pub images: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Its pods, every revision's.
    pub pods: Vec<PodFacts>,
    pub pods_summary: PodsSummary,
    /// Why the current revision's pods are not ready, when they are not.
    pub new_pod_problems: Vec<String>,
    /// What keeps the current revision's pods from ever becoming ready (an image that cannot
    /// be pulled, a container that keeps crashing), once the controller has seen the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_pods_stuck: Option<String>,
    /// Why its ReplicaSets could not create pods (`FailedCreate` Events, distinct): a
    /// namespace's ResourceQuota or LimitRange refusing them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_failures: Vec<String>,
}

fn revision_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<u32> {
    meta.annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")?
        .parse()
        .ok()
}

/// Its ReplicaSets as revisions, oldest first.
fn revisions(s: &Snapshot, uid: &str, current: Option<u32>) -> Vec<Revision> {
    let mut revisions: Vec<Revision> = replica_sets_of(s, uid)
        .into_iter()
        .map(|rs| {
            let r = revision_of(&rs.metadata).unwrap_or(0);
            Revision {
                revision: r,
                replica_set: rs.metadata.name.clone().unwrap_or_default(),
                images: rs
                    .spec
                    .template
                    .as_ref()
                    .and_then(|t| t.spec.as_ref())
                    .map(|p| {
                        p.containers
                            .iter()
                            .filter_map(|c| c.image.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                replicas: rs.status.as_ref().map_or(0, |st| st.replicas),
                ready: rs
                    .status
                    .as_ref()
                    .and_then(|st| st.ready_replicas)
                    .unwrap_or(0),
                current: Some(r) == current,
            }
        })
        .collect();
    revisions.sort_by_key(|r| r.revision);
    revisions
}

/// Its pods' facts: all of them, and the current revision's.
fn pods_by_revision(
    s: &Snapshot,
    uid: &str,
    current: Option<u32>,
) -> (Vec<PodFacts>, Vec<PodFacts>) {
    let mut pods: Vec<PodFacts> = Vec::new();
    let mut new_pods: Vec<PodFacts> = Vec::new();
    for rs in replica_sets_of(s, uid) {
        let is_current = revision_of(&rs.metadata) == current;
        for p in pods_owned(s, "ReplicaSet", rs.metadata.uid.as_deref().unwrap_or("")) {
            let f = pod::of(s, p);
            if is_current {
                new_pods.push(f.clone());
            }
            pods.push(f);
        }
    }
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    (pods, new_pods)
}

/// What keeps pods of the current revision from ever becoming ready.
fn never_ready(new_pods: &[PodFacts]) -> Option<String> {
    new_pods.iter().filter(|p| !p.terminating).find_map(|p| {
        p.stuck()
            .or_else(|| (p.restarts >= 2).then(|| format!("pod {} keeps restarting", p.name)))
    })
}

pub fn of(s: &Snapshot, d: &Deployment) -> DeploymentFacts {
    let name = d.metadata.name.clone().unwrap_or_default();
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let spec = d.spec.clone();
    let status = d.status.clone().unwrap_or_default();
    let revision = revision_of(&d.metadata);
    let images: Vec<String> = spec
        .template
        .spec
        .iter()
        .flat_map(|p| p.containers.iter())
        .filter_map(|c| c.image.clone())
        .collect();
    let revisions = revisions(s, &uid, revision);
    let (pods, new_pods) = pods_by_revision(s, &uid, revision);
    let progressing = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_.as_deref() == Some("Progressing"));
    let replicas = spec.replicas.unwrap_or(1);
    let generation_seen =
        status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let complete = generation_seen
        && updated == replicas
        && status.replicas.unwrap_or(0) == updated
        && available == updated;
    let stuck = progressing.is_some_and(|c| {
        c.status.as_deref() == Some("False")
            && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    let paused = spec.paused.unwrap_or(false);
    let rollout = if complete {
        Rollout::Complete
    } else if paused {
        Rollout::Paused
    } else if stuck {
        Rollout::Stuck
    } else {
        Rollout::InProgress
    };
    let new_pod_problems = pod::summarise(&new_pods).problems;
    let new_pods_stuck = never_ready(&new_pods).filter(|_| generation_seen);
    let create_failures = create_failures(s, &revisions);
    let mut f = DeploymentFacts {
        found: true,
        name,
        state: String::new(),
        rollout,
        rollout_complete: complete,
        rollout_stuck: stuck,
        completed_at: progressing
            .filter(|c| complete && c.reason.as_deref() == Some("NewReplicaSetAvailable"))
            .and_then(|c| c.last_update_time.as_ref())
            .map(|t| t.0.to_string()),
        replicas,
        total: status.replicas.unwrap_or(0),
        updated,
        ready: status.ready_replicas.unwrap_or(0),
        available,
        unavailable: status.unavailable_replicas.unwrap_or(0),
        paused,
        progressing_reason: progressing.and_then(|c| c.reason.clone()),
        progressing_message: progressing.and_then(|c| c.message.as_deref().map(clean)),
        revision,
        revisions,
        images,
        strategy: spec.strategy.as_ref().and_then(|st| st.type_.clone()),
        pods_summary: pod::summarise(&pods),
        pods,
        new_pod_problems,
        new_pods_stuck,
        create_failures,
    };
    f.state = state_line(&f);
    f
}

/// The `FailedCreate` Events of the Deployment's ReplicaSets.
fn create_failures(s: &Snapshot, revisions: &[Revision]) -> Vec<String> {
    let mut out = Vec::new();
    for e in &s.events {
        let io = &e.involved_object;
        if e.reason.as_deref() == Some("FailedCreate")
            && io.kind.as_deref() == Some("ReplicaSet")
            && revisions
                .iter()
                .any(|r| Some(r.replica_set.as_str()) == io.name.as_deref())
            && let Some(m) = &e.message
        {
            super::distinct(&mut out, clean(&super::truncate(m, 400)));
        }
    }
    out
}

fn state_line(f: &DeploymentFacts) -> String {
    let mut s = format!(
        "{}: {} of {} available, {} updated",
        f.rollout.words(),
        f.available,
        f.replicas,
        f.updated
    );
    if let Some(r) = f.revision {
        s.push_str(&format!(" (revision {r}"));
        if !f.images.is_empty() {
            s.push_str(&format!(", image {}", f.images.join(", ")));
        }
        s.push(')');
    }
    if f.rollout == Rollout::Stuck
        && let Some(m) = &f.progressing_message
    {
        s.push_str(&format!(": {}", m.trim_end_matches('.')));
    }
    if f.rollout != Rollout::Complete
        && let Some(p) = f.new_pod_problems.first()
    {
        s.push_str(&format!("; the new revision's {p}"));
    }
    if f.rollout != Rollout::Complete && !f.create_failures.is_empty() {
        let quota = f
            .create_failures
            .iter()
            .any(|m| m.contains("exceeded quota"));
        s.push_str(if quota {
            "; the namespace's ResourceQuota refuses more pods"
        } else {
            "; its ReplicaSet cannot create pods"
        });
    }
    s
}

pub fn not_found(name: &str) -> DeploymentFacts {
    DeploymentFacts {
        found: false,
        name: name.to_owned(),
        state: "not found".into(),
        rollout: Rollout::InProgress,
        rollout_complete: false,
        rollout_stuck: false,
        completed_at: None,
        replicas: 0,
        total: 0,
        updated: 0,
        ready: 0,
        available: 0,
        unavailable: 0,
        paused: false,
        progressing_reason: None,
        progressing_message: None,
        revision: None,
        revisions: Vec::new(),
        images: Vec::new(),
        strategy: None,
        pods: Vec::new(),
        pods_summary: PodsSummary::default(),
        new_pod_problems: Vec::new(),
        new_pods_stuck: None,
        create_failures: Vec::new(),
    }
}
