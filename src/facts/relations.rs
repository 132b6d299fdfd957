//! What belongs to what, by owner references and selectors, never by name: a Deployment's
//! ReplicaSets and their pods, a CronJob's Jobs and theirs, the pods a Service selects and the
//! EndpointSlices that name them, and the pods that consume a ConfigMap or a Secret.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value as Json;

use crate::kinds::Known;
use crate::selector::Selector;
use crate::snapshot::Snapshot;
use crate::target::TargetRef;

/// Whether an owner reference of this kind and uid is on the object.
pub fn owned_by(meta: &ObjectMeta, kind: &str, uid: &str) -> bool {
    !uid.is_empty()
        && meta
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.kind == kind && o.uid == uid)
}

fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or("")
}

/// The ReplicaSets a Deployment owns (its revisions).
pub fn replica_sets_of<'a>(s: &'a Snapshot, deployment_uid: &str) -> Vec<&'a ReplicaSet> {
    s.replica_sets
        .iter()
        .filter(|r| owned_by(&r.metadata, "Deployment", deployment_uid))
        .collect()
}

/// The Jobs a CronJob created.
pub fn jobs_of<'a>(s: &'a Snapshot, cron_uid: &str) -> Vec<&'a Job> {
    s.jobs
        .iter()
        .filter(|j| owned_by(&j.metadata, "CronJob", cron_uid))
        .collect()
}

/// Pods owned by an object of this kind and uid.
pub fn pods_owned<'a>(s: &'a Snapshot, kind: &str, owner_uid: &str) -> Vec<&'a Pod> {
    s.pods
        .iter()
        .filter(|p| owned_by(&p.metadata, kind, owner_uid))
        .collect()
}

/// The pods a selector map (a Service's `spec.selector`) picks; an empty selector picks none
/// (a Service without a selector has its endpoints managed by hand).
pub fn pods_selected<'a>(
    s: &'a Snapshot,
    selector: &std::collections::BTreeMap<String, String>,
) -> Vec<&'a Pod> {
    if selector.is_empty() {
        return Vec::new();
    }
    let sel = Selector::from_map(selector);
    s.pods
        .iter()
        .filter(|p| sel.matches(p.metadata.labels.as_ref()))
        .collect()
}

/// The pods belonging to one object of the snapshot, given as JSON (kind, uid and spec).
pub fn pods_of_object<'a>(s: &'a Snapshot, object: &Json) -> Vec<&'a Pod> {
    let kind = object.get("kind").and_then(Json::as_str).unwrap_or("");
    let uid = object
        .pointer("/metadata/uid")
        .and_then(Json::as_str)
        .unwrap_or("");
    let name = object
        .pointer("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("");
    match kind {
        "Pod" => s
            .pods
            .iter()
            .filter(|p| p.metadata.name.as_deref() == Some(name))
            .collect(),
        "Deployment" => replica_sets_of(s, uid)
            .into_iter()
            .flat_map(|rs| pods_owned(s, "ReplicaSet", uid_of(&rs.metadata)))
            .collect(),
        "CronJob" => jobs_of(s, uid)
            .into_iter()
            .flat_map(|j| pods_owned(s, "Job", uid_of(&j.metadata)))
            .collect(),
        "Service" => {
            let selector = object
                .pointer("/spec/selector")
                .and_then(Json::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            pods_selected(s, &selector)
        }
        "ConfigMap" | "Secret" => {
            let known = if kind == "ConfigMap" {
                Known::ConfigMap
            } else {
                Known::Secret
            };
            s.pods
                .iter()
                .filter(|p| {
                    p.spec
                        .as_ref()
                        .is_some_and(|sp| !uses(sp, known, name).is_empty())
                })
                .collect()
        }
        other => pods_owned(s, other, uid),
    }
}

fn uid_of(meta: &ObjectMeta) -> &str {
    uid(meta)
}

/// The objects of the snapshot a target names (one for a named target, any number for a
/// selector), as JSON.
pub fn objects_of_target(s: &Snapshot, t: &TargetRef) -> Vec<Json> {
    let Some(api) = &t.api else {
        // A custom kind: whatever was listed under its name.
        return s
            .others
            .iter()
            .filter(|o| o.types.as_ref().is_some_and(|ty| ty.kind == t.kind.kind))
            .map(|o| serde_json::to_value(o).expect("objects serialise"))
            .filter(|o| target_has(t, o))
            .collect();
    };
    s.objects_of(api)
        .into_iter()
        .filter(|o| target_has(t, o))
        .collect()
}

fn target_has(t: &TargetRef, o: &Json) -> bool {
    t.matches(
        o.get("apiVersion").and_then(Json::as_str).unwrap_or(""),
        o.get("kind").and_then(Json::as_str).unwrap_or(""),
        o.pointer("/metadata/name").and_then(Json::as_str),
        o.pointer("/metadata/labels"),
    )
}

/// Every pod of a target: its own, or those its objects own or select.
pub fn pods_of_target<'a>(s: &'a Snapshot, t: &TargetRef) -> Vec<&'a Pod> {
    let mut out: Vec<&Pod> = Vec::new();
    for o in objects_of_target(s, t) {
        for p in pods_of_object(s, &o) {
            if !out.iter().any(|q| q.metadata.uid == p.metadata.uid) {
                out.push(p);
            }
        }
    }
    out
}

