//! Reading the learner's cluster through kube-rs, read-only: one LIST per kind the exercise
//! needs in the namespace (`list`), one bounded log read per container of the pods whose logs
//! are judged, fetched with bounded concurrency (`assemble`). The result is a plain,
//! serialisable [`Snapshot`]; everything after gathering (facts, judging, reporting) is
//! shared with bundles.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::Error;

mod advice;
mod assemble;
mod list;
mod shelf;

pub use crate::snapshot::{ClusterIdentity, LogText, Snapshot};
use advice::chain;
pub use advice::{explain, missing_permission, tls_advice, watch_expired, watch_status};
pub use assemble::{assemble, gather, read_bounded};
pub use list::{Listed, keys_only, list_namespace, list_onto_shelf, resolve_kinds};
pub use shelf::Shelf;

/// Bounds on what is read from pod logs: they are untrusted and may be huge.
pub const LOG_LIMIT_BYTES: i64 = 256 * 1024;
pub const LOG_TAIL_LINES: i64 = 5_000;
/// Pods whose logs are fetched at once.
pub const LOG_CONCURRENCY: usize = 8;

/// How a watch reconnects after its connection is lost: at once, then at most every 5 s.
/// kube-runtime's default grows to 30 s, kind to a struggling server shared by many
/// controllers; a learner waiting on a run would wait up to 30 s after the server is back.
pub fn watch_backoff()
-> kube::runtime::utils::ResetTimerBackoff<kube::runtime::watcher::ExponentialBackoff> {
    let builder = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(5))
        .with_factor(2.0)
        .with_jitter()
        .without_max_times();
    kube::runtime::utils::ResetTimerBackoff::new(builder.into(), Duration::from_secs(120))
}

/// What a watch asks of the server: to end the watch, cleanly, before the client's read
/// timeout (`--request-timeout`, set by [`connect`]) would cut a quiet one. kube-runtime's
/// watcher relies on that (its default 290 s sits under kube's default read timeout of
/// 295 s); kubelab reads with 30 s, and a watch on which nothing happened for 30 s (a stopped
/// kubelet, a long quiet Job) was cut and said as a lost API server. The watcher then
/// watches on from where it was, without listing again.
pub fn watch_config() -> kube::runtime::watcher::Config {
    let read = Duration::from_millis(READ_TIMEOUT_MS.load(Ordering::Relaxed));
    kube::runtime::watcher::Config::default().timeout(watch_timeout_under(read))
}

/// The read timeout the clients of this process were made with (one `--request-timeout`).
static READ_TIMEOUT_MS: AtomicU64 = AtomicU64::new(30_000);

/// A server-side watch timeout, in whole seconds, safely under a read timeout.
fn watch_timeout_under(read: Duration) -> u32 {
    (read.as_secs_f64() * 0.8).floor().clamp(1.0, 290.0) as u32
}

/// Where to connect, as kubectl's flags say.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// How long one request may take (kubectl's --request-timeout).
    pub request_timeout: Option<Duration>,
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
    READ_TIMEOUT_MS.store(timeout.as_millis() as u64, Ordering::Relaxed);
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

    /// The server ends a watch before the client would stop reading it, whatever
    /// `--request-timeout` says, within what a server accepts (whole seconds, 1 at least).
    #[test]
    fn watches_end_before_the_read_timeout() {
        for (read, watch) in [(30.0, 24), (1.5, 1), (0.1, 1), (295.0, 236), (3600.0, 290)] {
            assert_eq!(watch_timeout_under(Duration::from_secs_f64(read)), watch);
        }
    }

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
