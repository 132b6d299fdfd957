//! `grade merge --job`: the parts an Indexed Job's shards wrote to their logs (`parts`), read
//! back from the cluster: one GET of the Job, one LIST of its pods (by the Job's own
//! selector), one bounded log read per completion index, concurrently. Read-only. Every index
//! must have exactly one succeeded pod whose part says it is that index of that many.

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};

use super::gradebook::{self, Gradebook};
use super::parts::{self, MAX_LOG_BYTES};
use crate::cluster::{self, CallCount, Target};
use crate::error::{Diagnostic, Error};

/// The annotation the Job controller puts on an Indexed Job's pods.
const INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// Logs read at once.
const CONCURRENT_LOGS: usize = 8;

/// The gradebooks of the Job's shards in index order, each named after its pod.
pub async fn read(
    target: &Target,
    job_name: &str,
    calls: &CallCount,
) -> Result<Vec<(String, Gradebook)>, Error> {
    let (client, namespace) = cluster::connect(target).await?;
    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
    calls.add();
    let job = jobs.get(job_name).await.map_err(|e| match &e {
        kube::Error::Api(s) if s.code == 404 => Error::Cluster {
            message: format!("there is no Job `{job_name}` in namespace {namespace}"),
            help: Some(format!(
                "kubectl get jobs -n {namespace} lists them; give the namespace with -n"
            )),
        },
        _ => cluster::explain(e, &format!("reading Job {job_name}"), &namespace),
    })?;
    let (completions, selector, container) = shape(&job, &namespace)?;
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    calls.add();
    let listed = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| cluster::explain(e, &format!("listing Job {job_name}'s pods"), &namespace))?;
    let succeeded = succeeded_indexes(&listed.items, &namespace)?;
    let problems = parts::index_problems(completions, &succeeded);
    if !problems.is_empty() {
        return Err(Error::Cluster {
            message: format!(
                "Job {namespace}/{job_name} has no whole set of parts: {}",
                problems.join("; ")
            ),
            help: Some(if finished(&job) {
                "run the Job again (kubectl delete job, then apply it): a merge takes exactly one succeeded pod per index"
                    .into()
            } else {
                format!(
                    "the Job is still running: kubectl wait -n {namespace} --for=condition=Complete job/{job_name}, then merge"
                )
            }),
        });
    }
    let mut by_index = succeeded;
    by_index.sort_by_key(|(_, index)| *index);
    let reads = futures::stream::iter(by_index.into_iter().map(|(pod, index)| {
        let (pods, container, namespace) = (&pods, container.clone(), &namespace);
        async move {
            calls.add();
            let log = read_log(pods, &pod, &container)
                .await
                .map_err(|e| cluster::explain(e, &format!("reading pod {pod}'s log"), namespace))?;
            part_of(&log, &pod, index, completions, namespace)
        }
    }))
    .buffered(CONCURRENT_LOGS)
    .collect::<Vec<_>>()
    .await;
    reads.into_iter().collect()
}

/// The Job's completions, its pods' selector and the container that writes the part.
fn shape(job: &Job, namespace: &str) -> Result<(u32, String, String), Error> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let object = format!("job {namespace}/{name}");
    let spec = job.spec.as_ref();
    if spec.and_then(|s| s.completion_mode.as_deref()) != Some("Indexed") {
        return Err(Error::input(
            Diagnostic::file(
                &object,
                "is not an Indexed Job: its pods carry no shard index",
            )
            .field("spec.completionMode")
            .with_help("run the shards as deploy/grade-job.yaml does (completionMode: Indexed)"),
        ));
    }
    let completions = spec
        .and_then(|s| s.completions)
        .and_then(|c| u32::try_from(c).ok())
        .filter(|c| *c > 0)
        .ok_or_else(|| {
            Error::input(
                Diagnostic::file(&object, "has no completions count").field("spec.completions"),
            )
        })?;
    let selector = spec
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| s.match_labels.as_ref())
        .filter(|labels| !labels.is_empty())
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .ok_or_else(|| {
            Error::input(
                Diagnostic::file(
                    &object,
                    "has no pod selector yet (the Job controller sets it)",
                )
                .field("spec.selector"),
            )
        })?;
    let container = spec
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .map(|c| c.name.clone())
        .unwrap_or_default();
    Ok((completions, selector, container))
}

fn finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        })
}

/// The succeeded pods and the completion index each ran.
fn succeeded_indexes(pods: &[Pod], namespace: &str) -> Result<Vec<(String, u32)>, Error> {
    let succeeded = pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"));
    succeeded
        .map(|p| {
            let name = p.metadata.name.clone().unwrap_or_default();
            let index = p
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(INDEX_ANNOTATION))
                .and_then(|i| i.parse::<u32>().ok())
                .ok_or_else(|| {
                    Error::input(
                        Diagnostic::file(
                            format!("pod {namespace}/{name}"),
                            "carries no completion index",
                        )
                        .field(format!("metadata.annotations[{INDEX_ANNOTATION}]")),
                    )
                })?;
            Ok((name, index))
        })
        .collect()
}

async fn read_log(pods: &Api<Pod>, pod: &str, container: &str) -> Result<String, kube::Error> {
    let params = LogParams {
        container: (!container.is_empty()).then(|| container.to_owned()),
        limit_bytes: Some(MAX_LOG_BYTES as i64),
        ..LogParams::default()
    };
    let stream = pods.log_stream(pod, &params).await?;
    // The server honours limitBytes; this bound holds even if it did not.
    Ok(cluster::read_bounded(stream, MAX_LOG_BYTES)
        .await?
        .text
        .to_string())
}

/// The checked gradebook in one pod's log.
fn part_of(
    log: &str,
    pod: &str,
    index: u32,
    completions: u32,
    namespace: &str,
) -> Result<(String, Gradebook), Error> {
    let object = format!("pod {namespace}/{pod} (index {index})");
    let part = parts::decode(log).map_err(|e| {
        Error::input(Diagnostic::file(&object, e.to_string()).with_help(format!(
            "kubectl logs -n {namespace} {pod} shows what the shard wrote"
        )))
    })?;
    if part.shard.index != index || part.shard.count != completions {
        return Err(Error::input(Diagnostic::file(
            &object,
            format!(
                "its part is shard {}, but the pod ran index {index} of {completions}: the Job's `--shard` and its completions disagree",
                part.shard
            ),
        ).with_help("use --shard=$(JOB_COMPLETION_INDEX)/N with N the Job's completions")));
    }
    let book = gradebook::parse(&part.json, &object)?;
    Ok((object, book))
}
