//! What was read from a namespace, as plain serialisable data: one typed list per kind kubelab
//! knows ([`crate::kinds::Known`]), other kinds as the API served them, the bounded pod logs,
//! and what could not be read. Gathering fills it (live) and bundles carry it; everything after
//! (facts, judging, reports) reads only this. A Secret is held as its keys, never its values.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::kinds::{ApiKind, Known};

/// Who the cluster is, so a bundle from another cluster can be told apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterIdentity {
    /// `gitVersion` from `/version`: `v1.24.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The uid of the `kube-system` namespace: stable for the cluster's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_system_uid: Option<String>,
}

/// One container's log, bounded. Shared, not copied, by the judging (`check::PodLog`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogText {
    pub text: std::sync::Arc<str>,
    /// True when the log was cut at the byte or line limit.
    #[serde(default)]
    pub truncated: bool,
}

/// A Secret as kubelab keeps it: who it is, its type and the names of its keys. The values
/// are dropped as the list arrives and never stored, shown or sealed into a bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretKeys {
    pub metadata: ObjectMeta,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The keys of `data` (the API server has merged `stringData` into it).
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

/// What a Secret's value reads as wherever a Secret is shown as an object.
pub const REDACTED: &str = "(redacted)";

impl SecretKeys {
    /// The Secret as an API object for judging, each value replaced by [`REDACTED`].
    pub fn to_json(&self) -> Json {
        let data: serde_json::Map<String, Json> = self
            .keys
            .iter()
            .map(|k| (k.clone(), Json::String(REDACTED.into())))
            .collect();
        let mut v = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": self.metadata,
            "data": data,
        });
        if let Some(t) = &self.type_ {
            v["type"] = Json::String(t.clone());
        }
        if let Some(i) = self.immutable {
            v["immutable"] = Json::Bool(i);
        }
        v
    }
}

/// The cluster state an exercise is judged on. Members beyond the first bundle format's
/// (`jobs`, `pods`, `events`) are left out when empty, so a snapshot of Jobs reads as before.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub namespace: String,
    /// RFC 3339 time the snapshot was taken (the "now" for anything still running).
    pub gathered_at: String,
    pub cluster: ClusterIdentity,
    /// The keys of the targets the exercise asked about.
    pub targets: Vec<String>,
    /// Every Job in the namespace.
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// Every Pod in the namespace (ownership is judged later, not assumed from names).
    #[serde(default)]
    pub pods: Vec<Pod>,
    /// Events about the targets and what belongs to them.
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_sets: Vec<ReplicaSet>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cron_jobs: Vec<CronJob>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_slices: Vec<EndpointSlice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_maps: Vec<ConfigMap>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretKeys>,
    /// Objects of kinds without a typed list (custom resources, ServiceAccounts...), as served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<DynamicObject>,
    /// Pod name, then container name, to its log.
    pub logs: BTreeMap<String, BTreeMap<String, LogText>>,
    /// What could not be gathered, and why.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The kinds that were listed (`apps/v1 Deployment`), so that an empty list and a kind
    /// not read are told apart. Empty in the first bundle format: Jobs, Pods and Events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed: Vec<String>,
}

/// How a listed kind is written in [`Snapshot::listed`].
pub fn listed_name(kind: &ApiKind) -> String {
    format!("{} {}", kind.api_version(), kind.kind)
}

fn json_of<T: Serialize>(items: &[T], api_version: &str, kind: &str) -> Vec<Json> {
    items
        .iter()
        .map(|i| {
            let mut v = serde_json::to_value(i).expect("API objects serialise");
            // Items of a LIST carry no apiVersion/kind; judging reads them as objects.
            if let Some(m) = v.as_object_mut() {
                m.entry("apiVersion").or_insert_with(|| api_version.into());
                m.entry("kind").or_insert_with(|| kind.into());
            }
            v
        })
        .collect()
}

impl Snapshot {
    /// Whether this kind was read (a first-format bundle read Jobs, Pods and Events only).
    pub fn has_listed(&self, kind: &ApiKind) -> bool {
        if self.listed.is_empty() {
            return matches!(kind.known(), Some(Known::Job | Known::Pod | Known::Event));
        }
        self.listed.contains(&listed_name(kind))
    }

    /// Every object of a kind, as JSON (for field paths and CEL).
    pub fn objects_of(&self, kind: &ApiKind) -> Vec<Json> {
        let (v, k) = (kind.api_version(), kind.kind.as_str());
        match kind.known() {
            Some(Known::Pod) => json_of(&self.pods, &v, k),
            Some(Known::Job) => json_of(&self.jobs, &v, k),
            Some(Known::CronJob) => json_of(&self.cron_jobs, &v, k),
            Some(Known::Deployment) => json_of(&self.deployments, &v, k),
            Some(Known::ReplicaSet) => json_of(&self.replica_sets, &v, k),
            Some(Known::Service) => json_of(&self.services, &v, k),
            Some(Known::EndpointSlice) => json_of(&self.endpoint_slices, &v, k),
            Some(Known::ConfigMap) => json_of(&self.config_maps, &v, k),
            Some(Known::Secret) => self.secrets.iter().map(SecretKeys::to_json).collect(),
            Some(Known::Event) => json_of(&self.events, &v, k),
            None => self
                .others
                .iter()
                .filter(|o| {
                    o.types
                        .as_ref()
                        .is_some_and(|t| t.kind == kind.kind && t.api_version == v)
                })
                .map(|o| serde_json::to_value(o).expect("objects serialise"))
                .collect(),
        }
    }

    /// How many objects there are of each kind listed, for a summary line.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut out = vec![
            ("Job", self.jobs.len()),
            ("Pod", self.pods.len()),
            ("Event", self.events.len()),
            ("Deployment", self.deployments.len()),
            ("ReplicaSet", self.replica_sets.len()),
            ("CronJob", self.cron_jobs.len()),
            ("Service", self.services.len()),
            ("EndpointSlice", self.endpoint_slices.len()),
            ("ConfigMap", self.config_maps.len()),
            ("Secret", self.secrets.len()),
            ("other object", self.others.len()),
        ];
        out.retain(|(_, n)| *n > 0);
        out
    }

    /// When the snapshot was taken: "now" for what is still running.
    pub fn taken_at(&self) -> jiff::Timestamp {
        self.gathered_at
            .parse()
            .unwrap_or_else(|_| jiff::Timestamp::now())
    }
}
