//! What a failure to read the cluster means for the user: API statuses (401, 403 with the
//! missing permission named, 404, 5xx), TLS and credential failures in plain words, and what
//! to do about each.

use super::Error;

/// Turns a kube-rs error into what the user should do.
pub fn explain(e: kube::Error, what: &str, namespace: &str) -> Error {
    match &e {
        kube::Error::Api(status) => refused(status.code, status.message.clone(), what, namespace),
        kube::Error::HyperError(_) | kube::Error::Service(_) => unreachable_server(&e, what),
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

/// The API server's status code and message behind a watch error, when it answered; else the
/// error in words (a connection that failed has no status). Watchers ask this, not the
/// error's text, whether they were refused.
pub fn watch_status(e: &kube::runtime::watcher::Error) -> (Option<u16>, String) {
    use kube::runtime::watcher::Error as W;
    let from_client = |k: &kube::Error| match k {
        kube::Error::Api(s) => (Some(s.code), s.message.clone()),
        other => (None, other.to_string()),
    };
    match e {
        W::InitialListFailed(k) | W::WatchStartFailed(k) | W::WatchFailed(k) => from_client(k),
        W::WatchError(s) => (Some(s.code), s.message.clone()),
        other => (None, other.to_string()),
    }
}

/// Whether a watch expired: the API server no longer keeps the changes since the watch's
/// resource version (410 Gone, "too old resource version", after etcd compacted them or the
/// server restarted); the watcher lists again.
pub fn watch_expired(e: &kube::runtime::watcher::Error) -> bool {
    let (code, text) = watch_status(e);
    code == Some(410) || text.contains("too old resource version")
}

/// What an API status (401, 403, 404, 5xx...) means for the user.
fn refused(code: u16, message: String, what: &str, namespace: &str) -> Error {
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

/// A server that could not be reached: TLS, time-outs, or nothing listening.
fn unreachable_server(e: &kube::Error, what: &str) -> Error {
    let text = chain(e);
    let lower = text.to_lowercase();
    if let Some((message, help)) = tls_advice(&text, "the server") {
        Error::Cluster {
            message: format!("{message} (while {what})"),
            help: Some(help),
        }
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        Error::Cluster {
            message: format!("TLS failure while {what}: {text}"),
            help: Some("the server's certificate does not match the kubeconfig's certificate-authority; re-create the kubeconfig (minikube update-context, kind export kubeconfig)".into()),
        }
    } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("elapsed")
    {
        Error::Cluster {
            message: format!("the API server did not answer in time while {what}"),
            help: Some(
                "check the cluster (kubectl cluster-info), or allow longer with --request-timeout"
                    .into(),
            ),
        }
    } else {
        Error::Cluster {
            message: format!("no cluster reachable while {what}: {text}"),
            help: Some(
                "is your kubeconfig set and the cluster running? (kubectl cluster-info)".into(),
            ),
        }
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
pub(super) fn chain(e: &dyn std::error::Error) -> String {
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
pub fn missing_permission(message: &str) -> Option<String> {
    let verb = message.split("cannot ").nth(1)?.split_whitespace().next()?;
    let resource = message.split("resource \"").nth(1)?.split('"').next()?;
    Some(format!("{verb} {resource}"))
}
