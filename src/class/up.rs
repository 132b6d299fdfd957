//! `class up`: checks first (the instructor's permissions through access reviews, one LIST of
//! namespaces for ones that exist and are not this class's), then, learner by learner and a few
//! at a time, applies their namespace and what goes in it, asks the TokenRequest API for a
//! token and writes their kubeconfig. Applying is idempotent: running `up` again changes
//! nothing but the tokens. A failure says what was made before it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde::Serialize;

use super::budget::{Budget, Demand};
use super::{CLASS_LABEL, Seat, kubeconfig, objects};
use crate::cluster::{self, CallCount, Target};
use crate::error::Error;

/// Learners set up at once.
const CONCURRENT: usize = 8;

/// What `up` is asked to do.
pub struct Plan {
    pub class: String,
    pub seats: Vec<Seat>,
    /// Where `kubeconfigs/` goes.
    pub out: PathBuf,
    pub token_seconds: i64,
    /// The API server address to write into kubeconfigs, when learners reach it elsewhere.
    pub server: Option<String>,
    pub adopt: bool,
    pub budget: Budget,
    /// The quota applied: the budget's, or the instructor's overrides.
    pub quota: Demand,
    pub rules: Vec<PolicyRule>,
}

/// One learner set up.
#[derive(Debug, Serialize)]
pub struct SeatMade {
    pub learner: String,
    pub namespace: String,
    pub kubeconfig: String,
    /// When their token expires (RFC 3339), as the API server granted it.
    pub token_expires: String,
    pub adopted: bool,
}

#[derive(Debug, Serialize)]
pub struct Made {
    pub class: String,
    pub seats: Vec<SeatMade>,
    pub quota: Demand,
    pub budget: Budget,
    pub api_calls: usize,
}

/// The permissions `up` uses, as (verb, group, resource, subresource).
const NEEDED: [(&str, &str, &str, &str); 7] = [
    ("create", "", "namespaces", ""),
    ("create", "", "serviceaccounts", ""),
    ("create", "", "serviceaccounts", "token"),
    ("create", "rbac.authorization.k8s.io", "roles", ""),
    ("create", "rbac.authorization.k8s.io", "rolebindings", ""),
    ("create", "", "resourcequotas", ""),
    ("create", "", "limitranges", ""),
];

/// Asks the API server whether the instructor may do what `verbs` lists, all at once; the
/// refusals in plain words, with the ClusterRole to bind.
pub async fn preflight(
    client: &Client,
    verbs: &[(&str, &str, &str, &str)],
    calls: &CallCount,
) -> Result<(), Error> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let reviews = verbs.iter().map(|(verb, group, resource, sub)| {
        let api = api.clone();
        async move {
            calls.add();
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some((*verb).to_owned()),
                        group: Some((*group).to_owned()),
                        resource: Some((*resource).to_owned()),
                        subresource: (!sub.is_empty()).then(|| (*sub).to_owned()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| cluster::explain(e, "asking what you may do", "(all)"))?;
            let allowed = answer.status.is_some_and(|s| s.allowed);
            let what = if sub.is_empty() {
                format!("{verb} {resource}")
            } else {
                format!("{verb} {resource}/{sub}")
            };
            Ok::<_, Error>((!allowed).then_some(what))
        }
    });
    let denied: Vec<String> = futures::future::try_join_all(reviews)
        .await?
        .into_iter()
        .flatten()
        .collect();
    if denied.is_empty() {
        return Ok(());
    }
    Err(Error::Cluster {
        message: format!(
            "the cluster would refuse you (403 Forbidden): you may not {}; nothing was made",
            denied.join(", ")
        ),
        help: Some(
            "ask a cluster administrator to bind the ClusterRole kubelab needs for a class: `kubelab rbac --scope class > class-admin.yaml`, `kubectl apply -f class-admin.yaml`, `kubectl create clusterrolebinding kubelab-class-admin --clusterrole=kubelab-class-admin --user=YOU`".into(),
        ),
    })
}

