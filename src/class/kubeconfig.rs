//! A learner's kubeconfig: the cluster as the instructor's kubeconfig reaches it (its CA
//! embedded, so the file works on its own), the learner's ServiceAccount token, and their
//! namespace as the context's default.

use base64::Engine as _;
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use crate::cluster::Target;
use crate::error::Error;

/// The cluster entry of the instructor's current (or chosen) context, made self-contained.
pub fn instructor_cluster(target: &Target, server: Option<&str>) -> Result<Cluster, Error> {
    let shown = target.kubeconfig.as_ref().map_or_else(
        || "your kubeconfig (KUBECONFIG or ~/.kube/config)".to_owned(),
        |p| p.display().to_string(),
    );
    let unreadable = |e: kube::config::KubeconfigError| {
        Error::Cluster {
        message: format!("cannot read {shown}: {e}"),
        help: Some(
            "class up copies the cluster's address and CA from your kubeconfig into the learners' files: pass --kubeconfig FILE".into(),
        ),
    }
    };
    let config = match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(unreadable)?,
        None => Kubeconfig::read().map_err(unreadable)?,
    };
    let context_name = target
        .context
        .clone()
        .or(config.current_context.clone())
        .ok_or_else(|| Error::Cluster {
            message: format!("{shown} has no current context"),
            help: Some("pass --context NAME".into()),
        })?;
    let context = config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
        .ok_or_else(|| Error::Cluster {
            message: format!("{shown} has no context `{context_name}`"),
            help: Some("list them with kubectl config get-contexts".into()),
        })?;
    let mut cluster = config
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| Error::Cluster {
            message: format!("{shown} has no cluster `{}`", context.cluster),
            help: Some("list them with kubectl config get-clusters".into()),
        })?;
    if let Some(path) = cluster.certificate_authority.take() {
        let pem = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        cluster.certificate_authority_data =
            Some(base64::engine::general_purpose::STANDARD.encode(pem));
    }
    if let Some(server) = server {
        cluster.server = Some(server.to_owned());
    }
    if cluster.server.is_none() {
        return Err(Error::Cluster {
            message: format!("the cluster of context `{context_name}` in {shown} has no server"),
            help: Some("pass --server https://HOST:PORT".into()),
        });
    }
    Ok(cluster)
}

/// The learner's kubeconfig as YAML.
pub fn render(
    class: &str,
    cluster: &Cluster,
    namespace: &str,
    token: &str,
) -> Result<String, Error> {
    let user = format!("{class}-{namespace}");
    let config = Kubeconfig {
        clusters: vec![NamedCluster {
            name: class.to_owned(),
            cluster: Some(cluster.clone()),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: user.clone(),
            auth_info: Some(AuthInfo {
                token: Some(token.to_owned().into()),
                ..AuthInfo::default()
            }),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: class.to_owned(),
            context: Some(Context {
                cluster: class.to_owned(),
                user: Some(user),
                namespace: Some(namespace.to_owned()),
                ..Context::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(class.to_owned()),
        api_version: Some("v1".into()),
        kind: Some("Config".into()),
        ..Kubeconfig::default()
    };
    serde_saphyr::to_string(&config).map_err(|e| Error::Cluster {
        message: format!("cannot write the kubeconfig of namespace {namespace}: {e}"),
        help: Some("the cluster entry of your kubeconfig holds something kubelab cannot copy; pass --server URL".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learner_kubeconfig_reads_back_with_their_token_and_namespace() {
        let cluster = Cluster {
            server: Some("https://127.0.0.1:6443".into()),
            certificate_authority_data: Some("Q0E=".into()),
            ..Cluster::default()
        };
        let text = render("cs101", &cluster, "ana", "tok.en").unwrap();
        let back = Kubeconfig::from_yaml(&text).unwrap();
        let context = back.contexts[0].context.clone().unwrap();
        assert_eq!(back.current_context.as_deref(), Some("cs101"));
        assert_eq!(context.namespace.as_deref(), Some("ana"));
        let user = back.auth_infos[0].auth_info.clone().unwrap();
        assert!(
            user.token.is_some() && text.contains("token: tok.en"),
            "{text}"
        );
        let c = back.clusters[0].cluster.clone().unwrap();
        assert_eq!(c.certificate_authority_data.as_deref(), Some("Q0E="));
    }
}
