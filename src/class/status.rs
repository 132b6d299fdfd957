//! `class status`: per learner, their namespace, what their quota has in use, their last
//! activity and when their kubeconfig expires. Read-only: four LISTs (the class's namespaces,
//! ResourceQuotas and ServiceAccounts by label, and Events), whatever the size of the class.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Namespace, ResourceQuota, ServiceAccount};
use kube::Client;
use kube::api::{Api, ListParams};
use serde::Serialize;

use super::{QUOTA, SERVICE_ACCOUNT, TOKEN_EXPIRES_ANNOTATION, selector};
use crate::cluster::{self, CallCount};
use crate::error::Error;
use crate::grade::roster::{LEARNER_ID_ANNOTATION, LEARNER_LABEL};

/// A quota's use of one resource.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Use {
    pub used: String,
    pub hard: String,
    /// used / hard, 0 to 1 (above 1 when the quota was lowered under what runs).
    pub fraction: f64,
}

/// The latest thing that happened in a namespace.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// RFC 3339.
    pub at: String,
    /// `Job/image-processor Completed`.
    pub what: String,
}

/// One learner's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub learner: String,
    pub namespace: String,
    /// `Active` or `Terminating`.
    pub phase: String,
    /// By quota resource (`pods`, `requests.cpu`, ...).
    pub quota: BTreeMap<String, Use>,
    pub last_activity: Option<Activity>,
    /// RFC 3339; None when `up` has not written one.
    pub token_expires: Option<String>,
    pub token_expired: bool,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub class: String,
    pub rows: Vec<Row>,
    pub api_calls: usize,
}

async fn list<K>(
    client: &Client,
    params: &ListParams,
    what: &str,
    calls: &CallCount,
) -> Result<Vec<K>, Error>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
    K::DynamicType: Default,
{
    calls.add();
    Ok(Api::<K>::all(client.clone())
        .list(params)
        .await
        .map_err(|e| cluster::explain(e, &format!("listing {what} of every namespace"), "(all)"))?
        .items)
}

fn quota_use(q: &ResourceQuota) -> BTreeMap<String, Use> {
    let status = q.status.clone().unwrap_or_default();
    let used = status.used.unwrap_or_default();
    status
        .hard
        .unwrap_or_default()
        .into_iter()
        .map(|(k, hard)| {
            let used = used.get(&k).map_or_else(|| "0".to_owned(), |q| q.0.clone());
            let h = crate::check::quantity(&hard.0).unwrap_or(0.0);
            let u = crate::check::quantity(&used).unwrap_or(0.0);
            let fraction = if h > 0.0 { u / h } else { 0.0 };
            (
                k,
                Use {
                    used,
                    hard: hard.0,
                    fraction,
                },
            )
        })
        .collect()
}

fn event_time(e: &Event) -> Option<jiff::Timestamp> {
    e.event_time
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// The latest Event of each namespace: when, and what it was about.
fn latest_events(events: &[Event]) -> BTreeMap<String, (jiff::Timestamp, String)> {
    let mut latest: BTreeMap<String, (jiff::Timestamp, String)> = BTreeMap::new();
    for e in events {
        let (Some(ns), Some(at)) = (e.metadata.namespace.clone(), event_time(e)) else {
            continue;
        };
        if latest.get(&ns).is_some_and(|(t, _)| *t >= at) {
            continue;
        }
        let what = format!(
            "{}/{} {}",
            e.involved_object.kind.as_deref().unwrap_or("?"),
            e.involved_object.name.as_deref().unwrap_or("?"),
            e.reason.as_deref().unwrap_or("")
        );
        latest.insert(ns, (at, crate::text::clean(what.trim())));
    }
    latest
}

/// Reads the class's state.
pub async fn status(
    client: &Client,
    class: &str,
    now: jiff::Timestamp,
    calls: &CallCount,
) -> Result<Status, Error> {
    let selector = selector(class);
    let by_class = ListParams::default().labels(&selector);
    let every = ListParams::default();
    let (namespaces, quotas, accounts, events) = tokio::try_join!(
        list::<Namespace>(client, &by_class, "namespaces", calls),
        list::<ResourceQuota>(client, &by_class, "ResourceQuotas", calls),
        list::<ServiceAccount>(client, &by_class, "ServiceAccounts", calls),
        list::<Event>(client, &every, "Events", calls),
    )?;
    let in_ns = |ns: Option<&String>| ns.cloned().unwrap_or_default();
    let quotas: BTreeMap<String, ResourceQuota> = quotas
        .into_iter()
        .filter(|q| q.metadata.name.as_deref() == Some(QUOTA))
        .map(|q| (in_ns(q.metadata.namespace.as_ref()), q))
        .collect();
    let expires: BTreeMap<String, String> = accounts
        .into_iter()
        .filter(|a| a.metadata.name.as_deref() == Some(SERVICE_ACCOUNT))
        .filter_map(|a| {
            let at = a
                .metadata
                .annotations?
                .get(TOKEN_EXPIRES_ANNOTATION)?
                .clone();
            Some((in_ns(a.metadata.namespace.as_ref()), at))
        })
        .collect();
    let latest = latest_events(&events);
    let mut rows: Vec<Row> = namespaces
        .into_iter()
        .map(|n| {
            let name = n.metadata.name.clone().unwrap_or_default();
            let learner = n
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(LEARNER_ID_ANNOTATION))
                .or_else(|| {
                    n.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(LEARNER_LABEL))
                })
                .cloned()
                .unwrap_or_else(|| name.clone());
            let token_expires = expires.get(&name).cloned();
            let token_expired = token_expires
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .is_some_and(|t| t <= now);
            Row {
                learner,
                phase: n
                    .status
                    .and_then(|s| s.phase)
                    .unwrap_or_else(|| "Active".into()),
                quota: quotas.get(&name).map(quota_use).unwrap_or_default(),
                last_activity: latest.get(&name).map(|(at, what)| Activity {
                    at: at.to_string(),
                    what: what.clone(),
                }),
                token_expires,
                token_expired,
                namespace: name,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.learner.cmp(&b.learner));
    Ok(Status {
        class: class.to_owned(),
        rows,
        api_calls: calls.get(),
    })
}
