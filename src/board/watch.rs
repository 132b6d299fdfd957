//! One watch per kind the graded exercises read, cluster-wide where the grader may, else one
//! per learner namespace; each change to an object (or an Event) in a class namespace sends
//! that namespace to be judged again. No polling: the API server pushes the changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use kube::api::{Api, DynamicObject, ListParams};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc::UnboundedSender;

use crate::cluster::{self, CallCount, Target};
use crate::course::Exercise;
use crate::error::Error;
use crate::kinds::Known;

/// Starts the watches; the future runs them until they end (never, unless the server goes).
pub async fn start(
    target: &Target,
    exercises: &[&Exercise],
    namespaces: BTreeSet<String>,
    changed: UnboundedSender<String>,
    calls: &CallCount,
) -> Result<impl std::future::Future<Output = ()> + use<>, Error> {
    let (client, _) = cluster::connect(target).await?;
    let plan = crate::target::Plan::merge(exercises.iter().map(|e| &e.plan));
    let kinds = cluster::resolve_kinds(&client, &plan.kinds, calls).await?;
    let namespaces = Arc::new(namespaces);
    let mut watches = Vec::new();
    // Secrets are never watched cluster-wide (that would stream every token in the cluster); a
    // change to one shows in the pods that use it.
    for kind in kinds.iter().filter(|k| k.known() != Some(Known::Secret)) {
        let ar = kind.api_resource();
        let everywhere: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        calls.add();
        match everywhere.list(&ListParams::default().limit(1)).await {
            Ok(_) => {
                calls.add();
                watches.push(follow(everywhere, namespaces.clone(), changed.clone()).boxed());
            }
            Err(kube::Error::Api(s)) if s.code == 403 => {
                for ns in namespaces.iter() {
                    calls.add();
                    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
                    watches.push(follow(api, namespaces.clone(), changed.clone()).boxed());
                }
            }
            Err(e) => {
                return Err(cluster::explain(
                    e,
                    &format!("listing {} of every namespace", kind.kind),
                    "(all)",
                ));
            }
        }
    }
    Ok(async move {
        futures::future::join_all(watches).await;
    })
}

/// Sends the namespace of every change after the first full list (which the first grading
/// already judged); after a resync (the watch expired) every object listed counts as changed.
async fn follow(
    api: Api<DynamicObject>,
    namespaces: Arc<BTreeSet<String>>,
    changed: UnboundedSender<String>,
) {
    let stream =
        watcher(api, crate::cluster::watch_config()).backoff(crate::cluster::watch_backoff());
    futures::pin_mut!(stream);
    let mut listed_once = false;
    let mut resyncing = false;
    let mut warned = false;
    while let Some(event) = stream.next().await {
        let object = match event {
            Ok(watcher::Event::Init) => {
                resyncing = listed_once;
                continue;
            }
            Ok(watcher::Event::InitDone) => {
                listed_once = true;
                resyncing = false;
                continue;
            }
            Ok(watcher::Event::InitApply(o)) if resyncing => o,
            Ok(watcher::Event::InitApply(_)) => continue,
            Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o)) => o,
            Err(e) => {
                if !warned {
                    eprintln!(
                        "kubelab: a watch failed and is retried: {}",
                        crate::text::clean(&e.to_string())
                    );
                    warned = true;
                }
                continue;
            }
        };
        if let Some(ns) = object.metadata.namespace
            && namespaces.contains(&ns)
            && changed.send(ns).is_err()
        {
            return;
        }
    }
}
