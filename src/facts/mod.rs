//! Facts derived from a snapshot, per target: what really happened, typed per kind (a Job's
//! concurrency and durations, a Pod's restarts and why, a Deployment's rollout and revisions,
//! a CronJob's schedule and runs, a Service's endpoints, who consumes a ConfigMap or Secret).
//! Reports render them, assertions read them, and they become JSON only where CEL reads them.
//!
//! A new kind's facts go in a file of their own here, one variant of [`TargetFacts`], and one
//! arm of [`derive`].

pub mod config;
pub mod cron;
pub mod cronjob;
pub mod deployment;
pub mod job;
pub mod node;
pub mod pod;
pub mod relations;
pub mod service;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value as Json;

use crate::kinds::Known;
use crate::snapshot::Snapshot;
use crate::target::TargetRef;

pub use config::ConfigFacts;
pub use cronjob::CronJobFacts;
pub use deployment::DeploymentFacts;
pub use job::{JobFacts, Run};
pub use pod::PodFacts;
pub use service::ServiceFacts;

/// One condition of an object's `status.conditions`.
#[derive(Debug, Clone, Serialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The facts of an object of a kind without facts of its own (a StatefulSet, a custom
/// resource...): whether it is there, and its conditions.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectFacts {
    pub found: bool,
    pub name: String,
    /// Its kind: `StatefulSet`.
    pub of_kind: String,
    /// One line: its conditions, or "present".
    pub state: String,
    pub conditions: Vec<Condition>,
}

/// The objects a selector target matched, each with its facts.
#[derive(Debug, Clone, Serialize)]
pub struct SelectionFacts {
    pub found: bool,
    /// "3 Pods labelled app=v1 (3 expected)".
    pub state: String,
    pub selector: String,
    pub matched: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<u32>,
    /// Whether as many objects matched as expected (always, when no count is given).
    pub count_met: bool,
    pub items: Vec<TargetFacts>,
}

/// Everything derived for one target, by kind. As JSON (reports, CEL's `facts`), the kind is
/// the `kind` member.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind")]
pub enum TargetFacts {
    Job(JobFacts),
    Pod(PodFacts),
    Deployment(DeploymentFacts),
    CronJob(CronJobFacts),
    Service(ServiceFacts),
    ConfigMap(ConfigFacts),
    Secret(ConfigFacts),
    Object(ObjectFacts),
    Selection(SelectionFacts),
}

impl TargetFacts {
    pub fn found(&self) -> bool {
        match self {
            TargetFacts::Job(f) => f.found,
            TargetFacts::Pod(f) => f.found,
            TargetFacts::Deployment(f) => f.found,
            TargetFacts::CronJob(f) => f.found,
            TargetFacts::Service(f) => f.found,
            TargetFacts::ConfigMap(f) | TargetFacts::Secret(f) => f.found,
            TargetFacts::Object(f) => f.found,
            TargetFacts::Selection(f) => f.found,
        }
    }

    /// The one-line state.
    pub fn state(&self) -> &str {
        match self {
            TargetFacts::Job(f) => &f.state,
            TargetFacts::Pod(f) => &f.state,
            TargetFacts::Deployment(f) => &f.state,
            TargetFacts::CronJob(f) => &f.state,
            TargetFacts::Service(f) => &f.state,
            TargetFacts::ConfigMap(f) | TargetFacts::Secret(f) => &f.state,
            TargetFacts::Object(f) => &f.state,
            TargetFacts::Selection(f) => &f.state,
        }
    }

    pub fn job(&self) -> Option<&JobFacts> {
        match self {
            TargetFacts::Job(f) => Some(f),
            _ => None,
        }
    }

    /// The pods' facts this target has (a Pod's own, a Deployment's, the selection's).
    pub fn pods(&self) -> Vec<&PodFacts> {
        match self {
            TargetFacts::Pod(p) => vec![p],
            TargetFacts::Deployment(d) => d.pods.iter().collect(),
            TargetFacts::Selection(s) => s.items.iter().flat_map(TargetFacts::pods).collect(),
            _ => Vec::new(),
        }
    }

    /// The container reasons and termination causes seen, with where (for pitfalls).
    pub fn reasons(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        if let Some(j) = self.job() {
            for r in &j.runs {
                for t in [&r.reason, &r.waiting_reason].into_iter().flatten() {
                    out.push((format!("pod {}", r.pod), t.clone()));
                }
            }
        }
        if let TargetFacts::CronJob(c) = self {
            for j in &c.jobs {
                out.extend(TargetFacts::Job(j.clone()).reasons());
            }
        }
        for p in self.pods() {
            for r in p.reasons() {
                out.push((format!("pod {}", p.name), r));
            }
        }
        out
    }

