//! What an assertion looks at: the target objects (the manifest offline, the API objects
//! live) and, live, each target's pods, logs, Events and derived facts, and the namespace's
//! objects by kind; with the CEL variables made from them once for every assertion.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::Mode;
use super::expr::{Vars, to_cel};

/// The cluster side of the evidence for one target (filled by the live checker).
#[derive(Debug, Clone, Default)]
pub struct LiveTarget {
    /// The target's pods (owned by it, or selected by it), as API objects.
    pub pods: Vec<Json>,
    /// Pod name to its log (already bounded and cleaned).
    pub logs: BTreeMap<String, PodLog>,
    /// Events about the target and what belongs to it.
    pub events: Vec<Json>,
    /// Derived facts, as JSON.
    pub facts: Json,
    /// Whether its pods run to completion (a Job's, a CronJob's): then "every pod" in a log
    /// check means every pod that succeeded; otherwise every pod that runs or ran.
    pub pods_complete: bool,
}

/// A pod's log: its containers' logs, shared with the snapshot and read line by line (a
/// class's logs are millions of lines: a String for each was most of the judging's work).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodLog {
    containers: Vec<std::sync::Arc<str>>,
}

impl PodLog {
    /// The containers' logs, in order.
    pub fn new(containers: impl IntoIterator<Item = std::sync::Arc<str>>) -> PodLog {
        PodLog {
            containers: containers.into_iter().collect(),
        }
    }

    /// Every container's lines, one container after another.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.containers.iter().flat_map(|log| log.lines())
    }
}

impl serde::Serialize for PodLog {
    /// As CEL reads it: a list of lines.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.lines())
    }
}

/// One target's objects: one for a named target, any number for a selector target.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub objects: Vec<Json>,
    /// Whether it is a selector target (its CEL `object` is a list).
    pub selection: bool,
    /// Other names CEL's `objects` knows it by: `Kind/name`, and its bare name when unique.
    pub aliases: Vec<String>,
}

impl Found {
    pub fn one(object: Json) -> Found {
        Found {
            objects: vec![object],
            selection: false,
            aliases: Vec::new(),
        }
    }

    /// As CEL sees it: the object, a list for a selection, null when missing.
    fn as_json(&self) -> Json {
        if self.selection {
            Json::Array(self.objects.clone())
        } else {
            self.objects.first().cloned().unwrap_or(Json::Null)
        }
    }
}

/// Everything an assertion may look at.
pub struct Evidence {
    pub mode: Mode,
    /// Target key to its objects; a target with no object was not found.
    pub objects: BTreeMap<String, Found>,
    pub default_target: String,
    /// Live only: per target.
    pub live: BTreeMap<String, LiveTarget>,
    /// Live only: every object listed in the namespace, by kind (`Job`, `Deployment`).
    pub namespace: BTreeMap<String, Vec<Json>>,
    /// Live only: the kinds the learner's work shows were here (objects of the kind, or Events
    /// about the exercise's objects of that kind), so that an absence is not taken for work.
    pub worked_on: BTreeSet<String>,
    pub(crate) vars: BTreeMap<String, Vars>,
}

impl Evidence {
    pub fn offline(default_target: String, objects: BTreeMap<String, Found>) -> Evidence {
        Evidence::new(
            Mode::Offline,
            default_target,
            objects,
            BTreeMap::new(),
            BTreeMap::new(),
            &[],
        )
    }

    /// The objects of a target, when it was found.
    pub fn found(&self, key: &str) -> Option<&[Json]> {
        self.objects
            .get(key)
            .map(|f| f.objects.as_slice())
            .filter(|o| !o.is_empty())
    }

    /// `needed` names the CEL variables the assertions read beyond `object`, `objects`,
    /// `facts` and `targets`: only those are converted, since a Job with thousands of pods
    /// makes large CEL values.
    pub fn new(
        mode: Mode,
        default_target: String,
        objects: BTreeMap<String, Found>,
        live: BTreeMap<String, LiveTarget>,
        namespace: BTreeMap<String, Vec<Json>>,
        needed: &[String],
    ) -> Evidence {
        let wants = |v: &str| needed.iter().any(|n| n == v);
        // CEL values are built once per evidence here, not once per assertion.
        let mut by_name = serde_json::Map::new();
        for (key, found) in &objects {
            let v = found.as_json();
            for alias in &found.aliases {
                by_name.insert(alias.clone(), v.clone());
            }
            by_name.insert(key.clone(), v);
        }
        let objects_cel = to_cel(&Json::Object(by_name));
        // Facts of every target by key, for comparisons between targets.
        let targets_cel = to_cel(&Json::Object(
            live.iter()
                .map(|(k, t)| (k.clone(), t.facts.clone()))
                .collect(),
        ));
        let jobs_cel = if wants("jobs") {
            to_cel(&Json::Array(
                namespace.get("Job").cloned().unwrap_or_default(),
            ))
        } else {
            kube_cel::cel::Value::Null
        };
        let mut vars = BTreeMap::new();
        let mut keys: Vec<&String> = objects.keys().collect();
        if !keys.contains(&&default_target) {
            keys.push(&default_target);
        }
        for key in keys {
            let mut v = Vars::default();
            let object = objects
                .get(key)
                .map(|f| to_cel(&f.as_json()))
                .unwrap_or(kube_cel::cel::Value::Null);
            v.set("object", object.clone());
            v.set("objects", objects_cel.clone());
            if mode == Mode::Live {
                let empty = LiveTarget::default();
                let t = live.get(key).unwrap_or(&empty);
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
            vars.insert(key.clone(), v);
        }
        Evidence {
            mode,
            objects,
            default_target,
            live,
            namespace,
            vars,
            worked_on: BTreeSet::new(),
        }
    }
}
