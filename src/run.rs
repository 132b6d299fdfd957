//! `kubelab run`: the hands-on loop for the learner. Check the manifest offline (refuse when it
//! fails), ask the exercise's predictions, server-side apply its Jobs with kubelab's labels,
//! watch them to the end with progress, then judge, draw the timeline and compare predictions
//! with what was measured. Only objects kubelab labels are created; nothing is deleted unless
//! `--replace` is given, and then only the labelled Job being replaced.

use std::io::{BufRead, IsTerminal, Write};

use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, ValidationDirective};
use serde_json::Value as Json;

use crate::check::{format_duration, parse_duration};
use crate::clean::EXERCISE_LABEL;
use crate::cluster::explain;
use crate::course::Exercise;
use crate::error::Error;
use crate::facts::Facts;
use crate::manifest;
use crate::model::Measure;
use crate::yaml::Source;

/// The label naming one run, so its objects can be told from an earlier run's.
pub const RUN_LABEL: &str = "kubelab.dev/run";

/// A prediction and what was measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    pub question: String,
    pub predicted: String,
    pub measured: String,
    /// How far off, in words: "within 10%", "2x too high".
    pub verdict: String,
}

/// Parses `--predict` values: `ID=VALUE`, or a bare `VALUE` for the first prediction.
pub fn predictions_from_flags(
    ex: &Exercise,
    flags: &[String],
) -> Result<Vec<(String, f64)>, Error> {
    let mut out = Vec::new();
    for f in flags {
        let (id, value) = match f.split_once('=') {
            Some((id, v)) => (id.trim().to_owned(), v.trim()),
            None => match ex.file.predictions.first() {
                Some(p) => (p.id.clone(), f.trim()),
                None => return Err(Error::Usage(format!("{} asks for no predictions", ex.id()))),
            },
        };
        let Some(p) = ex.file.predictions.iter().find(|p| p.id == id) else {
            return Err(Error::Usage(format!(
                "{} has no prediction `{id}` (it has: {})",
                ex.id(),
                ex.file
                    .predictions
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        out.push((id, parse_value(p.measure, value)?));
    }
    Ok(out)
}

fn parse_value(measure: Measure, v: &str) -> Result<f64, Error> {
    match measure {
        Measure::JobDuration => parse_duration(v)
            .map(|d| d.as_secs_f64())
            .map_err(Error::Usage),
        _ => v
            .parse::<f64>()
            .map_err(|_| Error::Usage(format!("`{v}` is not a number"))),
    }
}

/// Asks each prediction on a terminal; Enter skips.
pub fn ask_predictions(ex: &Exercise) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    if ex.file.predictions.is_empty() || !std::io::stdin().is_terminal() {
        return out;
    }
    eprintln!("Predict first (Enter skips):");
    for p in &ex.file.predictions {
        loop {
            eprint!("  {} ", p.question);
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0
                || line.trim().is_empty()
            {
                break;
            }
            match parse_value(p.measure, line.trim()) {
                Ok(v) => {
                    out.push((p.id.clone(), v));
                    break;
                }
                Err(e) => eprintln!("  {e}"),
            }
        }
    }
    out
}

fn measured(measure: Measure, f: &Facts) -> Option<f64> {
    match measure {
        Measure::JobDuration => f.duration_seconds,
        Measure::MaxActive => Some(f.max_active as f64),
        Measure::MaxRunning => Some(f.max_running as f64),
        Measure::FailedPods => Some(f.pods_failed as f64),
    }
}

fn show(measure: Measure, v: f64) -> String {
    match measure {
        Measure::JobDuration => format_duration(jiff::SignedDuration::from_secs_f64(v)),
        _ => crate::check::expr::format_number(v),
    }
}

/// Compares predictions with the facts of the exercise's first target.
pub fn compare(ex: &Exercise, predicted: &[(String, f64)], f: &Facts) -> Vec<Comparison> {
    predicted
        .iter()
        .filter_map(|(id, guess)| {
            let p = ex.file.predictions.iter().find(|p| &p.id == id)?;
            let real = measured(p.measure, f)?;
            let ratio = if real > 0.0 {
                guess / real
            } else {
                f64::INFINITY
            };
            let verdict = if (guess - real).abs() < f64::EPSILON || (0.9..=1.1).contains(&ratio) {
                "spot on (within 10%)".to_owned()
            } else if ratio > 1.0 {
                format!("{:.1}x too high", ratio)
            } else {
                format!("{:.1}x too low", 1.0 / ratio.max(f64::MIN_POSITIVE))
            };
            Some(Comparison {
                question: p.question.clone(),
                predicted: show(p.measure, *guess),
                measured: show(p.measure, real),
                verdict,
            })
        })
        .collect()
}

/// The Jobs of a manifest with kubelab's labels added (on the Job and its pod template).
pub fn labelled_jobs(ex: &Exercise, source: &Source, run_id: &str) -> Result<Vec<Json>, Error> {
    let objects = manifest::parse(source)?;
    let mut jobs = Vec::new();
    for o in objects {
        if o.kind != "Job" {
            return Err(Error::Usage(format!(
                "{} holds a {}: `kubelab run` applies Jobs only; apply other objects with kubectl",
                source.name,
                o.label()
            )));
        }
        let mut j = o.json.clone();
        for labels in ["/metadata", "/spec/template/metadata"] {
            if let Some(meta) = j.pointer_mut(labels).and_then(Json::as_object_mut) {
                let l = meta
                    .entry("labels")
                    .or_insert_with(|| Json::Object(Default::default()));
                if let Some(l) = l.as_object_mut() {
                    l.insert(EXERCISE_LABEL.into(), ex.id().into());
                    l.insert(RUN_LABEL.into(), run_id.into());
                }
            }
        }
        jobs.push(j);
    }
    Ok(jobs)
}

/// Server-side applies the Jobs. An immutable-field rejection is explained; with `replace`
/// the labelled Job is deleted (pods too) and applied again.
pub async fn apply(
    client: &Client,
    namespace: &str,
    jobs: &[Json],
    replace: bool,
) -> Result<Vec<String>, Error> {
    let api: Api<Job> = Api::namespaced(client.clone(), namespace);
    let mut pp = PatchParams::apply("kubelab").force();
    pp.field_validation = Some(ValidationDirective::Strict);
    let mut applied = Vec::new();
    for job in jobs {
        let name = job
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        match api.patch(&name, &pp, &Patch::Apply(job)).await {
            Ok(_) => applied.push(name),
            Err(kube::Error::Api(s)) if s.code == 422 && s.message.contains("immutable") => {
                if !replace {
                    return Err(Error::Cluster {
                        message: format!("the cluster refused to change Job {name}: {}", s.message),
                        help: Some(format!(
                            "a Job's spec (completions, template...) cannot change after it is created: delete it and apply again, or run again with --replace (kubelab deletes the Job {name} it labelled, then applies)"
                        )),
                    });
                }
                let existing = api
                    .get(&name)
                    .await
                    .map_err(|e| explain(e, &format!("reading Job {name}"), namespace))?;
                let ours = existing
                    .metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(EXERCISE_LABEL));
                if !ours {
                    return Err(Error::Cluster {
                        message: format!(
                            "Job {name} was not created by kubelab, so --replace will not delete it"
                        ),
                        help: Some(format!(
                            "delete it yourself if it is yours: kubectl delete job {name} -n {namespace}"
                        )),
                    });
                }
                match api.delete(&name, &DeleteParams::background()).await {
                    Ok(_) => {}
                    // Already gone: the name is free.
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(explain(e, &format!("deleting Job {name}"), namespace)),
                }
                // The name is free once the old object is gone.
                for _ in 0..60 {
                    if api.get_opt(&name).await.ok().flatten().is_none() {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                api.patch(&name, &pp, &Patch::Apply(job))
                    .await
                    .map_err(|e| explain(e, &format!("applying Job {name}"), namespace))?;
                applied.push(name);
            }
            Err(e) => return Err(explain(e, &format!("applying Job {name}"), namespace)),
        }
    }
    Ok(applied)
}

/// Checks every manifest offline and labels its Jobs for this run. `Ok(Err(report))` is the
/// first failing offline check: nothing is applied then.
pub fn prepare(
    ex: &Exercise,
    sources: &[Source],
    run_id: &str,
) -> Result<Result<Vec<Json>, crate::report::CheckReport>, Error> {
    let mut jobs = Vec::new();
    for source in sources {
        let offline = crate::offline::check(ex, source)?;
        if !offline.passed {
            return Ok(Err(offline));
        }
        jobs.extend(labelled_jobs(ex, source, run_id)?);
    }
    Ok(Ok(jobs))
}

/// Applies each heat of Jobs in turn, watching it to the end while streaming its pods' logs,
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

/// A Job another exercise's reference makes, which this exercise compares with.
pub struct Prerequisite {
    /// The Job that must be there: `slow-sequential`.
    pub job: String,
    /// The other exercise's labelled reference Jobs, run first when the Job is missing.
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
            heat.first()
                .and_then(|j| j.pointer("/metadata/labels"))
                .and_then(|l| l.get(key))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        eprintln!(
            "applied {} in namespace {namespace} (labels {EXERCISE_LABEL}={}, {RUN_LABEL}={})",
            applied.join(", "),
            label(EXERCISE_LABEL),
            label(RUN_LABEL)
        );
        if !watch_heat(&client, &namespace, ex, &applied, limit).await? {
            return Ok(None);
        }
    }
    let calls = crate::cluster::CallCount::default();
    crate::cluster::gather(&client, &namespace, &ex.target_names(), &calls)
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
        let jobs: kube::Api<k8s_openapi::api::batch::v1::Job> =
            kube::Api::namespaced(client.clone(), namespace);
        let there = jobs
            .get_opt(&p.job)
            .await
            .map_err(|e| {
                crate::cluster::explain(e, &format!("looking for Job {}", p.job), namespace)
            })?
            .is_some();
        if !there {
            eprintln!(
                "{} compares with Job {}, which is not in namespace {namespace}: running its reference first",
                ex.id(),
                p.job
            );
            all.push(p.heat);
        }
    }
    Ok(all)
}

/// Watches one heat's Jobs to the end with their logs; false when the learner pressed Ctrl-C.
async fn watch_heat(
    client: &kube::Client,
    namespace: &str,
    ex: &Exercise,
    applied: &[String],
    limit: jiff::SignedDuration,
) -> Result<bool, Error> {
    let started = std::time::Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let logs = tokio::spawn(crate::follow::stream_logs(
        client.clone(),
        namespace.to_owned(),
        applied.to_vec(),
        stopped,
    ));
    tokio::select! {
        r = crate::wait::wait_for_jobs(client, namespace, applied, limit) => {
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
