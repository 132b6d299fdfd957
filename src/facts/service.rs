//! A Service's facts, judged from its EndpointSlices and the pods (ClusterIP traffic need not
//! route for this): its ready and not-ready endpoints, the pods its selector picks, a selector
//! that picks none explained by the labels the pods do have, and a `targetPort` no container
//! of those pods exposes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::distinct;
use super::relations::pods_selected;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Serialize)]
pub struct ServicePort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: i32,
    /// A number or a container port's name; the port itself when not given.
    pub target_port: String,
    pub protocol: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// The pod behind it, when the slice names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceFacts {
    pub found: bool,
    pub name: String,
    /// One line: "3 ready endpoints (web-a, web-b, web-c)".
    pub state: String,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
    pub ready_endpoints: Vec<Endpoint>,
    pub not_ready_endpoints: Vec<Endpoint>,
    pub ready: usize,
    pub not_ready: usize,
    /// The pods its selector picks.
    pub selected_pods: Vec<String>,
    /// When the selector picks no pod: the label sets the namespace's pods do have.
    pub pod_labels: Vec<String>,
    /// Target ports that no container of the selected pods exposes, in words.
    pub unexposed_ports: Vec<String>,
}

fn show_labels(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        // Added by controllers, not by the learner: noise when comparing with a selector.
        .filter(|(k, _)| !matches!(k.as_str(), "pod-template-hash" | "controller-revision-hash"))
        .filter(|(k, _)| {
            !k.starts_with("batch.kubernetes.io/")
                && k.as_str() != "controller-uid"
                && k.as_str() != "job-name"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn of(s: &Snapshot, svc: &Service) -> ServiceFacts {
    let name = svc.metadata.name.clone().unwrap_or_default();
    let spec = svc.spec.clone().unwrap_or_default();
    let selector = spec.selector.clone().unwrap_or_default();
    let ports: Vec<ServicePort> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| ServicePort {
            name: p.name.clone(),
            port: p.port,
            target_port: match &p.target_port {
                Some(IntOrString::Int(i)) => i.to_string(),
                Some(IntOrString::String(s)) => s.clone(),
                None => p.port.to_string(),
            },
            protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
        })
        .collect();
    let (ready, not_ready) = endpoints(s, &name);
    let pods = pods_selected(s, &selector);
    let pod_labels = if pods.is_empty() && !selector.is_empty() {
        let mut sets = Vec::new();
        for p in &s.pods {
            let l = show_labels(&p.metadata.labels.clone().unwrap_or_default());
            if !l.is_empty() {
                distinct(&mut sets, l);
            }
        }
        sets.truncate(5);
        sets
    } else {
        Vec::new()
    };
    let mut f = ServiceFacts {
        found: true,
        name,
        state: String::new(),
        type_: spec.type_.clone().unwrap_or_else(|| "ClusterIP".into()),
        cluster_ip: spec.cluster_ip.clone(),
        unexposed_ports: unexposed(&ports, &pods),
        selected_pods: pods
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect(),
        selector,
        ports,
        ready: ready.len(),
        not_ready: not_ready.len(),
        ready_endpoints: ready,
        not_ready_endpoints: not_ready,
        pod_labels,
    };
    f.state = state_line(&f);
    f
}

/// The Service's endpoints from its EndpointSlices (labelled with its name): ready, and not.
fn endpoints(s: &Snapshot, service: &str) -> (Vec<Endpoint>, Vec<Endpoint>) {
    let (mut ready, mut not_ready) = (Vec::new(), Vec::new());
    for slice in &s.endpoint_slices {
        let of_service = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
            .map(String::as_str)
            == Some(service);
        if !of_service {
            continue;
        }
        for e in slice.endpoints.iter().flatten() {
            let is_ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            let ep = Endpoint {
                pod: e
                    .target_ref
                    .as_ref()
                    .filter(|r| r.kind.as_deref() == Some("Pod"))
                    .and_then(|r| r.name.clone()),
                addresses: e.addresses.clone(),
            };
            if is_ready {
                ready.push(ep)
            } else {
                not_ready.push(ep)
            }
        }
    }
    let by_pod = |a: &Endpoint, b: &Endpoint| a.pod.cmp(&b.pod);
    ready.sort_by(by_pod);
    not_ready.sort_by(by_pod);
    (ready, not_ready)
}

/// Target ports that no container of the selected pods has: a name no container port has
/// (traffic has nowhere to go), or a number no container declares.
fn unexposed(ports: &[ServicePort], pods: &[&Pod]) -> Vec<String> {
    if pods.is_empty() {
        return Vec::new();
    }
    let container_ports: Vec<(Option<String>, i32)> = pods
        .iter()
        .flat_map(|p| p.spec.iter().flat_map(|s| s.containers.iter()))
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| (p.name.clone(), p.container_port))
        .collect();
    let mut out = Vec::new();
    for p in ports {
        let exposed = match p.target_port.parse::<i32>() {
            Ok(n) => container_ports.iter().any(|(_, c)| *c == n),
            Err(_) => container_ports
                .iter()
                .any(|(n, _)| n.as_deref() == Some(p.target_port.as_str())),
        };
        if !exposed {
            let named = p.target_port.parse::<i32>().is_err();
            distinct(
                &mut out,
                if named {
                    format!(
                        "port {} sends to targetPort `{}`, but no container of the selected pods has a port named so",
                        p.port, p.target_port
                    )
                } else {
                    format!(
                        "port {} sends to targetPort {}, which no container of the selected pods declares (containerPort)",
                        p.port, p.target_port
                    )
                },
            );
        }
    }
    out
}

fn state_line(f: &ServiceFacts) -> String {
    let pods = |eps: &[Endpoint]| {
        let names: Vec<&str> = eps
            .iter()
            .filter_map(|e| e.pod.as_deref())
            .take(3)
            .collect();
        let more = eps.len().saturating_sub(3);
        match (names.is_empty(), more) {
            (true, _) => String::new(),
            (false, 0) => format!(" ({})", names.join(", ")),
            (false, m) => format!(" ({} and {m} more)", names.join(", ")),
        }
    };
    if f.selector.is_empty() {
        return format!(
            "no selector: its endpoints are managed by hand; {} ready",
            f.ready
        );
    }
    if f.selected_pods.is_empty() {
        let have = if f.pod_labels.is_empty() {
            "there are no labelled pods in the namespace".to_owned()
        } else {
            format!("the pods here are labelled {}", f.pod_labels.join(" | "))
        };
        return format!(
            "no endpoints: its selector {} matches no pod; {have}",
            show_labels(&f.selector)
        );
    }
    let mut s = format!(
        "{} ready endpoint{}{}",
        f.ready,
        if f.ready == 1 { "" } else { "s" },
        pods(&f.ready_endpoints)
    );
    if f.not_ready > 0 {
        s.push_str(&format!(
            ", {} not ready{} (their readiness probes fail, or they are starting)",
            f.not_ready,
            pods(&f.not_ready_endpoints)
        ));
    }
    if let Some(u) = f.unexposed_ports.first() {
        s.push_str(&format!("; {u}"));
    }
    s
}

pub fn not_found(name: &str) -> ServiceFacts {
    ServiceFacts {
        found: false,
        name: name.to_owned(),
        state: "not found".into(),
        type_: String::new(),
        cluster_ip: None,
        selector: BTreeMap::new(),
        ports: Vec::new(),
        ready_endpoints: Vec::new(),
        not_ready_endpoints: Vec::new(),
        ready: 0,
        not_ready: 0,
        selected_pods: Vec::new(),
        pod_labels: Vec::new(),
        unexposed_ports: Vec::new(),
    }
}
