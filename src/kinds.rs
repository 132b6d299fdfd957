//! Kubernetes kinds, as kubelab names and reads them: the built-in kinds it knows by name
//! (group, version, resource, scope), which of them have a typed home in a snapshot and typed
//! facts ([`Known`]), and kinds a course names that only the cluster's discovery can resolve
//! (custom resources). "Kind" in kubelab's code always means a Kubernetes kind.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kind the API serves: where to list it and whether it lives in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApiKind {
    /// API group, empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The resource name in URLs: `deployments`.
    pub plural: String,
    pub namespaced: bool,
}

impl ApiKind {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The typed home of this kind, when kubelab has one.
    pub fn known(&self) -> Option<Known> {
        Known::ALL
            .iter()
            .copied()
            .find(|k| k.api_kind().same_kind(self))
    }

    /// Same group and kind (any version).
    pub fn same_kind(&self, other: &ApiKind) -> bool {
        self.group == other.group && self.kind == other.kind
    }

    /// What kube's dynamic API needs to reach this kind.
    pub fn api_resource(&self) -> kube::api::ApiResource {
        kube::api::ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// The resource as RBAC rules name it: (`apps`, `deployments`).
    pub fn rbac(&self) -> (&str, &str) {
        (&self.group, &self.plural)
    }
}

impl fmt::Display for ApiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind, self.api_version())
    }
}

/// The built-in kinds kubelab knows by name: (group, version, kind, plural, namespaced).
const BUILT_IN: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Pod", "pods", true),
    ("batch", "v1", "Job", "jobs", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "ReplicaSet", "replicasets", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("", "v1", "Service", "services", true),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
    ),
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "Secret", "secrets", true),
    ("", "v1", "Event", "events", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("", "v1", "ResourceQuota", "resourcequotas", true),
    ("", "v1", "LimitRange", "limitranges", true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    ("", "v1", "Namespace", "namespaces", false),
];

fn built_in(kind: &str) -> Option<ApiKind> {
    BUILT_IN
        .iter()
        .find(|(_, _, k, _, _)| *k == kind)
        .map(|(g, v, k, p, n)| ApiKind {
            group: (*g).to_owned(),
            version: (*v).to_owned(),
            kind: (*k).to_owned(),
            plural: (*p).to_owned(),
            namespaced: *n,
        })
}

/// Every built-in kind kubelab knows by name.
pub fn built_ins() -> impl Iterator<Item = ApiKind> {
    BUILT_IN.iter().filter_map(|(_, _, k, _, _)| built_in(k))
}

/// Kinds with a typed list in the snapshot and facts of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Known {
    Pod,
    Job,
    CronJob,
    Deployment,
    ReplicaSet,
    Service,
    EndpointSlice,
    ConfigMap,
    Secret,
    Event,
}

impl Known {
    pub const ALL: &'static [Known] = &[
        Known::Pod,
        Known::Job,
        Known::CronJob,
        Known::Deployment,
        Known::ReplicaSet,
        Known::Service,
        Known::EndpointSlice,
        Known::ConfigMap,
        Known::Secret,
        Known::Event,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Known::Pod => "Pod",
            Known::Job => "Job",
            Known::CronJob => "CronJob",
            Known::Deployment => "Deployment",
            Known::ReplicaSet => "ReplicaSet",
            Known::Service => "Service",
            Known::EndpointSlice => "EndpointSlice",
            Known::ConfigMap => "ConfigMap",
            Known::Secret => "Secret",
            Known::Event => "Event",
        }
    }

    pub fn api_kind(self) -> ApiKind {
        built_in(self.name()).expect("every known kind is built in")
    }

    /// The kinds whose objects make a target of this kind judgeable: its own, what owns or
    /// selects its pods, the pods, and the Events about them.
    pub fn needs(self) -> &'static [Known] {
        use Known::*;
        match self {
            Pod => &[Pod, Event],
            Job => &[Job, Pod, Event],
            CronJob => &[CronJob, Job, Pod, Event],
            Deployment => &[Deployment, ReplicaSet, Pod, Event],
            ReplicaSet => &[ReplicaSet, Pod, Event],
            Service => &[Service, EndpointSlice, Pod, Event],
            EndpointSlice => &[EndpointSlice, Event],
            // Who consumes them: the pods (and their Events, where a missing key shows).
            ConfigMap => &[ConfigMap, Pod, Event],
            Secret => &[Secret, Pod, Event],
            Event => &[Event],
        }
    }

    /// Whether objects of this kind run pods whose logs can be judged.
    pub fn has_pods(self) -> bool {
        matches!(
            self,
            Known::Pod
                | Known::Job
                | Known::CronJob
                | Known::Deployment
                | Known::ReplicaSet
                | Known::Service
        )
    }
}

/// A kind as a course or a manifest names it: `kind`, and `apiVersion` when given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KindRef {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

impl KindRef {
    pub fn new(kind: &str) -> KindRef {
        KindRef {
            kind: kind.to_owned(),
            api_version: None,
        }
    }

    /// What kubelab knows of it without asking a cluster: a built-in kind (whose apiVersion,
    /// when given, must be the one served), or a custom kind with its apiVersion and a guessed
    /// plural that discovery confirms. None: only discovery can say.
    pub fn resolve_offline(&self) -> Result<Option<ApiKind>, String> {
        if let Some(b) = built_in(&self.kind) {
            return match &self.api_version {
                Some(v) if *v != b.api_version() => Err(format!(
                    "{} is served as apiVersion {}, not {v}",
                    self.kind,
                    b.api_version()
                )),
                _ => Ok(Some(b)),
            };
        }
        Ok(None)
    }

    /// The group and version a given apiVersion names.
    pub fn group_version(&self) -> Option<(String, String)> {
        let v = self.api_version.as_deref()?;
        Some(match v.split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), v.to_owned()),
        })
    }

    /// The typed home of this kind, when it is a built-in one kubelab reads typed.
    pub fn known(&self) -> Option<Known> {
        self.resolve_offline().ok().flatten()?.known()
    }

    /// Whether an object with this apiVersion and kind is of this kind.
    pub fn matches(&self, api_version: &str, kind: &str) -> bool {
        kind == self.kind && self.api_version.as_deref().is_none_or(|v| v == api_version)
    }
}

impl fmt::Display for KindRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.api_version {
            Some(v) => write!(f, "{} ({v})", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_resolve_and_wrong_versions_are_said() {
        let d = KindRef::new("Deployment")
            .resolve_offline()
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.api_version(), d.plural.as_str()),
            ("apps/v1".into(), "deployments")
        );
        assert_eq!(d.known(), Some(Known::Deployment));
        let wrong = KindRef {
            kind: "Deployment".into(),
            api_version: Some("extensions/v1beta1".into()),
        };
        assert!(wrong.resolve_offline().unwrap_err().contains("apps/v1"));
        assert_eq!(KindRef::new("Widget").resolve_offline().unwrap(), None);
        assert_eq!(
            KindRef::new("Ingress")
                .resolve_offline()
                .unwrap()
                .unwrap()
                .known(),
            None
        );
    }
}
