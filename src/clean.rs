//! `kubelab clean`: deletes only Jobs kubelab labelled (`kubelab.dev/exercise`) or that an
//! exercise declares as its own (`cleanup_selector`, e.g. the race lab's `chapter=jobs`), with
//! background propagation so their pods go too. Each deletion is preconditioned on the uid that
//! was listed, so an object replaced in the meantime is never deleted by mistake.

use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Preconditions};

use crate::check::parse_selector;
use crate::cluster::explain;
use crate::error::Error;

/// The label `kubelab run` puts on everything it creates.
pub const EXERCISE_LABEL: &str = "kubelab.dev/exercise";

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

fn matches(job: &Job, selector: &str) -> bool {
    let labels = job.metadata.labels.clone().unwrap_or_default();
    selector.split(',').all(|part| match part.split_once('=') {
        Some((k, v)) => labels.get(k.trim()).map(String::as_str) == Some(v.trim()),
        None => labels.contains_key(part.trim()),
    })
}

/// Deletes (or with `dry_run`, lists) the matching Jobs; returns their names.
pub async fn clean(
    client: &Client,
    namespace: &str,
    selectors: &[String],
    dry_run: bool,
) -> Result<Vec<String>, Error> {
    let api: Api<Job> = Api::namespaced(client.clone(), namespace);
    let mut chosen: Vec<Job> = Vec::new();
    for sel in selectors {
        let jobs = api
            .list(&ListParams::default().labels(sel))
            .await
            .map_err(|e| explain(e, &format!("listing Jobs labelled {sel}"), namespace))?
            .items;
        for job in jobs {
            // The server filtered by label; check again, so that nothing unlabelled can ever be
            // deleted, whatever the server answered.
            if !matches(&job, sel) {
                continue;
            }
            if !chosen.iter().any(|c| c.metadata.uid == job.metadata.uid) {
                chosen.push(job);
            }
        }
    }
    let mut gone = Vec::new();
    for job in chosen {
        let name = job.metadata.name.clone().unwrap_or_default();
        if !dry_run {
            let dp = DeleteParams::background().preconditions(Preconditions {
                uid: job.metadata.uid.clone(),
                resource_version: None,
            });
            match api.delete(&name, &dp).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => continue,
                Err(e) => return Err(explain(e, &format!("deleting Job {name}"), namespace)),
            }
        }
        gone.push(name);
    }
    Ok(gone)
}