/// Namespaces that exist and are not this class's: refused unless adopted; another class's
/// never.
fn check_existing(
    plan: &Plan,
    existing: &BTreeMap<String, Namespace>,
) -> Result<BTreeMap<String, bool>, Error> {
    let mut adopted = BTreeMap::new();
    let mut problems = Vec::new();
    for seat in &plan.seats {
        let Some(ns) = existing.get(&seat.namespace) else {
            adopted.insert(seat.namespace.clone(), false);
            continue;
        };
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        let annotations = ns.metadata.annotations.clone().unwrap_or_default();
        let class = labels.get(CLASS_LABEL);
        let was_adopted = annotations.contains_key(super::ADOPTED_ANNOTATION);
        if ns.metadata.deletion_timestamp.is_some() {
            problems.push(format!(
                "namespace {} is being deleted: wait until it is gone (kubectl get namespace {})",
                seat.namespace, seat.namespace
            ));
        } else if class.is_some_and(|c| *c == plan.class) {
            adopted.insert(seat.namespace.clone(), was_adopted);
        } else if let Some(other) = class {
            problems.push(format!(
                "namespace {} belongs to the class `{}`: kubelab never gives one learner's namespace to another class",
                seat.namespace,
                crate::text::clean(other)
            ));
        } else if plan.adopt {
            adopted.insert(seat.namespace.clone(), true);
        } else {
            problems.push(format!(
                "namespace {} exists and kubelab did not make it (learner `{}`, {})",
                seat.namespace,
                crate::text::clean(&seat.learner.id),
                seat.learner.listed_at
            ));
        }
    }
    if problems.is_empty() {
        return Ok(adopted);
    }
    Err(Error::Cluster {
        message: format!("{}; nothing was made", problems.join("; ")),
        help: Some(
            "give these learners other namespaces in the roster, or pass --adopt to use namespaces that exist (kubelab then adds its objects to them, and `class down` removes only those, never the namespace)".into(),
        ),
    })
}

/// Sets the class up. Nothing is written before every check passed.
pub async fn up(target: &Target, plan: &Plan, calls: &CallCount) -> Result<Made, Error> {
    let cluster_entry = kubeconfig::instructor_cluster(target, plan.server.as_deref())?;
    let (client, _) = cluster::connect(target).await?;
    let mut verbs = NEEDED.to_vec();
    if plan.adopt {
        verbs.push(("patch", "", "namespaces", ""));
    }
    preflight(&client, &verbs, calls).await?;
    calls.add();
    let existing: BTreeMap<String, Namespace> = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| cluster::explain(e, "listing namespaces", "(all)"))?
        .items
        .into_iter()
        .map(|n| (n.metadata.name.clone().unwrap_or_default(), n))
        .collect();
    let adopted = check_existing(plan, &existing)?;
    let dir = plan.out.join("kubeconfigs");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir.display().to_string(), e))?;
    restrict(&dir)?;
    let stems = crate::grade::names::file_stems(plan.seats.iter().map(|s| s.learner.id.as_str()));
    let made_so_far = Mutex::new(Vec::<String>::new());
    let runs = plan.seats.iter().map(|seat| {
        let client = client.clone();
        let cluster_entry = &cluster_entry;
        let made = &made_so_far;
        let adopted = adopted.get(&seat.namespace).copied().unwrap_or(false);
        let path = dir.join(format!(
            "{}.kubeconfig",
            stems.get(&seat.learner.id).cloned().unwrap_or_default()
        ));
        async move {
            set_up(&client, plan, seat, adopted, calls, made).await?;
            let expires = token(&client, plan, seat, calls, cluster_entry, &path).await?;
            Ok::<_, Error>(SeatMade {
                learner: seat.learner.id.clone(),
                namespace: seat.namespace.clone(),
                kubeconfig: path.display().to_string(),
                token_expires: expires,
                adopted,
            })
        }
    });
    let seats = futures::stream::iter(runs)
        .buffered(CONCURRENT)
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| half_made(e, &plan.class, &made_so_far))?;
    Ok(Made {
        class: plan.class.clone(),
        seats,
        quota: plan.quota,
        budget: plan.budget.clone(),
        api_calls: calls.get(),
    })
}

/// A kubeconfig folder only its owner can read: the tokens in it are credentials.
fn restrict(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(&dir.display().to_string(), e))?;
    }
    Ok(())
}

/// A failure part-way says what exists now and how to remove it.
fn half_made(e: Error, class: &str, made: &Mutex<Vec<String>>) -> Error {
    let made = made.lock().map(|m| m.clone()).unwrap_or_default();
    if made.is_empty() {
        return e;
    }
    let (message, help) = match e {
        Error::Cluster { message, help } => (message, help),
        other => (other.to_string(), None),
    };
    Error::Cluster {
        message: format!(
            "{message}\n  made before that: {}",
            crate::text::list_more(&made, 12)
        ),
        help: Some(format!(
            "{}`kubelab class down --class {class}` removes what was made (and nothing else); or fix the cause and run `class up` again: it finishes the rest",
            help.map(|h| format!("{h}; ")).unwrap_or_default()
        )),
    }
}

async fn apply<K>(
    client: &Client,
    namespace: Option<&str>,
    object: &K,
    calls: &CallCount,
    made: &Mutex<Vec<String>>,
) -> Result<(), Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Serialize
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
    K::DynamicType: Default,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let ns = namespace.unwrap_or_default();
    let what = format!("{} {ns}/{name}", K::kind(&K::DynamicType::default()));
    calls.add();
    Api::<K>::namespaced(client.clone(), ns)
        .patch(
            &name,
            &PatchParams::apply("kubelab").force(),
            &Patch::Apply(object),
        )
        .await
        .map_err(|e| cluster::explain(e, &format!("applying {what}"), ns))?;
    if let Ok(mut m) = made.lock() {
        m.push(what);
    }
    Ok(())
}

