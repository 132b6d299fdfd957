//! How much of the cluster a learner's namespace may use, derived from the course: what each
//! exercise's reference run holds at its peak (pods at once times each pod's requests and
//! limits), what keeps running after an exercise (Deployments, bare Pods) and so adds up over a
//! unit, a margin on top, and the defaults a LimitRange gives containers that set nothing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;

use crate::course::{Course, Exercise};
use crate::manifest::{self, Object};

/// The headroom over the largest reference run: a learner's first try is rarely the reference,
/// a rollout surges while old pods terminate, a retried Job overlaps its last pod.
pub const MARGIN: f64 = 1.5;
/// What a container that asks for nothing gets (LimitRange `defaultRequest`): what an idle
/// lab container (a busybox loop, a small web server) uses, so that a class of such pods
/// schedules on a small node; requests are reserved whether used or not.
const DEFAULT_REQUEST: Resources = Resources {
    cpu_millis: 10,
    memory_bytes: 16 * MI,
};
/// A container's limit when it sets none (LimitRange `default`), raised to the largest request
/// in the course, since a limit below a container's own request is refused.
const DEFAULT_LIMIT: Resources = Resources {
    cpu_millis: 500,
    memory_bytes: 256 * MI,
};
const MI: u64 = 1024 * 1024;

/// CPU and memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

impl Resources {
    fn add(self, o: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis + o.cpu_millis,
            memory_bytes: self.memory_bytes + o.memory_bytes,
        }
    }
    fn max(self, o: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.max(o.cpu_millis),
            memory_bytes: self.memory_bytes.max(o.memory_bytes),
        }
    }
    fn times(self, n: u32) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis * u64::from(n),
            memory_bytes: self.memory_bytes * u64::from(n),
        }
    }
}

/// What a set of pods holds at once: the ResourceQuota's five limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Demand {
    pub pods: u32,
    pub requests: Resources,
    pub limits: Resources,
}

impl Demand {
    fn add(self, o: Demand) -> Demand {
        Demand {
            pods: self.pods + o.pods,
            requests: self.requests.add(o.requests),
            limits: self.limits.add(o.limits),
        }
    }
    fn max(self, o: Demand) -> Demand {
        Demand {
            pods: self.pods.max(o.pods),
            requests: self.requests.max(o.requests),
            limits: self.limits.max(o.limits),
        }
    }
    fn saturating_sub(self, o: Demand) -> Demand {
        Demand {
            pods: self.pods.saturating_sub(o.pods),
            requests: Resources {
                cpu_millis: self
                    .requests
                    .cpu_millis
                    .saturating_sub(o.requests.cpu_millis),
                memory_bytes: self
                    .requests
                    .memory_bytes
                    .saturating_sub(o.requests.memory_bytes),
            },
            limits: Resources {
                cpu_millis: self.limits.cpu_millis.saturating_sub(o.limits.cpu_millis),
                memory_bytes: self
                    .limits
                    .memory_bytes
                    .saturating_sub(o.limits.memory_bytes),
            },
        }
    }

    /// The ResourceQuota's `hard` map, in Kubernetes quantities.
    pub fn hard(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("pods".to_owned(), self.pods.to_string()),
            ("requests.cpu".to_owned(), cpu(self.requests.cpu_millis)),
            (
                "requests.memory".to_owned(),
                memory(self.requests.memory_bytes),
            ),
            ("limits.cpu".to_owned(), cpu(self.limits.cpu_millis)),
            ("limits.memory".to_owned(), memory(self.limits.memory_bytes)),
        ])
    }
}

/// `1500m`, `3`.
pub fn cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// `384Mi`, `2Gi`.
pub fn memory(bytes: u64) -> String {
    let mi = bytes.div_ceil(MI);
    if mi.is_multiple_of(1024) {
        format!("{}Gi", mi / 1024)
    } else {
        format!("{mi}Mi")
    }
}

impl fmt::Display for Demand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pods, requests {} CPU / {}, limits {} CPU / {}",
            self.pods,
            cpu(self.requests.cpu_millis),
            memory(self.requests.memory_bytes),
            cpu(self.limits.cpu_millis),
            memory(self.limits.memory_bytes)
        )
    }
}

/// What one learner namespace gets, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    /// The ResourceQuota's limits.
    pub quota: Demand,
    /// What the course's reference runs need without the margin.
    pub needed: Demand,
    /// The exercise whose reference run holds the most at its peak.
    pub largest: Option<(String, Demand)>,
    /// The LimitRange's defaults for containers that set no requests or limits.
    pub default_request: Resources,
    pub default_limit: Resources,
}

