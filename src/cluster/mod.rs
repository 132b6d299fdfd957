//! Reading the learner's cluster through kube-rs, read-only: one LIST per kind per namespace
//! (Jobs, Pods, Events), one bounded log read per container of the target Jobs' pods, fetched
//! with bounded concurrency. The result is a plain, serialisable [`Snapshot`]; everything after
//! gathering (facts, judging, reporting) is shared with bundles.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::AsyncReadExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, ListParams, LogParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Bounds on what is read from pod logs: they are untrusted and may be huge.
mod advice;

use advice::chain;
#[cfg(test)]
use advice::missing_permission;
pub use advice::{explain, tls_advice, watch_status};

pub const LOG_LIMIT_BYTES: i64 = 256 * 1024;
pub const LOG_TAIL_LINES: i64 = 5_000;
/// Pods whose logs are fetched at once.
pub const LOG_CONCURRENCY: usize = 8;

/// Where to connect, as kubectl's flags say.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// How long one request may take (kubectl's --request-timeout).
    pub request_timeout: Option<Duration>,
}

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

/// One container's log, bounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogText {
    pub text: String,
    /// True when the log was cut at the byte or line limit.
    #[serde(default)]
    pub truncated: bool,
}

/// The cluster state an exercise is judged on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub namespace: String,
    /// RFC 3339 time the snapshot was taken (the "now" for anything still running).
    pub gathered_at: String,
    pub cluster: ClusterIdentity,
    /// The Job names the exercise asked about.
    pub targets: Vec<String>,
    /// Every Job in the namespace.
    pub jobs: Vec<Job>,
    /// Every Pod in the namespace (ownership is judged later, not assumed from names).
    pub pods: Vec<Pod>,
    /// Events about the target Jobs and their pods.
    pub events: Vec<Event>,
    /// Pod name, then container name, to its log.
    pub logs: BTreeMap<String, BTreeMap<String, LogText>>,
    /// What could not be gathered, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Counts requests, so tests and benchmarks can prove how many round trips a check costs.
#[derive(Debug, Default)]
pub struct CallCount(AtomicUsize);

impl CallCount {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Builds a client from the kubeconfig (flags, `KUBECONFIG`, `~/.kube/config`, in-cluster),
/// and the namespace to use (flag, else the context's, else `default`).
pub async fn connect(target: &Target) -> Result<(Client, String), Error> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        cluster: None,
        user: None,
    };
    let config = match &target.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| Error::Cluster {
                message: format!("cannot read kubeconfig {}: {e}", path.display()),
                help: Some("pass a readable kubeconfig with --kubeconfig, or set KUBECONFIG".into()),
            })?;
            Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| Error::Cluster {
                message: format!("kubeconfig {}: {e}", path.display()),
                help: context_help(target),
            })?
        }
        None if target.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| Error::Cluster {
                message: format!("kubeconfig: {e}"),
                help: context_help(target),
            })?,
        None => Config::infer().await.map_err(|e| Error::Cluster {
            message: format!("no cluster configured: {e}"),
            help: Some(
                "is your kubeconfig set? Start a cluster (minikube start, kind create cluster, k3s) \
                 or pass --kubeconfig FILE"
                    .into(),
            ),
        })?,
    };
    let mut config = config;
    let timeout = target.request_timeout.unwrap_or(Duration::from_secs(30));
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    // kube's default retries a 503 up to 15 times with backoff to 1000 s: a learner would wait
    // for minutes. A check is cheap to run again, so report at once and say so.
    config.default_retry = false;
    let namespace = target
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| {
        let text = chain(&e);
        match tls_advice(&text, &url) {
            Some((message, help)) => Error::Cluster {
                message,
                help: Some(help),
            },
            None => Error::Cluster {
                message: format!("cannot set up a client for {url}: {text}"),
                help: None,
            },
        }
    })?;
    Ok((client, namespace))
}

fn context_help(target: &Target) -> Option<String> {
    target
        .context
        .as_ref()
        .map(|c| format!("check that context `{c}` exists: kubectl config get-contexts"))
}

