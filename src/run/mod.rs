//! `kubelab run`: the hands-on loop for the learner. Check the manifest offline (refuse when it
//! fails), ask the exercise's predictions, server-side apply its objects with kubelab's labels,
//! watch them until they settle (a Job finished, a rollout complete, a CronJob's first run...)
//! with progress and the pods' logs, then judge, draw the timeline and compare predictions
//! with what was measured. Only objects kubelab labels are created; nothing is deleted unless
//! `--replace` is given, and then only the labelled object being replaced.

mod apply;
mod predict;

use serde_json::Value as Json;

use crate::check::format_duration;
use crate::clean::EXERCISE_LABEL;
use crate::course::Exercise;
use crate::error::Error;

pub use apply::{Applied, RUN_LABEL, appliable, apply, labelled_objects};
pub use predict::{Comparison, ask_predictions, compare, predictions_from_flags};

/// Checks every manifest offline and labels its objects for this run: one heat per file
/// (a rollout is one manifest, then its change). `Ok(Err(report))` is the first failing
/// offline check: nothing is applied then.
pub fn prepare(
    ex: &Exercise,
    sources: &[crate::yaml::Source],
    run_id: &str,
) -> Result<Result<Vec<Vec<Json>>, crate::report::CheckReport>, Error> {
    let mut heats = Vec::new();
    for source in sources {
        let offline = crate::offline::check(ex, source)?;
        if !offline.passed {
            return Ok(Err(offline));
        }
        heats.push(labelled_objects(ex, source, run_id)?);
    }
    Ok(Ok(heats))
}

/// Applies each heat in turn, watching it until it settles while streaming its pods' logs,
/// then gathers the exercise's snapshot. `None` when the learner pressed Ctrl-C: the cluster
/// is left as it is.
pub async fn execute(
    target: &crate::cluster::Target,
    ex: &Exercise,
    heats: &[Vec<Json>],
    limit: jiff::SignedDuration,
    replace: bool,
) -> Result<Option<crate::cluster::Snapshot>, Error> {
    execute_after(target, ex, Vec::new(), heats, limit, replace).await
}

/// An object another exercise's reference makes, which this exercise compares with.
pub struct Prerequisite {
    /// Its kind and name: the Job `slow-sequential`.
    pub kind: crate::kinds::ApiKind,
    pub name: String,
    /// The other exercise's labelled reference objects, run first when it is missing.
    pub heat: Vec<Json>,
}

/// [`execute`], first running each prerequisite whose Job is not in the namespace yet, so that
/// a run can be judged on its own (parallel-processing is compared with slow-sequential).
pub async fn execute_after(
    target: &crate::cluster::Target,
    ex: &Exercise,
    prerequisites: Vec<Prerequisite>,
    heats: &[Vec<Json>],
    limit: jiff::SignedDuration,
    replace: bool,
) -> Result<Option<crate::cluster::Snapshot>, Error> {
    let (client, namespace) = crate::cluster::connect(target).await?;
    let mut all = missing_prerequisites(&client, &namespace, ex, prerequisites).await?;
    all.extend(heats.iter().cloned());
    for heat in &all {
        let applied = apply(&client, &namespace, heat, replace).await?;
        let label = |key: &str| {
            heat.iter()
                .filter_map(|j| j.pointer("/metadata/labels"))
                .find_map(|l| l.get(key).and_then(Json::as_str))
                .unwrap_or_default()
                .to_owned()
        };
        let run = label(RUN_LABEL);
        eprintln!(
            "applied {} in namespace {namespace} (label{} {EXERCISE_LABEL}={}{})",
            applied
                .iter()
                .map(Applied::label)
                .collect::<Vec<_>>()
                .join(", "),
            if run.is_empty() { "" } else { "s" },
            label(EXERCISE_LABEL),
            if run.is_empty() {
                String::new()
            } else {
                format!(", {RUN_LABEL}={run}")
            }
        );
        let selector = format!("{EXERCISE_LABEL}={}", label(EXERCISE_LABEL));
        let redactor = crate::manifest::secret_values(heat);
        if !watch_heat(
            &client, &namespace, ex, &applied, &selector, redactor, limit,
        )
        .await?
        {
            return Ok(None);
        }
    }
    let calls = crate::cluster::CallCount::default();
    crate::cluster::gather(&client, &namespace, &ex.plan, &calls)
        .await
        .map(Some)
}

/// The prerequisites' heats whose Job is not in the namespace yet.
async fn missing_prerequisites(
    client: &kube::Client,
    namespace: &str,
    ex: &Exercise,
    prerequisites: Vec<Prerequisite>,
) -> Result<Vec<Vec<Json>>, Error> {
    let mut all: Vec<Vec<Json>> = Vec::new();
    for p in prerequisites {
        let ar = p.kind.api_resource();
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(client.clone(), namespace, &ar);
        let what = format!("{} {}", p.kind.kind, p.name);
        let there = api
            .get_opt(&p.name)
            .await
            .map_err(|e| crate::cluster::explain(e, &format!("looking for {what}"), namespace))?
            .is_some();
        if !there {
            eprintln!(
                "{} compares with {what}, which is not in namespace {namespace}: running its reference first",
                ex.id(),
            );
            all.push(p.heat);
        }
    }
    Ok(all)
}

/// Watches one heat until it settles, with its pods' logs; false when the learner pressed
/// Ctrl-C.
async fn watch_heat(
    client: &kube::Client,
    namespace: &str,
    ex: &Exercise,
    applied: &[Applied],
    pods: &str,
    redactor: crate::text::Redactor,
    limit: jiff::SignedDuration,
) -> Result<bool, Error> {
    let started = std::time::Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let logs = tokio::spawn(crate::follow::stream_logs(
        client.clone(),
        namespace.to_owned(),
        pods.to_owned(),
        jiff::Timestamp::now(),
        std::sync::Arc::new(redactor),
        stopped,
    ));
    let awaited: Vec<crate::wait::Awaited> = applied
        .iter()
        .filter_map(|a| {
            Some(crate::wait::Awaited {
                kind: a.kind.known()?,
                name: a.name.clone(),
            })
        })
        .collect();
    tokio::select! {
        r = crate::wait::until_settled(client, namespace, &awaited, limit) => {
            // Give the last lines a moment to arrive.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let _ = stop.send(true);
            let _ = logs.await;
            r?
        }
        _ = tokio::signal::ctrl_c() => {
            eprintln!(
                "\nstopped watching; the cluster is left as it is. Judge later with `kubelab check {}`, clean up with `kubelab clean {}`",
                ex.id(),
                ex.id()
            );
            return Ok(false);
        }
    }
    eprintln!(
        "watched for {}",
        format_duration(jiff::SignedDuration::from_secs_f64(
            started.elapsed().as_secs_f64()
        ))
    );
    Ok(true)
}

/// A fresh id for one run's labels.
pub fn new_run_id() -> String {
    jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S").to_string()
}
