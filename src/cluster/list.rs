//! Listing what an exercise needs: the kinds of its plan resolved (built-in kinds by name, any
//! other through the cluster's discovery, once), then one LIST per kind, concurrently, into
//! the snapshot's typed lists. Secrets are read as their keys: each value is handed to the
//! [`Redactor`] and dropped before the list is kept.

use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, DynamicObject, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::{CallCount, Shelf, explain};
use crate::error::Error;
use crate::kinds::{ApiKind, KindRef, Known};
use crate::snapshot::{SecretKeys, Snapshot, listed_name};
use crate::text::Redactor;

/// A namespace's lists, before its Events are sorted and its logs read.
pub struct Listed {
    /// The lists, in the snapshot's typed members (Events kept apart below).
    pub snapshot: Snapshot,
    /// Every Event of the namespace, or why they could not be read (403 is not fatal).
    pub events: Result<Vec<Event>, String>,
    /// The Secrets' values, to hide them wherever the logs repeat them.
    pub redactor: Redactor,
}

impl Default for Listed {
    fn default() -> Self {
        Listed {
            snapshot: Snapshot::default(),
            events: Ok(Vec::new()),
            redactor: Redactor::default(),
        }
    }
}

impl Listed {
    /// Whether nothing at all was listed (then the namespace may not exist).
    pub fn is_empty(&self) -> bool {
        self.snapshot.counts().is_empty()
    }
}