/// Bounds how many logs are read at once, across every namespace being gathered: one learner
/// or a whole class share one limit.
#[derive(Debug, Clone)]
pub struct LogLimiter(std::sync::Arc<tokio::sync::Semaphore>);

impl LogLimiter {
    pub fn new(concurrent: usize) -> LogLimiter {
        LogLimiter(std::sync::Arc::new(tokio::sync::Semaphore::new(
            concurrent.max(1),
        )))
    }
}

impl Default for LogLimiter {
    fn default() -> Self {
        LogLimiter::new(LOG_CONCURRENCY)
    }
}

/// The namespace's Jobs, Pods and Events as listed; Events may be unreadable (403).
pub struct Listed {
    pub jobs: Vec<Job>,
    pub pods: Vec<Pod>,
    pub events: Result<Vec<Event>, String>,
}

/// Gathers everything the exercise's targets need. Read-only: only GET/LIST requests.
pub async fn gather(
    client: &Client,
    namespace: &str,
    targets: &[String],
    calls: &CallCount,
) -> Result<Snapshot, Error> {
    let listed = list_namespace(client, namespace, calls).await?;
    let empty = listed.jobs.is_empty() && listed.pods.is_empty();
    let mut snapshot = assemble(
        client,
        namespace,
        targets,
        listed,
        &LogLimiter::default(),
        calls,
    )
    .await?;
    if empty {
        // Listing a namespace that does not exist answers an empty list; ask, to tell the two apart.
        calls.add();
        let ns: Api<Namespace> = Api::all(client.clone());
        if let Ok(None) = ns.get_opt(namespace).await {
            return Err(Error::Cluster {
                message: format!("namespace {namespace} does not exist"),
                help: Some("pass the namespace you applied the Job in with -n NAMESPACE (kubectl get namespaces lists them)".into()),
            });
        }
    }
    snapshot.cluster = identity(client, calls).await;
    Ok(snapshot)
}

/// One LIST per kind in one namespace.
pub async fn list_namespace(
    client: &Client,
    namespace: &str,
    calls: &CallCount,
) -> Result<Listed, Error> {
    let lp = ListParams::default();
    calls.add();
    let jobs = Api::<Job>::namespaced(client.clone(), namespace)
        .list(&lp)
        .await
        .map_err(|e| explain(e, &format!("listing Jobs in {namespace}"), namespace))?
        .items;
    calls.add();
    let pods = Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&lp)
        .await
        .map_err(|e| explain(e, &format!("listing Pods in {namespace}"), namespace))?
        .items;
    calls.add();
    let events = match Api::<Event>::namespaced(client.clone(), namespace)
        .list(&lp)
        .await
    {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(s)) if s.code == 403 => Err(s.message),
        Err(e) => {
            return Err(explain(
                e,
                &format!("listing Events in {namespace}"),
                namespace,
            ));
        }
    };
    Ok(Listed { jobs, pods, events })
}

/// Turns one namespace's lists into the exercise's snapshot: keeps the Events about the
/// targets and reads the logs of their pods (under the shared limit). The cluster identity
/// and the gathering time are filled in here too (identity left for the caller).
pub async fn assemble(
    client: &Client,
    namespace: &str,
    targets: &[String],
    listed: Listed,
    limiter: &LogLimiter,
    calls: &CallCount,
) -> Result<Snapshot, Error> {
    let Listed {
        mut jobs,
        mut pods,
        events,
    } = listed;
    let mut notes = Vec::new();
    // managedFields say which client set which field: not evidence, and a third of each object.
    jobs.iter_mut()
        .for_each(|j| j.metadata.managed_fields = None);
    pods.iter_mut()
        .for_each(|p| p.metadata.managed_fields = None);
    let uids: Vec<&str> = jobs
        .iter()
        .filter(|j| {
            j.metadata
                .name
                .as_ref()
                .is_some_and(|n| targets.contains(n))
        })
        .filter_map(|j| j.metadata.uid.as_deref())
        .collect();
    let owned: Vec<&Pod> = pods.iter().filter(|p| owned_by(p, &uids)).collect();
    let events = match events {
        Ok(all) => events_about(all, targets, &owned),
        Err(message) => {
            notes.push(format!(
                "Events were not readable ({message}); scheduling problems cannot be explained"
            ));
            Vec::new()
        }
    };
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let logs = read_logs(&pods_api, namespace, &owned, limiter, calls, &mut notes).await?;
    Ok(Snapshot {
        namespace: namespace.to_owned(),
        gathered_at: jiff::Timestamp::now().to_string(),
        cluster: ClusterIdentity::default(),
        targets: targets.to_vec(),
        jobs,
        pods,
        events,
        logs,
        notes,
    })
}