async fn set_up(
    client: &Client,
    plan: &Plan,
    seat: &Seat,
    adopted: bool,
    calls: &CallCount,
    made: &Mutex<Vec<String>>,
) -> Result<(), Error> {
    let ns = seat.namespace.as_str();
    calls.add();
    Api::<Namespace>::all(client.clone())
        .patch(
            ns,
            &PatchParams::apply("kubelab").force(),
            &Patch::Apply(objects::namespace(&plan.class, seat, adopted)),
        )
        .await
        .map_err(|e| cluster::explain(e, &format!("applying Namespace {ns}"), ns))?;
    if let Ok(mut m) = made.lock() {
        m.push(format!("Namespace {ns}"));
    }
    let class = plan.class.as_str();
    apply::<ServiceAccount>(
        client,
        Some(ns),
        &objects::service_account(class, seat, None),
        calls,
        made,
    )
    .await?;
    apply::<Role>(
        client,
        Some(ns),
        &objects::role(class, seat, &plan.rules),
        calls,
        made,
    )
    .await?;
    apply::<RoleBinding>(
        client,
        Some(ns),
        &objects::role_binding(class, seat),
        calls,
        made,
    )
    .await?;
    apply::<LimitRange>(
        client,
        Some(ns),
        &objects::limit_range(class, seat, &plan.budget),
        calls,
        made,
    )
    .await?;
    apply::<ResourceQuota>(
        client,
        Some(ns),
        &objects::quota(class, seat, &plan.quota),
        calls,
        made,
    )
    .await?;
    enforced(client, ns, calls).await
}

/// Waits until the quota controller has filled the new quota's status: until then the API
/// server admits pods without counting them against it (seen on the real cluster: four pods of
/// 3 CPU admitted under a 3-CPU quota created a second earlier), so a learner must not get
/// their kubeconfig before it. It takes a second, but up to its 30 s resync when the controller
/// waits on a kind that is gone (seen on the kit right after a CustomResourceDefinition was
/// deleted): up to a minute, asking less often as it goes.
async fn enforced(client: &Client, ns: &str, calls: &CallCount) -> Result<(), Error> {
    let api = Api::<ResourceQuota>::namespaced(client.clone(), ns);
    let deadline = std::time::Instant::now() + QUOTA_WAIT;
    let mut pause = std::time::Duration::from_millis(100);
    while std::time::Instant::now() < deadline {
        calls.add();
        let quota = api.get(super::QUOTA).await.map_err(|e| {
            cluster::explain(
                e,
                &format!("reading ResourceQuota {ns}/{}", super::QUOTA),
                ns,
            )
        })?;
        let wanted = quota.spec.and_then(|s| s.hard).unwrap_or_default();
        let counted = quota.status.and_then(|s| s.hard).unwrap_or_default();
        if !wanted.is_empty() && wanted.keys().all(|k| counted.contains_key(k)) {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(1));
    }
    Err(Error::Cluster {
        message: format!(
            "the ResourceQuota of namespace {ns} is not enforced yet: the quota controller did not take it up within {} s",
            QUOTA_WAIT.as_secs()
        ),
        help: Some("is kube-controller-manager running? Run `class up` again once it is".into()),
    })
}

/// How long `class up` waits for the quota controller to take up a new quota.
const QUOTA_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A token from the TokenRequest API, its expiry kept on the ServiceAccount (for `status`), and
/// the learner's kubeconfig written whole with it.
async fn token(
    client: &Client,
    plan: &Plan,
    seat: &Seat,
    calls: &CallCount,
    cluster_entry: &kube::config::Cluster,
    path: &Path,
) -> Result<String, Error> {
    let ns = seat.namespace.as_str();
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(plan.token_seconds),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    calls.add();
    let granted = Api::<ServiceAccount>::namespaced(client.clone(), ns)
        .create_token_request(super::SERVICE_ACCOUNT, &PostParams::default(), &request)
        .await
        .map_err(|e| {
            cluster::explain(
                e,
                &format!("asking for a token of ServiceAccount {ns}/learner"),
                ns,
            )
        })?;
    let status = granted.status.ok_or_else(|| Error::Cluster {
        message: format!("the API server granted no token for ServiceAccount {ns}/learner"),
        help: None,
    })?;
    let expires = status
        .expiration_timestamp
        .map(|t| t.0.to_string())
        .unwrap_or_default();
    let text = kubeconfig::render(
        &plan.class,
        cluster_entry,
        ns,
        status
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Cluster {
                message: format!("the API server granted no token for ServiceAccount {ns}/learner"),
                help: None,
            })?,
    )?;
    crate::grade::outputs::write_atomically(path, text.as_bytes())?;
    apply::<ServiceAccount>(
        client,
        Some(ns),
        &objects::service_account(&plan.class, seat, Some(&expires)),
        calls,
        // Made already: the list says what exists, once.
        &Mutex::new(Vec::new()),
    )
    .await?;
    Ok(expires)
}
