//! `class down`: finds the namespaces `up` labelled for one class (one LIST by label, so
//! nothing else can be touched), deletes them, and waits until they are gone. A namespace that
//! was adopted is kept: only kubelab's objects are deleted from it and its labels taken back.

use std::time::Duration;

use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde::Serialize;
use serde_json::json;

use super::{ADOPTED_ANNOTATION, selector};
use crate::cluster::{self, CallCount};
use crate::error::Error;
use crate::grade::roster::{LEARNER_ID_ANNOTATION, LEARNER_LABEL};

/// A namespace of the class.
#[derive(Debug, Clone, Serialize)]
pub struct Seated {
    pub namespace: String,
    pub learner: String,
    /// It existed before the class: kept, emptied of kubelab's objects.
    pub adopted: bool,
}

/// What `down` did.
#[derive(Debug, Serialize)]
pub struct Removed {
    pub class: String,
    pub deleted: Vec<Seated>,
    /// Namespaces still terminating when the wait ended.
    pub still_terminating: Vec<String>,
    pub api_calls: usize,
}

/// The class's namespaces.
pub async fn find(client: &Client, class: &str, calls: &CallCount) -> Result<Vec<Seated>, Error> {
    calls.add();
    let list = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default().labels(&selector(class)))
        .await
        .map_err(|e| cluster::explain(e, "listing the class's namespaces", "(all)"))?;
    let mut out: Vec<Seated> = list
        .items
        .into_iter()
        .map(|n| {
            let annotations = n.metadata.annotations.clone().unwrap_or_default();
            let namespace = n.metadata.name.clone().unwrap_or_default();
            Seated {
                learner: annotations
                    .get(LEARNER_ID_ANNOTATION)
                    .cloned()
                    .or_else(|| n.metadata.labels.as_ref()?.get(LEARNER_LABEL).cloned())
                    .unwrap_or_else(|| namespace.clone()),
                adopted: annotations.contains_key(ADOPTED_ANNOTATION),
                namespace,
            }
        })
        .collect();
    out.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Ok(out)
}

async fn delete_labelled<K>(
    client: &Client,
    ns: &str,
    class: &str,
    calls: &CallCount,
) -> Result<(), Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let api = Api::<K>::namespaced(client.clone(), ns);
    calls.add();
    let list = api
        .list(&ListParams::default().labels(&selector(class)))
        .await
        .map_err(|e| cluster::explain(e, &format!("listing {kind}s kubelab made"), ns))?;
    for o in list.items {
        let name = o.meta().name.clone().unwrap_or_default();
        calls.add();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                return Err(cluster::explain(
                    e,
                    &format!("deleting {kind} {ns}/{name}"),
                    ns,
                ));
            }
        }
    }
    Ok(())
}

/// Empties an adopted namespace of kubelab's objects and takes its labels back (applying an
/// empty object as the field manager `kubelab` removes what that manager set).
async fn release(client: &Client, ns: &str, class: &str, calls: &CallCount) -> Result<(), Error> {
    delete_labelled::<RoleBinding>(client, ns, class, calls).await?;
    delete_labelled::<Role>(client, ns, class, calls).await?;
    delete_labelled::<ResourceQuota>(client, ns, class, calls).await?;
    delete_labelled::<LimitRange>(client, ns, class, calls).await?;
    delete_labelled::<ServiceAccount>(client, ns, class, calls).await?;
    calls.add();
    let empty = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    Api::<Namespace>::all(client.clone())
        .patch(
            ns,
            &PatchParams::apply("kubelab").force(),
            &Patch::Apply(&empty),
        )
        .await
        .map_err(|e| {
            cluster::explain(
                e,
                &format!("taking kubelab's labels off namespace {ns}"),
                ns,
            )
        })?;
    Ok(())
}

/// Deletes the class's namespaces (keeping adopted ones, emptied), then waits up to `wait` for
/// them to be gone.
pub async fn down(
    client: &Client,
    class: &str,
    seated: Vec<Seated>,
    wait: Duration,
    calls: &CallCount,
) -> Result<Removed, Error> {
    let api = Api::<Namespace>::all(client.clone());
    for s in &seated {
        if s.adopted {
            release(client, &s.namespace, class, calls).await?;
            continue;
        }
        calls.add();
        match api.delete(&s.namespace, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(st)) if st.code == 404 => {}
            Err(e) => {
                return Err(cluster::explain(
                    e,
                    &format!("deleting namespace {}", s.namespace),
                    &s.namespace,
                ));
            }
        }
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut still: Vec<String>;
    loop {
        still = find(client, class, calls)
            .await?
            .into_iter()
            .filter(|n| !n.adopted)
            .map(|n| n.namespace)
            .collect();
        if still.is_empty() || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(Removed {
        class: class.to_owned(),
        deleted: seated,
        still_terminating: still,
        api_calls: calls.get(),
    })
}
