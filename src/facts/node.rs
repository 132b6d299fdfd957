//! What a pod tells of its node: whether the node stopped reporting. Read from the pod alone
//! (its conditions), so that a learner who may not read Nodes is told too.

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

/// A node whose kubelet stopped posting status, as one of its pods shows it: the node
/// controller marks the pods of a NotReady node not ready (`Ready=False`, an event
/// `NodeNotReady`) and leaves the rest as the kubelet last told it: phase Running, containers
/// ready. Nothing on the node progresses, or is reported, until the kubelet is back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeLost {
    pub node: String,
    /// When the pod was marked not ready (RFC 3339).
    pub since: String,
}

impl NodeLost {
    /// The node's loss as a pod shows it; `None` for a pod its kubelet still reports. A
    /// kubelet sets `Ready` and `ContainersReady` together; only the node controller (or a
    /// readiness gate, ruled out) makes them differ.
    pub fn of(pod: &Pod) -> Option<NodeLost> {
        let status = pod.status.as_ref()?;
        if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
            return None;
        }
        let spec = pod.spec.as_ref()?;
        if spec.readiness_gates.as_ref().is_some_and(|g| !g.is_empty()) {
            return None;
        }
        let condition = |t: &str| status.conditions.iter().flatten().find(|c| c.type_ == t);
        let ready = condition("Ready")?;
        (ready.status == "False" && condition("ContainersReady")?.status == "True").then(|| {
            NodeLost {
                node: spec.node_name.clone().unwrap_or_else(|| "its node".into()),
                since: ready
                    .last_transition_time
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default(),
            }
        })
    }

    /// Whether the node has been silent long enough to stop waiting for it. After the API
    /// server itself was away, the node controller marks every node not ready until its
    /// kubelet reports again, within seconds (seen on the kit: a 35 s API server restart);
    /// a stopped kubelet stays silent.
    pub fn lasting(&self, now: jiff::Timestamp) -> bool {
        self.since
            .parse::<jiff::Timestamp>()
            .is_ok_and(|since| now.duration_since(since) >= jiff::SignedDuration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(path: &str) -> Vec<Pod> {
        let file = format!(
            "{}/tests/fixtures/k8s-1.36/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("recorded")).unwrap();
        match json.get("items") {
            Some(items) => serde_json::from_value(items.clone()).unwrap(),
            None => vec![serde_json::from_value(json).unwrap()],
        }
    }

    #[test]
    fn a_pod_whose_kubelet_stopped_says_its_node_stopped_reporting() {
        // Recorded: the kit's kubelet stopped under a running pod, after the grace period.
        let pod = &recorded("node-lost/pod-node-not-ready.json")[0];
        assert_eq!(
            NodeLost::of(pod),
            Some(NodeLost {
                node: "lab-node".into(),
                since: "2026-12-06T00:34:33Z".into()
            })
        );
    }

    #[test]
    fn a_node_marked_not_ready_for_a_moment_is_not_yet_waited_out() {
        let pod = &recorded("node-lost/pod-node-not-ready.json")[0];
        let lost = NodeLost::of(pod).unwrap();
        let since: jiff::Timestamp = lost.since.parse().unwrap();
        let later = |s: i64| {
            since
                .checked_add(jiff::SignedDuration::from_secs(s))
                .unwrap()
        };
        assert!(!lost.lasting(later(10)));
        assert!(lost.lasting(later(30)));
    }

    #[test]
    fn pods_their_kubelet_reports_are_not_lost() {
        let mut pods = recorded("node-lost/pod-running.json");
        pods.extend(recorded("u3-slow-sequential/api/pods.PodList.json"));
        pods.extend(recorded("u4-probes-wrong/api/pods.PodList.json"));
        assert!(pods.len() > 2);
        for p in &pods {
            assert_eq!(NodeLost::of(p), None, "{:?}", p.metadata.name);
        }
    }
}