/// The Events about the target Jobs and their pods (or pods named like them).
fn events_about(all: Vec<Event>, targets: &[String], owned: &[&Pod]) -> Vec<Event> {
    let pod_names: Vec<&str> = owned
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    all.into_iter()
        .filter(|e| {
            let io = &e.involved_object;
            let name = io.name.as_deref().unwrap_or("");
            match io.kind.as_deref() {
                Some("Job") => targets.iter().any(|t| t == name),
                Some("Pod") => {
                    pod_names.contains(&name)
                        || targets.iter().any(|t| name.starts_with(&format!("{t}-")))
                }
                _ => false,
            }
        })
        .collect()
}

/// Whether any container of the pod ever ran: only then is there a log to read.
fn ever_ran(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.state
                    .as_ref()
                    .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
                    || c.last_state
                        .as_ref()
                        .is_some_and(|s| s.terminated.is_some())
            })
        })
}

/// Every container log of the pods that ran, read through the shared limiter; a log that is
/// gone (the pod was deleted meanwhile) is a note, any other failure an error.
async fn read_logs(
    pods_api: &Api<Pod>,
    namespace: &str,
    owned: &[&Pod],
    limiter: &LogLimiter,
    calls: &CallCount,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, BTreeMap<String, LogText>>, Error> {
    let requests: Vec<(String, String)> = owned
        .iter()
        .filter(|p| ever_ran(p))
        .filter_map(|p| p.metadata.name.clone().map(|n| (n, *p)))
        .flat_map(|(name, pod)| {
            pod.spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .map(move |c| (name.clone(), c.name.clone()))
        })
        .collect();
    let results: Vec<(String, String, Result<LogText, kube::Error>)> =
        futures::future::join_all(requests.into_iter().map(|(pod, container)| {
            let api = pods_api.clone();
            calls.add();
            async move {
                let _permit = limiter
                    .0
                    .acquire()
                    .await
                    .expect("the limiter is never closed");
                let r = read_log(&api, &pod, &container).await;
                (pod, container, r)
            }
        }))
        .await;
    let mut logs: BTreeMap<String, BTreeMap<String, LogText>> = BTreeMap::new();
    for (pod, container, r) in results {
        match r {
            Ok(log) => {
                logs.entry(pod).or_default().insert(container, log);
            }
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 400 => {
                notes.push(format!("the log of pod {pod} is gone: {}", s.message));
            }
            Err(e) => {
                return Err(explain(
                    e,
                    &format!("reading the log of pod {pod}"),
                    namespace,
                ));
            }
        }
    }
    Ok(logs)
}

async fn read_log(api: &Api<Pod>, pod: &str, container: &str) -> Result<LogText, kube::Error> {
    let lp = LogParams {
        container: Some(container.to_owned()),
        limit_bytes: Some(LOG_LIMIT_BYTES),
        tail_lines: Some(LOG_TAIL_LINES),
        ..LogParams::default()
    };
    let mut stream = api.log_stream(pod, &lp).await?;
    let mut bytes = Vec::new();
    // The server honours limitBytes; this bound holds even if it did not.
    let mut limited = (&mut stream).take(LOG_LIMIT_BYTES as u64 + 1);
    limited
        .read_to_end(&mut bytes)
        .await
        .map_err(kube::Error::ReadEvents)?;
    let truncated = bytes.len() as i64 > LOG_LIMIT_BYTES || bytes.len() as i64 == LOG_LIMIT_BYTES;
    bytes.truncate(LOG_LIMIT_BYTES as usize);
    Ok(LogText {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        truncated,
    })
}

/// The server version and the kube-system uid; either may be unreadable (then unknown).
pub async fn identity(client: &Client, calls: &CallCount) -> ClusterIdentity {
    calls.add();
    let server_version = client.apiserver_version().await.ok().map(|v| v.git_version);
    calls.add();
    let ns: Api<Namespace> = Api::all(client.clone());
    let kube_system_uid = ns
        .get_opt("kube-system")
        .await
        .ok()
        .flatten()
        .and_then(|n| n.metadata.uid);
    ClusterIdentity {
        server_version,
        kube_system_uid,
    }
}

/// True when one of the Jobs with these uids owns the pod (what the Job controller counts).
pub fn owned_by(pod: &Pod, uids: &[&str]) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job" && uids.contains(&o.uid.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failures_in_plain_words() {
        // As kube-rs and rustls report them.
        let v1 = "rustls tls error: invalid private key: invalid peer certificate: Other(OtherError(UnsupportedCertVersion))";
        let (m, h) = tls_advice(v1, "x").unwrap();
        assert!(
            m.contains("X.509 version 1") && h.contains("openssl x509 -req"),
            "{m} {h}"
        );
        let cases = [
            (
                "invalid peer certificate: UnknownIssuer",
                "not signed by the certificate authority",
            ),
            ("invalid peer certificate: Expired", "has expired"),
            (
                "invalid peer certificate: NotValidForName",
                "not issued for the address",
            ),
            (
                "invalid peer certificate: CertNotValidForName(..)",
                "not issued for the address",
            ),
            ("failed to load private key: no private key", "client key"),
        ];
        for (text, says) in cases {
            let (m, _) = tls_advice(text, "the server").unwrap_or_else(|| panic!("{text}"));
            assert!(m.contains(says), "{text}: {m}");
        }
        assert!(tls_advice("connection refused", "x").is_none());
        // As a real kube-rs 5 reports them (tests/tls.rs makes them happen).
        let expired = "client error (Connect): invalid peer certificate: certificate expired: verification time 1796195957 (UNIX), but certificate is not valid after 1577923200";
        assert!(tls_advice(expired, "x").unwrap().0.contains("has expired"));
        let exec =
            "auth error: auth exec command '\"/bin/false\"' failed with status exit status: 1";
        assert!(
            tls_advice(exec, "x")
                .unwrap()
                .0
                .contains("credential plugin")
        );
    }

    #[test]
    fn quota_and_admission_denials_are_not_permission_problems() {
        let status = |m: &str| {
            kube::Error::Api(Box::new(kube::core::Status {
                code: 403,
                message: m.to_owned(),
                ..Default::default()
            }))
        };
        let e = explain(
            status(
                "jobs \"x\" is forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2",
            ),
            "applying Job x",
            "lab",
        );
        assert!(e.to_string().contains("ResourceQuota"), "{e}");
        let e = explain(
            status("admission webhook \"policy.example\" denied the request: no latest tags"),
            "applying Job x",
            "lab",
        );
        assert!(e.to_string().contains("admission policy"), "{e}");
        let e = explain(
            status(
                "jobs.batch is forbidden: User \"u\" cannot list resource \"jobs\" in API group \"batch\"",
            ),
            "listing",
            "lab",
        );
        assert!(
            e.to_string().contains("the grader needs `list jobs`"),
            "{e}"
        );
    }

    #[test]
    fn names_the_missing_permission() {
        let m = "pods \"x\" is forbidden: User \"system:serviceaccount:default:nobody\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"u3\"";
        assert_eq!(missing_permission(m).as_deref(), Some("get pods/log"));
        let m = "jobs.batch is forbidden: User \"u\" cannot list resource \"jobs\" in API group \"batch\" in the namespace \"u3\"";
        assert_eq!(missing_permission(m).as_deref(), Some("list jobs"));
    }
}