/// The API kinds of a plan: built-in ones by name; others (custom resources) through one
/// discovery of the cluster. A kind the cluster does not serve is an error naming it.
pub async fn resolve_kinds(
    client: &Client,
    kinds: &[KindRef],
    calls: &CallCount,
) -> Result<Vec<ApiKind>, Error> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for k in kinds {
        match k.resolve_offline() {
            Ok(Some(api)) => out.push(api),
            Ok(None) => unknown.push(k),
            Err(m) => {
                return Err(Error::Cluster {
                    message: m,
                    help: None,
                });
            }
        }
    }
    if unknown.is_empty() {
        return Ok(out);
    }
    // Aggregated discovery answers in two requests; older servers need one per group.
    calls.add();
    calls.add();
    let discovery = match kube::Discovery::new(client.clone()).run_aggregated().await {
        Ok(d) => d,
        Err(_) => kube::Discovery::new(client.clone())
            .run()
            .await
            .map_err(|e| explain(e, "discovering the kinds the cluster serves", "(all)"))?,
    };
    for k in unknown {
        let found = discovery.groups().find_map(|g| {
            g.resources_by_stability().into_iter().find(|(ar, _)| {
                ar.kind == k.kind
                    && k.group_version()
                        .is_none_or(|(grp, v)| ar.group == grp && ar.version == v)
            })
        });
        match found {
            Some((ar, caps)) => out.push(ApiKind {
                group: ar.group,
                version: ar.version,
                kind: ar.kind,
                plural: ar.plural,
                namespaced: caps.scope == kube::discovery::Scope::Namespaced,
            }),
            None => {
                return Err(Error::Cluster {
                    message: format!("the cluster does not serve kind {k}"),
                    help: Some(
                        "is its CustomResourceDefinition installed? `kubectl api-resources` lists what the cluster serves".into(),
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// A kind the server does not serve answers a LIST with 404: say which kind.
fn not_served(e: kube::Error, kind: &ApiKind, namespace: &str) -> Error {
    match &e {
        kube::Error::Api(s) if s.code == 404 => Error::Cluster {
            message: format!(
                "the cluster does not serve {kind} (listing it in {namespace} answered 404)"
            ),
            help: Some(format!(
                "this cluster is too old or too new for it, or the API is switched off: `kubectl api-resources | grep {}` shows what it serves",
                kind.plural
            )),
        },
        _ => explain(
            e,
            &format!("listing {}s in {namespace}", kind.kind),
            namespace,
        ),
    }
}

async fn typed_raw<K>(
    client: &Client,
    namespace: Option<&str>,
    calls: &CallCount,
) -> Result<Vec<K>, kube::Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let mut items = Vec::new();
    each_page(client, namespace, calls, |page: Vec<K>, left| {
        // Room for exactly what the server says is left: doubling a class's list of pods
        // held up to twice it.
        items.reserve_exact(page.len() + left);
        items.extend(page);
    })
    .await?;
    Ok(items)
}

/// Every page of a LIST of `K` (in one namespace, or in all with `None`), handed to `keep`
/// as it arrives with how many objects the server says are left (capped), each object's
/// managedFields dropped: they are much of a pod's size, and a class's list held with them
/// (and its whole body at once) was a third of a grade's peak memory.
pub async fn each_page<K>(
    client: &Client,
    namespace: Option<&str>,
    calls: &CallCount,
    mut keep: impl FnMut(Vec<K>, usize),
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut params = ListParams::default().limit(LIST_PAGE);
    loop {
        calls.add();
        let page = api.list(&params).await?;
        let left = page
            .metadata
            .remaining_item_count
            .unwrap_or(0)
            .clamp(0, 50_000) as usize;
        let items = page
            .items
            .into_iter()
            .map(|mut k| {
                k.meta_mut().managed_fields = None;
                k
            })
            .collect();
        keep(items, left);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

/// One kind listed in every namespace onto a [`Shelf`]: for the kinds a class holds many of.
/// Events that may not be read are a note (`Err`), as in [`list_namespace`].
pub async fn list_onto_shelf<K>(
    client: &Client,
    kind: &ApiKind,
    calls: &CallCount,
) -> Result<Result<Shelf<K>, String>, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let mut shelf = Shelf::default();
    match each_page(client, None, calls, |page, _| shelf.put(page)).await {
        Ok(()) => Ok(Ok(shelf)),
        Err(kube::Error::Api(s)) if s.code == 403 && kind.known() == Some(Known::Event) => {
            Ok(Err(s.message))
        }
        Err(e) => Err(not_served(e, kind, "all namespaces")),
    }
}

/// Objects per page of a LIST, as kubectl's `--chunk-size`: a namespace fits in one page, a
/// class's cluster-wide list comes in a few.
pub const LIST_PAGE: u32 = 500;

async fn typed<K>(
    client: &Client,
    namespace: Option<&str>,
    kind: &ApiKind,
    calls: &CallCount,
) -> Result<Vec<K>, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    typed_raw(client, namespace, calls)
        .await
        .map_err(|e| not_served(e, kind, namespace.unwrap_or("all namespaces")))
}

/// Secrets as keys: values go to the redactor and are dropped here.
pub fn keys_only(secrets: Vec<Secret>, redactor: &mut Redactor) -> Vec<SecretKeys> {
    secrets
        .into_iter()
        .map(|s| {
            let name = s.metadata.name.clone().unwrap_or_default();
            let mut keys = Vec::new();
            for (k, v) in s.data.into_iter().flatten() {
                let encoded = {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.encode(&v.0)
                };
                redactor.add(&v.0, &encoded, &name, &k);
                keys.push(k);
            }
            keys.sort();
            let mut metadata = s.metadata;
            metadata.managed_fields = None;
            // The last-applied annotation repeats the manifest, values included.
            if let Some(a) = metadata.annotations.as_mut() {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            SecretKeys {
                metadata,
                type_: s.type_,
                keys,
                immutable: s.immutable,
            }
        })
        .collect()
}

/// One LIST of each kind (in one namespace, or in all with `None`), concurrently, into the
/// snapshot's lists. Events that may not be read are a note, not a failure.
pub async fn list_namespace(
    client: &Client,
    namespace: Option<&str>,
    kinds: &[ApiKind],
    calls: &CallCount,
) -> Result<Listed, Error> {
    let lists = futures::future::try_join_all(
        kinds
            .iter()
            .filter(|k| !(namespace.is_none() && k.known() == Some(Known::Secret)))
            .map(|k| list_one(client, namespace, k, calls)),
    )
    .await?;
    let mut listed = Listed {
        events: Ok(Vec::new()),
        ..Listed::default()
    };
    // Every kind is named, Secrets too: a class's are read namespace by namespace.
    listed.snapshot.listed = kinds.iter().map(listed_name).collect();
    for list in lists {
        list.into(&mut listed);
    }
    Ok(listed)
}

/// One kind's list, typed where kubelab has a type for it.
enum List {
    Pods(Vec<k8s_openapi::api::core::v1::Pod>),
    Jobs(Vec<k8s_openapi::api::batch::v1::Job>),
    CronJobs(Vec<k8s_openapi::api::batch::v1::CronJob>),
    Deployments(Vec<k8s_openapi::api::apps::v1::Deployment>),
    ReplicaSets(Vec<k8s_openapi::api::apps::v1::ReplicaSet>),
    Services(Vec<k8s_openapi::api::core::v1::Service>),
    EndpointSlices(Vec<k8s_openapi::api::discovery::v1::EndpointSlice>),
    ConfigMaps(Vec<k8s_openapi::api::core::v1::ConfigMap>),
    Secrets(Vec<Secret>),
    Events(Result<Vec<Event>, String>),
    Others(Vec<DynamicObject>),
}

impl List {
    fn into(self, l: &mut Listed) {
        let s = &mut l.snapshot;
        match self {
            List::Pods(v) => s.pods.extend(v),
            List::Jobs(v) => s.jobs.extend(v),
            List::CronJobs(v) => s.cron_jobs.extend(v),
            List::Deployments(v) => s.deployments.extend(v),
            List::ReplicaSets(v) => s.replica_sets.extend(v),
            List::Services(v) => s.services.extend(v),
            List::EndpointSlices(v) => s.endpoint_slices.extend(v),
            List::ConfigMaps(v) => s.config_maps.extend(v),
            List::Secrets(v) => {
                let keys = keys_only(v, &mut l.redactor);
                l.snapshot.secrets.extend(keys);
            }
            List::Events(r) => l.events = r,
            List::Others(v) => s.others.extend(v),
        }
    }
}

async fn list_one(
    client: &Client,
    ns: Option<&str>,
    kind: &ApiKind,
    calls: &CallCount,
) -> Result<List, Error> {
    Ok(match kind.known() {
        Some(Known::Pod) => List::Pods(typed(client, ns, kind, calls).await?),
        Some(Known::Job) => List::Jobs(typed(client, ns, kind, calls).await?),
        Some(Known::CronJob) => List::CronJobs(typed(client, ns, kind, calls).await?),
        Some(Known::Deployment) => List::Deployments(typed(client, ns, kind, calls).await?),
        Some(Known::ReplicaSet) => List::ReplicaSets(typed(client, ns, kind, calls).await?),
        Some(Known::Service) => List::Services(typed(client, ns, kind, calls).await?),
        Some(Known::EndpointSlice) => List::EndpointSlices(typed(client, ns, kind, calls).await?),
        Some(Known::ConfigMap) => List::ConfigMaps(typed(client, ns, kind, calls).await?),
        Some(Known::Secret) => List::Secrets(typed(client, ns, kind, calls).await?),
        Some(Known::Event) => match typed_raw::<Event>(client, ns, calls).await {
            Ok(v) => List::Events(Ok(v)),
            Err(kube::Error::Api(s)) if s.code == 403 => List::Events(Err(s.message)),
            Err(e) => return Err(not_served(e, kind, ns.unwrap_or("all namespaces"))),
        },
        None => {
            calls.add();
            let ar = kind.api_resource();
            let api: Api<DynamicObject> = match ns {
                Some(n) => Api::namespaced_with(client.clone(), n, &ar),
                None => Api::all_with(client.clone(), &ar),
            };
            let mut items = api
                .list(&ListParams::default())
                .await
                .map_err(|e| not_served(e, kind, ns.unwrap_or("all namespaces")))?
                .items;
            // Items of a LIST carry no kind: give each its own, so it can be found again.
            for i in &mut items {
                i.types = Some(kube::api::TypeMeta {
                    api_version: kind.api_version(),
                    kind: kind.kind.clone(),
                });
            }
            List::Others(items)
        }
    })
}