/// The names, by kind, of a target's objects and of what belongs to them (ReplicaSets, Jobs,
/// pods): whose Events are about the target.
pub fn related(s: &Snapshot, t: &TargetRef) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for o in objects_of_target(s, t) {
        let kind = o
            .get("kind")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        let name = o
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        let uid = o
            .pointer("/metadata/uid")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        match kind.as_str() {
            "Deployment" => out.extend(
                replica_sets_of(s, &uid)
                    .iter()
                    .map(|r| ("ReplicaSet".to_owned(), name_of(&r.metadata))),
            ),
            "CronJob" => out.extend(
                jobs_of(s, &uid)
                    .iter()
                    .map(|j| ("Job".to_owned(), name_of(&j.metadata))),
            ),
            _ => {}
        }
        out.push((kind, name));
    }
    for p in pods_of_target(s, t) {
        out.push(("Pod".to_owned(), name_of(&p.metadata)));
    }
    out
}

fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

/// The Events about any of these objects.
pub fn events_about<'a>(s: &'a Snapshot, objects: &[(String, String)]) -> Vec<&'a Event> {
    s.events
        .iter()
        .filter(|e| {
            let io = &e.involved_object;
            objects.iter().any(|(k, n)| {
                io.kind.as_deref() == Some(k.as_str()) && io.name.as_deref() == Some(n.as_str())
            })
        })
        .collect()
}

/// How a pod spec uses a ConfigMap or Secret: (how, keys named). Env `valueFrom`, `envFrom`,
/// volumes and projected volumes, in every container and init container.
pub fn uses(spec: &PodSpec, kind: Known, name: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        for e in c.env.iter().flatten() {
            let from = e.value_from.as_ref();
            let key = match kind {
                Known::ConfigMap => from
                    .and_then(|f| f.config_map_key_ref.as_ref())
                    .filter(|r| r.name == name)
                    .map(|r| r.key.clone()),
                _ => from
                    .and_then(|f| f.secret_key_ref.as_ref())
                    .filter(|r| r.name == name)
                    .map(|r| r.key.clone()),
            };
            if let Some(k) = key {
                out.push((format!("env {} of container {}", e.name, c.name), vec![k]));
            }
        }
        for ef in c.env_from.iter().flatten() {
            let named = match kind {
                Known::ConfigMap => ef.config_map_ref.as_ref().map(|r| r.name == name),
                _ => ef.secret_ref.as_ref().map(|r| r.name == name),
            };
            if named == Some(true) {
                out.push((format!("envFrom of container {}", c.name), Vec::new()));
            }
        }
    }
    for v in spec.volumes.iter().flatten() {
        let (direct, items) = match kind {
            Known::ConfigMap => (
                v.config_map
                    .as_ref()
                    .filter(|c| c.name == name)
                    .map(|c| &c.items),
                None,
            ),
            _ => (
                None,
                v.secret
                    .as_ref()
                    .filter(|s| s.secret_name.as_deref() == Some(name))
                    .map(|s| &s.items),
            ),
        };
        if let Some(items) = direct.or(items) {
            let keys = items.iter().flatten().map(|i| i.key.clone()).collect();
            out.push((format!("volume {}", v.name), keys));
        }
        for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            let items = match kind {
                Known::ConfigMap => src
                    .config_map
                    .as_ref()
                    .filter(|c| c.name == name)
                    .map(|c| &c.items),
                _ => src
                    .secret
                    .as_ref()
                    .filter(|c| c.name == name)
                    .map(|c| &c.items),
            };
            if let Some(items) = items {
                let keys = items.iter().flatten().map(|i| i.key.clone()).collect();
                out.push((format!("projected volume {}", v.name), keys));
            }
        }
    }
    out
}