    /// As JSON, for CEL and the JSON report.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).expect("facts serialise")
    }
}

/// The facts of one target.
pub fn derive(s: &Snapshot, t: &TargetRef) -> TargetFacts {
    if let Some(sel) = &t.selector_text {
        return selection(s, t, sel);
    }
    let name = t.name.clone().unwrap_or_default();
    let find = |list: &[Json]| -> Option<Json> {
        list.iter()
            .find(|o| o.pointer("/metadata/name").and_then(Json::as_str) == Some(&name))
            .cloned()
    };
    match t.known() {
        Some(Known::Job) => TargetFacts::Job(job::derive(s, &name)),
        Some(Known::Pod) => TargetFacts::Pod(
            s.pods
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(&name))
                .map_or_else(|| pod::not_found(&name), |p| pod::of(s, p)),
        ),
        Some(Known::Deployment) => TargetFacts::Deployment(
            s.deployments
                .iter()
                .find(|d| d.metadata.name.as_deref() == Some(&name))
                .map_or_else(|| deployment::not_found(&name), |d| deployment::of(s, d)),
        ),
        Some(Known::CronJob) => TargetFacts::CronJob(
            s.cron_jobs
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(&name))
                .map_or_else(|| cronjob::not_found(&name), |c| cronjob::of(s, c)),
        ),
        Some(Known::Service) => TargetFacts::Service(
            s.services
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(&name))
                .map_or_else(|| service::not_found(&name), |c| service::of(s, c)),
        ),
        Some(Known::ConfigMap) => TargetFacts::ConfigMap(config::of(s, Known::ConfigMap, &name)),
        Some(Known::Secret) => TargetFacts::Secret(config::of(s, Known::Secret, &name)),
        _ => {
            let object = find(&relations::objects_of_target(s, t));
            TargetFacts::Object(object_facts(&t.kind.kind, &name, object.as_ref()))
        }
    }
}

fn selection(s: &Snapshot, t: &TargetRef, selector: &str) -> TargetFacts {
    let objects = relations::objects_of_target(s, t);
    let mut items = Vec::new();
    let mut matched = Vec::new();
    for o in &objects {
        let name = o
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        let one = TargetRef {
            key: name.clone(),
            name: Some(name.clone()),
            selector: None,
            selector_text: None,
            count: None,
            ..t.clone()
        };
        items.push(derive(s, &one));
        matched.push(name);
    }
    let expected = t.count;
    // Some objects picked is something to judge; how many is for the assertions (and a note).
    let found = !matched.is_empty();
    let noun = if matched.len() == 1 {
        t.kind.kind.clone()
    } else {
        format!("{}s", t.kind.kind)
    };
    let mut state = format!("{} {noun} labelled {selector}", matched.len());
    if let Some(n) = expected {
        state.push_str(&format!(" ({n} expected)"));
    }
    TargetFacts::Selection(SelectionFacts {
        found,
        state,
        selector: selector.to_owned(),
        count_met: expected.is_none_or(|n| n as usize == matched.len()),
        matched,
        expected,
        items,
    })
}

fn object_facts(kind: &str, name: &str, object: Option<&Json>) -> ObjectFacts {
    let conditions: Vec<Condition> = object
        .and_then(|o| o.pointer("/status/conditions"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Json::as_str).map(str::to_owned);
            Condition {
                type_: s("type").unwrap_or_default(),
                status: s("status").unwrap_or_default(),
                reason: s("reason"),
                message: s("message").map(|m| crate::text::clean(&truncate(&m, 300))),
            }
        })
        .collect();
    let state = match (object, conditions.is_empty()) {
        (None, _) => "not found".to_owned(),
        (Some(_), true) => "present".to_owned(),
        (Some(_), false) => conditions
            .iter()
            .map(|c| format!("{}={}", c.type_, c.status))
            .collect::<Vec<_>>()
            .join(", "),
    };
    ObjectFacts {
        found: object.is_some(),
        name: name.to_owned(),
        of_kind: kind.to_owned(),
        state,
        conditions,
    }
}

pub(crate) fn secs(from: Timestamp, to: Timestamp) -> f64 {
    let d = to.duration_since(from);
    (d.as_secs_f64() * 10.0).round() / 10.0
}

pub(crate) fn distinct<T: PartialEq>(v: &mut Vec<T>, item: T) {
    if !v.contains(&item) {
        v.push(item);
    }
}

pub(crate) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(n).collect();
        format!("{cut}...")
    }
}

/// Whether one of the pod's owner references is this kind and uid.
pub fn owned_by(pod: &k8s_openapi::api::core::v1::Pod, kind: &str, uid: &str) -> bool {
    relations::owned_by(&pod.metadata, kind, uid)
}
