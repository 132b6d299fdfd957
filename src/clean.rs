//! `kubelab clean`: deletes only objects kubelab labelled (`kubelab.dev/exercise`) or that an
//! exercise declares as its own (`cleanup_selector`, e.g. the race lab's `chapter=jobs`), of
//! every kind `run` applies, with background propagation so what they own (pods, ReplicaSets,
//! Jobs) goes too. Each deletion is preconditioned on the uid that was listed, so an object
//! replaced in the meantime is never deleted by mistake.

use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Preconditions};

use crate::check::parse_selector;
use crate::cluster::{CallCount, explain, resolve_kinds};
use crate::error::Error;
use crate::kinds::KindRef;
use crate::selector::Selector;

/// The label `kubelab run` puts on everything it creates.
pub const EXERCISE_LABEL: &str = "kubelab.dev/exercise";

/// The kinds `run` applies besides an exercise's own target kinds, and so `clean` looks for.
/// What these own (ReplicaSets, a CronJob's Jobs, pods) goes with them.
pub const STANDARD_KINDS: &[&str] = &[
    "Pod",
    "Job",
    "CronJob",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "PersistentVolumeClaim",
];

/// What to delete: label selectors, each a list of `key=value` (or `key` for "exists").
pub fn selectors(exercise: Option<(&str, Option<&str>)>) -> Result<Vec<String>, Error> {
    match exercise {
        None => Ok(vec![EXERCISE_LABEL.to_owned()]),
        Some((id, extra)) => {
            let mut v = vec![format!("{EXERCISE_LABEL}={id}")];
            if let Some(sel) = extra {
                parse_selector(sel).map_err(Error::Usage)?;
                v.push(sel.to_owned());
            }
            Ok(v)
        }
    }
}

/// One object deleted (or, dry, that would be).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cleaned {
    pub kind: String,
    pub name: String,
}

/// Deletes (or with `dry_run`, lists) the matching objects of these kinds; returns them.
pub async fn clean(
    client: &Client,
    namespace: &str,
    kinds: &[KindRef],
    selectors: &[String],
    dry_run: bool,
) -> Result<Vec<Cleaned>, Error> {
    let kinds = resolve_kinds(client, kinds, &CallCount::default()).await?;
    let mut chosen: Vec<(Api<DynamicObject>, String, DynamicObject)> = Vec::new();
    for kind in &kinds {
        let ar = kind.api_resource();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
        for sel in selectors {
            let parsed = Selector::parse(sel).map_err(Error::Usage)?;
            let listed = match api.list(&ListParams::default().labels(sel)).await {
                Ok(l) => l.items,
                // A kind the cluster does not serve holds nothing of kubelab's.
                Err(kube::Error::Api(s)) if s.code == 404 => continue,
                Err(e) => {
                    return Err(explain(
                        e,
                        &format!("listing {}s labelled {sel}", kind.kind),
                        namespace,
                    ));
                }
            };
            for o in listed {
                // The server filtered by label; check again, so that nothing unlabelled can
                // ever be deleted, whatever the server answered.
                if !parsed.matches(o.metadata.labels.as_ref()) {
                    continue;
                }
                // What a controller owns (a Job's pods carry its template's labels) goes with
                // its owner; deleting it alone would only make the owner replace it.
                let owned = o
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| r.controller == Some(true));
                if owned {
                    continue;
                }
                if !chosen
                    .iter()
                    .any(|(_, _, c)| c.metadata.uid == o.metadata.uid)
                {
                    chosen.push((api.clone(), kind.kind.clone(), o));
                }
            }
        }
    }
    let mut gone = Vec::new();
    for (api, kind, o) in chosen {
        let name = o.metadata.name.clone().unwrap_or_default();
        if !dry_run {
            let dp = DeleteParams::background().preconditions(Preconditions {
                uid: o.metadata.uid.clone(),
                resource_version: None,
            });
            match api.delete(&name, &dp).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => continue,
                Err(e) => {
                    return Err(explain(e, &format!("deleting {kind} {name}"), namespace));
                }
            }
        }
        gone.push(Cleaned { kind, name });
    }
    Ok(gone)
}
