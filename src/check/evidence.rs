//! What an assertion looks at: the target objects (the manifest offline, the API objects
//! live) and, live, each target's pods, logs, Events and derived facts, with the CEL variables
//! made from them once for every assertion.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Mode;
use super::expr::{Vars, to_cel};

/// The cluster side of the evidence for one target (filled by the live checker).
#[derive(Debug, Clone, Default)]
pub struct LiveTarget {
    /// The Job's pods (owned by it), as API objects.
    pub pods: Vec<Json>,
    /// Pod name to log lines (already bounded and cleaned).
    pub logs: BTreeMap<String, Vec<String>>,
    /// Events involving the Job or its pods.
    pub events: Vec<Json>,
    /// Derived facts (duration, concurrency, counts...) as JSON.
    pub facts: Json,
}

/// Everything an assertion may look at.
pub struct Evidence {
    pub mode: Mode,
    /// Target name to object (manifest object offline, API object live); absent = not found.
    pub objects: BTreeMap<String, Json>,
    pub default_target: String,
    /// Live only: per target.
    pub live: BTreeMap<String, LiveTarget>,
    /// Live only: every Job in the namespace.
    pub jobs: Vec<Json>,
    pub(crate) vars: BTreeMap<String, Vars>,
}

impl Evidence {
    pub fn offline(default_target: String, objects: BTreeMap<String, Json>) -> Evidence {
        Evidence::new(
            Mode::Offline,
            default_target,
            objects,
            BTreeMap::new(),
            Vec::new(),
            &[],
        )
    }

    /// `needed` names the CEL variables the assertions read beyond `object`, `objects` and
    /// `facts`: only those are converted, since a Job with thousands of pods makes large CEL
    /// values.
    pub fn new(
        mode: Mode,
        default_target: String,
        objects: BTreeMap<String, Json>,
        live: BTreeMap<String, LiveTarget>,
        jobs: Vec<Json>,
        needed: &[String],
    ) -> Evidence {
        let wants = |v: &str| needed.iter().any(|n| n == v);
        // CEL values are built once per target here, not once per assertion.
        let objects_cel = to_cel(&Json::Object(
            objects
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
        // Facts of every target by name, for comparisons between Jobs.
        let targets_cel = to_cel(&Json::Object(
            live.iter()
                .map(|(k, t)| (k.clone(), t.facts.clone()))
                .collect(),
        ));
        let jobs_cel = if wants("jobs") {
            to_cel(&Json::Array(jobs.clone()))
        } else {
            kube_cel::cel::Value::Null
        };
        let mut vars = BTreeMap::new();
        let mut names: Vec<&String> = objects.keys().collect();
        if !names.contains(&&default_target) {
            names.push(&default_target);
        }
        for name in names {
            let mut v = Vars::default();
            let object = objects
                .get(name)
                .map(to_cel)
                .unwrap_or(kube_cel::cel::Value::Null);
            v.set("object", object.clone());
            v.set("objects", objects_cel.clone());
            if mode == Mode::Live {
                let empty = LiveTarget::default();
                let t = live.get(name).unwrap_or(&empty);
                v.set("job", object);
                v.set("facts", to_cel(&t.facts));
                v.set("targets", targets_cel.clone());
                if wants("pods") {
                    v.set("pods", to_cel(&Json::Array(t.pods.clone())));
                }
                if wants("events") {
                    v.set("events", to_cel(&Json::Array(t.events.clone())));
                }
                if wants("jobs") {
                    v.set("jobs", jobs_cel.clone());
                }
                if wants("logs") {
                    v.set(
                        "logs",
                        to_cel(&serde_json::to_value(&t.logs).unwrap_or(Json::Null)),
                    );
                }
            }
            vars.insert(name.clone(), v);
        }
        Evidence {
            mode,
            objects,
            default_target,
            live,
            jobs,
            vars,
        }
    }
}
