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

/// Turns a kube-rs error into what the user should do.
pub fn explain(e: kube::Error, what: &str, namespace: &str) -> Error {
    match &e {
        kube::Error::Api(status) => {
            let code = status.code;
            let message = status.message.clone();
            match code {
                401 => Error::Cluster {
                    message: format!("unauthorized (401) while {what}: {message}"),
                    help: Some("your credentials were refused: log in again or refresh the token in your kubeconfig".into()),
                },
                403 if message.contains("exceeded quota") => Error::Cluster {
                    message: format!("the namespace's ResourceQuota refused it while {what}: {message}"),
                    help: Some(format!("lower the Job's requests or parallelism, or ask for more quota (kubectl describe resourcequota -n {namespace})")),
                },
                403 if message.contains("admission webhook") || message.contains("denied the request") => Error::Cluster {
                    message: format!("an admission policy refused it while {what}: {message}"),
                    help: Some("the cluster's policies reject this manifest; the message says which rule".into()),
                },
                403 => {
                    let permission = missing_permission(&message)
                        .unwrap_or_else(|| "get/list on jobs, pods, pods/log and events".into());
                    Error::Cluster {
                        message: format!("forbidden (403) while {what}: the grader needs `{permission}` in namespace {namespace}"),
                        help: Some(format!(
                            "ask for the read-only Role in deploy/kubelab-reader.yaml (kubectl apply -n {namespace} -f deploy/kubelab-reader.yaml); the server said: {message}"
                        )),
                    }
                }
                404 => Error::Cluster {
                    message: format!("not found (404) while {what}: {message}"),
                    help: Some(format!("does namespace {namespace} exist? kubectl get namespace {namespace}")),
                },
                c if c >= 500 => Error::Cluster {
                    message: format!("the API server failed ({c}) while {what}: {message}"),
                    help: Some("the cluster may be starting or overloaded; try again in a moment".into()),
                },
                c => Error::Cluster {
                    message: format!("the API server refused ({c}) {what}: {message}"),
                    help: None,
                },
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            let text = chain(&e);
            let lower = text.to_lowercase();
            if let Some((message, help)) = tls_advice(&text, "the server") {
                Error::Cluster {
                    message: format!("{message} (while {what})"),
                    help: Some(help),
                }
            } else if lower.contains("certificate")
                || lower.contains("tls")
                || lower.contains("handshake")
            {
                Error::Cluster {
                    message: format!("TLS failure while {what}: {text}"),
                    help: Some("the server's certificate does not match the kubeconfig's certificate-authority; re-create the kubeconfig (minikube update-context, kind export kubeconfig)".into()),
                }
            } else if lower.contains("timed out")
                || lower.contains("timeout")
                || lower.contains("elapsed")
            {
                Error::Cluster {
                    message: format!("the API server did not answer in time while {what}"),
                    help: Some("check the cluster (kubectl cluster-info), or allow longer with --request-timeout".into()),
                }
            } else {
                Error::Cluster {
                    message: format!("no cluster reachable while {what}: {text}"),
                    help: Some(
                        "is your kubeconfig set and the cluster running? (kubectl cluster-info)"
                            .into(),
                    ),
                }
            }
        }
        kube::Error::Auth(auth) => Error::Cluster {
            message: format!(
                "your kubeconfig's credentials could not be obtained while {what}: {}",
                chain(auth)
            ),
            help: Some(
                "if the kubeconfig runs a credential plugin (exec: aws, gke-gcloud-auth-plugin, kubelogin), run that command yourself to see why it fails, or log in again".into(),
            ),
        },
        other => Error::Cluster {
            message: format!("while {what}: {other}"),
            help: None,
        },
    }
}

/// TLS failures in plain words: what is wrong and what to do. `text` is the error chain as
/// rustls and kube report it; `server` names the server for the message.
pub fn tls_advice(text: &str, server: &str) -> Option<(String, String)> {
    let lower = text.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    let (message, help) = if has("auth exec command") {
        (
            "the credential plugin your kubeconfig runs (users[].user.exec) failed".to_owned(),
            "run that command yourself to see why (aws eks get-token, gke-gcloud-auth-plugin, kubelogin...), log in again, or use a kubeconfig with a client certificate or token".to_owned(),
        )
    } else if has("unsupportedcertversion") {
        (
            "your client certificate (client-certificate-data in the kubeconfig) is X.509 version 1, which kubelab's TLS library refuses (kubectl accepts it)".to_owned(),
            "re-issue it as version 3: sign it with extensions, e.g. `openssl x509 -req -in user.csr -CA ca.crt -CAkey ca.key -days 365 -extfile <(printf 'basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=clientAuth') -out user.crt`".to_owned(),
        )
    } else if has("expired") {
        (
            format!("a certificate has expired: {server}'s, or your client certificate"),
            "renew it (your cluster's tool: kubeadm certs renew, minikube start, or ask for a new kubeconfig), and check that this machine's clock is right".to_owned(),
        )
    } else if has("notvalidyet") || has("not valid yet") {
        (
            "a certificate is not valid yet: this machine's clock is probably behind".to_owned(),
            "set the clock right (timedatectl, NTP) and try again".to_owned(),
        )
    } else if has("unknownissuer") || has("unknown issuer") || has("badsignature") {
        (
            format!("{server}'s certificate is not signed by the certificate authority in your kubeconfig (certificate-authority-data)"),
            "the kubeconfig belongs to another cluster, or the cluster was re-created: get a fresh kubeconfig (minikube update-context, kind export kubeconfig, k3s: /etc/rancher/k3s/k3s.yaml)".to_owned(),
        )
    } else if has("notvalidforname") || has("not valid for name") {
        (
            format!("{server}'s certificate is not issued for the address in your kubeconfig"),
            "connect with a name or IP the certificate lists (`openssl s_client -connect HOST:PORT </dev/null | openssl x509 -noout -ext subjectAltName` shows them), or set tls-server-name in the kubeconfig's cluster".to_owned(),
        )
    } else if has("private key") {
        (
            "the client key in your kubeconfig (client-key-data) cannot be used".to_owned(),
            "give a PEM key (PKCS#8, RSA or EC) that matches client-certificate-data; re-export the kubeconfig if unsure".to_owned(),
        )
    } else {
        return None;
    };
    Some((message, help))
}

/// An error with its causes, `a: b: c`, without repeats.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// `cannot get resource "pods/log" in API group ""` to `get pods/log`.
fn missing_permission(message: &str) -> Option<String> {
    let verb = message.split("cannot ").nth(1)?.split_whitespace().next()?;
    let resource = message.split("resource \"").nth(1)?.split('"').next()?;
    Some(format!("{verb} {resource}"))
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
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
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
    let target_jobs: Vec<&Job> = jobs
        .iter()
        .filter(|j| {
            j.metadata
                .name
                .as_ref()
                .is_some_and(|n| targets.contains(n))
        })
        .collect();
    let uids: Vec<&str> = target_jobs
        .iter()
        .filter_map(|j| j.metadata.uid.as_deref())
        .collect();
    let owned: Vec<&Pod> = pods
        .iter()
        .filter(|p| crate::facts::owned_by(p, &uids))
        .collect();

    let events = match events {
        Ok(all) => {
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
        Err(message) => {
            notes.push(format!(
                "Events were not readable ({message}); scheduling problems cannot be explained"
            ));
            Vec::new()
        }
    };

    let mut requests = Vec::new();
    for pod in &owned {
        let Some(name) = pod.metadata.name.clone() else {
            continue;
        };
        let started = pod
            .status
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
            });
        if !started {
            continue; // no container ever ran: there is no log to read
        }
        for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            requests.push((name.clone(), c.name.clone()));
        }
    }
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