/// A pod's requests and limits once defaults apply: a limit without a request is also the
/// request (the API server's defaulting); what is still unset comes from the LimitRange.
fn pod_demand(spec: &Json, default_limit: Resources) -> Demand {
    let container = |c: &Json| -> (Resources, Resources) {
        let get = |kind: &str, what: &str| {
            c.pointer(&format!("/resources/{kind}/{what}"))
                .and_then(crate::check::number)
        };
        let one = |what: &str, default_request: u64, default_limit: u64, scale: f64| {
            let limit = get("limits", what);
            let request = get("requests", what).or(limit);
            let request = request.map_or(default_request, |v| (v * scale).ceil() as u64);
            let limit = limit.map_or(default_limit.max(request), |v| (v * scale).ceil() as u64);
            (request, limit)
        };
        let (rc, lc) = one(
            "cpu",
            DEFAULT_REQUEST.cpu_millis,
            default_limit.cpu_millis,
            1000.0,
        );
        let (rm, lm) = one(
            "memory",
            DEFAULT_REQUEST.memory_bytes,
            default_limit.memory_bytes,
            1.0,
        );
        (
            Resources {
                cpu_millis: rc,
                memory_bytes: rm,
            },
            Resources {
                cpu_millis: lc,
                memory_bytes: lm,
            },
        )
    };
    let list = |key: &str| {
        spec.get(key)
            .and_then(Json::as_array)
            .map(|a| a.iter().map(container).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let (mut requests, mut limits) = (Resources::default(), Resources::default());
    for (r, l) in list("containers") {
        requests = requests.add(r);
        limits = limits.add(l);
    }
    // Init containers run one at a time, before the others: the pod needs the larger.
    for (r, l) in list("initContainers") {
        requests = requests.max(r);
        limits = limits.max(l);
    }
    Demand {
        pods: 1,
        requests,
        limits,
    }
}

fn int(o: &Json, pointer: &str) -> Option<u32> {
    o.pointer(pointer)
        .and_then(Json::as_u64)
        .map(|n| n.min(10_000) as u32)
}

/// Pods an object holds at its peak, and those it keeps running once its exercise is over.
fn pods_at_once(o: &Object) -> (u32, u32) {
    let j = &o.json;
    let job = |base: &str| {
        let parallelism = int(j, &format!("{base}/parallelism")).unwrap_or(1);
        int(j, &format!("{base}/completions")).map_or(parallelism, |c| parallelism.min(c))
    };
    match o.kind.as_str() {
        "Pod" => {
            let standing = j.pointer("/spec/restartPolicy").and_then(Json::as_str) != Some("Never")
                && j.pointer("/spec/restartPolicy").and_then(Json::as_str) != Some("OnFailure");
            (1, u32::from(standing))
        }
        "Job" => (job("/spec"), 0),
        "CronJob" => {
            let overlap = j
                .pointer("/spec/concurrencyPolicy")
                .and_then(Json::as_str)
                .unwrap_or("Allow")
                == "Allow";
            (
                job("/spec/jobTemplate/spec") * if overlap { 2 } else { 1 },
                0,
            )
        }
        "Deployment" => {
            let replicas = int(j, "/spec/replicas").unwrap_or(1);
            let recreate =
                j.pointer("/spec/strategy/type").and_then(Json::as_str) == Some("Recreate");
            let surge = match j.pointer("/spec/strategy/rollingUpdate/maxSurge") {
                _ if recreate => 0,
                Some(Json::Number(n)) => n.as_u64().unwrap_or(0).min(10_000) as u32,
                Some(Json::String(p)) => percent_of(p, replicas),
                _ => percent_of("25%", replicas),
            };
            (replicas + surge, replicas)
        }
        "ReplicaSet" | "StatefulSet" => {
            let replicas = int(j, "/spec/replicas").unwrap_or(1);
            (replicas, replicas)
        }
        "DaemonSet" => (1, 1),
        _ => (0, 0),
    }
}

/// A rolling update's surge: a percentage of the replicas, rounded up.
fn percent_of(p: &str, replicas: u32) -> u32 {
    let pct: u32 = p.trim_end_matches('%').parse().unwrap_or(25);
    (replicas * pct).div_ceil(100)
}

/// An exercise's peak and what it leaves running. Objects of one kind and name in several of
/// its files (a Deployment's v1 and v2) are one object at its largest.
fn exercise_demand(objects: &[Object], default_limit: Resources) -> (Demand, Demand) {
    let mut by_object: BTreeMap<(String, String), (Demand, Demand)> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        let Some(pointer) = manifest::pod_spec_pointer(&o.kind) else {
            continue;
        };
        let Some(spec) = o.json.pointer(pointer) else {
            continue;
        };
        let pod = pod_demand(spec, default_limit);
        let (peak, standing) = pods_at_once(o);
        let key = (
            o.kind.clone(),
            o.name.clone().unwrap_or_else(|| format!("#{i}")),
        );
        let entry = by_object.entry(key).or_default();
        *entry = (
            entry.0.max(scaled(pod, peak)),
            entry.1.max(scaled(pod, standing)),
        );
    }
    by_object.into_values().fold(
        (Demand::default(), Demand::default()),
        |(p, s), (op, os)| (p.add(op), s.add(os)),
    )
}

fn scaled(pod: Demand, n: u32) -> Demand {
    Demand {
        pods: n,
        requests: pod.requests.times(n),
        limits: pod.limits.times(n),
    }
}

/// The largest request any container of the course makes (what the default limit must reach).
fn largest_request(objects: &[Object]) -> Resources {
    let mut out = DEFAULT_LIMIT;
    for o in objects {
        let Some(spec) = manifest::pod_spec_pointer(&o.kind).and_then(|p| o.json.pointer(p)) else {
            continue;
        };
        let demand = pod_demand(spec, Resources::default());
        out = out.max(demand.requests);
    }
    out
}

/// The budget of a learner namespace for these exercises: everything the exercises leave
/// running, plus the largest peak beyond that of any one exercise, times [`MARGIN`].
pub fn from_course(course: &Course, exercises: &[&Exercise]) -> Budget {
    let files: Vec<(String, Vec<Object>)> = exercises
        .iter()
        .map(|ex| {
            (
                ex.id().to_owned(),
                manifest::exercise_objects(&course.root, ex),
            )
        })
        .collect();
    let all: Vec<Object> = files.iter().flat_map(|(_, o)| o.iter().cloned()).collect();
    let default_limit = largest_request(&all);
    let mut standing = Demand::default();
    let mut extra = Demand::default();
    let mut largest: Option<(String, Demand)> = None;
    for (id, objects) in &files {
        let (peak, stays) = exercise_demand(objects, default_limit);
        standing = standing.add(stays);
        extra = extra.max(peak.saturating_sub(stays));
        if largest
            .as_ref()
            .is_none_or(|(_, d)| peak.requests.cpu_millis > d.requests.cpu_millis)
        {
            largest = Some((id.clone(), peak));
        }
    }
    let needed = standing.add(extra);
    Budget {
        quota: with_margin(needed),
        needed,
        largest,
        default_request: DEFAULT_REQUEST,
        default_limit,
    }
}

/// `needed` times the margin, rounded up to 100m of CPU and 64Mi of memory.
fn with_margin(needed: Demand) -> Demand {
    let up = |v: u64, step: u64| {
        let scaled = (v as f64 * MARGIN).ceil() as u64;
        scaled.div_ceil(step).max(1) * step
    };
    let res = |r: Resources| Resources {
        cpu_millis: up(r.cpu_millis, 100),
        memory_bytes: up(r.memory_bytes, 64 * MI),
    };
    Demand {
        pods: ((f64::from(needed.pods) * MARGIN).ceil() as u32).max(1),
        requests: res(needed.requests),
        limits: res(needed.limits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(text: &str) -> Vec<Object> {
        manifest::parse(&crate::yaml::Source {
            name: "t.yaml".into(),
            text: text.into(),
        })
        .unwrap()
    }

    const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  parallelism: 4\n  completions: 6\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: c\n          image: busybox:1.35\n          resources: {requests: {cpu: 500m, memory: 256Mi}, limits: {cpu: '1', memory: 512Mi}}\n";

    #[test]
    fn a_job_holds_parallelism_pods_and_leaves_nothing_running() {
        let (peak, stays) = exercise_demand(&objects(JOB), DEFAULT_LIMIT);
        assert_eq!(peak.pods, 4);
        assert_eq!(peak.requests.cpu_millis, 2000);
        assert_eq!(peak.limits.memory_bytes, 2048 * MI);
        assert_eq!(stays, Demand::default());
        assert_eq!(
            with_margin(peak).hard()["requests.cpu"],
            "3",
            "2 CPU and half again"
        );
    }

    #[test]
    fn a_deployment_surges_and_stays_and_defaults_fill_what_is_unset() {
        let d = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: busybox:1.35}]\n";
        let (peak, stays) = exercise_demand(&objects(d), DEFAULT_LIMIT);
        assert_eq!((peak.pods, stays.pods), (4, 3), "25% of 3 rounds up to 1");
        assert_eq!(peak.requests.cpu_millis, 4 * 10);
        assert_eq!(peak.limits.memory_bytes, 4 * 256 * MI);
        // v1 and v2 of one Deployment count once.
        let twice = format!("{d}---\n{d}");
        assert_eq!(exercise_demand(&objects(&twice), DEFAULT_LIMIT).0.pods, 4);
    }

    #[test]
    fn a_limit_alone_is_also_the_request_and_init_containers_overlap_nothing() {
        let p = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [{name: i, image: x, resources: {limits: {cpu: '2'}}}]\n  containers: [{name: c, image: x, resources: {limits: {cpu: 300m}}}]\n";
        let (peak, stays) = exercise_demand(&objects(p), DEFAULT_LIMIT);
        assert_eq!(peak.requests.cpu_millis, 2000);
        assert_eq!(stays.pods, 1, "a bare pod keeps running");
    }

    #[test]
    fn the_course_budget_fits_its_largest_reference_run() {
        let course = Course::load(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let unit3: Vec<&Exercise> = course
            .exercises()
            .filter(|e| e.unit_id == "parallel-processing")
            .collect();
        let b = from_course(&course, &unit3);
        let (id, peak) = b.largest.clone().unwrap();
        assert!(
            b.quota.requests.cpu_millis >= peak.requests.cpu_millis,
            "{b:?}"
        );
        assert!(b.quota.pods >= peak.pods, "{id}: {b:?}");
        assert_eq!(id, "resource-aware-parallel", "{b:?}");
    }
}
