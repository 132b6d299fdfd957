//! Applying a learner's file: every object labelled (`kubelab.dev/exercise`, and on Jobs and
//! Pods `kubelab.dev/run`) so that `clean` finds exactly what kubelab made, server-side
//! applied in a sensible order (configuration before what consumes it), with the API server's
//! refusals explained. An object whose spec cannot change is replaced only with `--replace`,
//! and only when kubelab labelled it.

use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, ValidationDirective};
use serde_json::Value as Json;

use crate::clean::EXERCISE_LABEL;
use crate::cluster::{CallCount, explain, resolve_kinds};
use crate::course::Exercise;
use crate::error::Error;
use crate::kinds::{ApiKind, KindRef};
use crate::manifest;
use crate::yaml::Source;

/// The label naming one run, so its objects can be told from an earlier run's.
pub const RUN_LABEL: &str = "kubelab.dev/run";

/// Where each kind's pod template keeps its metadata.
const TEMPLATES: &[(&str, &[&str])] = &[
    ("Job", &["/spec/template/metadata"]),
    ("Deployment", &["/spec/template/metadata"]),
    ("ReplicaSet", &["/spec/template/metadata"]),
    ("StatefulSet", &["/spec/template/metadata"]),
    ("DaemonSet", &["/spec/template/metadata"]),
    (
        "CronJob",
        &[
            "/spec/jobTemplate/metadata",
            "/spec/jobTemplate/spec/template/metadata",
        ],
    ),
];

fn add_labels(object: &mut Json, pointer: &str, labels: &[(&str, &str)]) {
    if object.pointer(pointer).is_none()
        && let Some((parent, key)) = pointer.rsplit_once('/')
        && let Some(p) = object.pointer_mut(parent).and_then(Json::as_object_mut)
    {
        p.insert(key.to_owned(), Json::Object(Default::default()));
    }
    if let Some(meta) = object.pointer_mut(pointer).and_then(Json::as_object_mut) {
        let l = meta
            .entry("labels")
            .or_insert_with(|| Json::Object(Default::default()));
        if let Some(l) = l.as_object_mut() {
            for (k, v) in labels {
                l.insert((*k).into(), (*v).into());
            }
        }
    }
}

/// The kinds `run` applies and `clean` finds: the common namespaced kinds, and the kinds the
/// exercise targets.
pub fn appliable(ex: &Exercise) -> Vec<KindRef> {
    let mut out: Vec<KindRef> = crate::clean::STANDARD_KINDS
        .iter()
        .map(|k| KindRef::new(k))
        .collect();
    for t in ex.targets() {
        if !out.iter().any(|k| k.kind == t.kind.kind) {
            out.push(t.kind.clone());
        }
    }
    out
}

/// The objects of a manifest with kubelab's labels added: on each object, on its pod
/// template (the exercise label only: a run label there would make a new Deployment revision
/// every run), and on a Job's or Pod's own pods (the run label too).
pub fn labelled_objects(ex: &Exercise, source: &Source, run_id: &str) -> Result<Vec<Json>, Error> {
    let objects = manifest::parse(source)?;
    let kinds = appliable(ex);
    let mut out = Vec::new();
    for o in objects {
        if !kinds.iter().any(|k| k.kind == o.kind) {
            return Err(Error::Usage(format!(
                "{} holds a {}: `kubelab run` applies {} (what `kubelab clean` can find again); apply a {} with kubectl",
                source.name,
                o.label(),
                kinds
                    .iter()
                    .map(|k| format!("{}s", k.kind))
                    .collect::<Vec<_>>()
                    .join(", "),
                o.kind
            )));
        }
        let mut j = o.json.clone();
        let runs_once = matches!(o.kind.as_str(), "Job" | "Pod");
        let own: &[(&str, &str)] = if runs_once {
            &[(EXERCISE_LABEL, ex.id()), (RUN_LABEL, run_id)]
        } else {
            &[(EXERCISE_LABEL, ex.id())]
        };
        add_labels(&mut j, "/metadata", own);
        if let Some((_, pointers)) = TEMPLATES.iter().find(|(k, _)| *k == o.kind) {
            let template: &[(&str, &str)] = if o.kind == "Job" {
                own
            } else {
                &[(EXERCISE_LABEL, ex.id())]
            };
            for p in *pointers {
                add_labels(&mut j, p, template);
            }
        }
        out.push(j);
    }
    Ok(out)
}

/// Configuration first, then what exposes pods, then what runs them: a pod never starts
/// before the ConfigMap it reads.
fn order(kind: &str) -> u8 {
    match kind {
        "ServiceAccount" | "Role" | "RoleBinding" => 0,
        "ConfigMap" | "Secret" | "PersistentVolumeClaim" => 1,
        "Service" => 2,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Pod" | "Job" | "CronJob" => 3,
        _ => 4,
    }
}

fn text<'a>(o: &'a Json, pointer: &str) -> &'a str {
    o.pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_default()
}

/// One object applied: its kind and name.
#[derive(Debug, Clone)]
pub struct Applied {
    pub kind: ApiKind,
    pub name: String,
}

impl Applied {
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind.kind, self.name)
    }
}

/// Server-side applies the objects, in order. An immutable-field rejection is explained;
/// with `replace` the labelled object is deleted (what it owns too) and applied again.
pub async fn apply(
    client: &Client,
    namespace: &str,
    objects: &[Json],
    replace: bool,
) -> Result<Vec<Applied>, Error> {
    let mut sorted: Vec<&Json> = objects.iter().collect();
    sorted.sort_by_key(|o| order(text(o, "/kind")));
    let refs: Vec<KindRef> = sorted
        .iter()
        .map(|o| KindRef {
            kind: text(o, "/kind").to_owned(),
            api_version: Some(text(o, "/apiVersion").to_owned()),
        })
        .collect();
    let kinds = resolve_kinds(client, &refs, &CallCount::default()).await?;
    let mut pp = PatchParams::apply("kubelab").force();
    pp.field_validation = Some(ValidationDirective::Strict);
    let mut applied = Vec::new();
    for (object, kind) in sorted.into_iter().zip(kinds) {
        let name = text(object, "/metadata/name").to_owned();
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &kind.api_resource());
        let what = format!("{} {name}", kind.kind);
        match api.patch(&name, &pp, &Patch::Apply(object)).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 422 && s.message.contains("immutable") => {
                if !replace {
                    return Err(Error::Cluster {
                        message: format!("the cluster refused to change {what}: {}", s.message),
                        help: Some(format!(
                            "some fields cannot change after an object is created (a Job's completions and template, a Deployment's selector): delete it and apply again, or run again with --replace (kubelab deletes the {what} it labelled, then applies)"
                        )),
                    });
                }
                replace_labelled(&api, namespace, &what, &name).await?;
                api.patch(&name, &pp, &Patch::Apply(object))
                    .await
                    .map_err(|e| explain(e, &format!("applying {what}"), namespace))?;
            }
            Err(e) => return Err(explain(e, &format!("applying {what}"), namespace)),
        }
        applied.push(Applied { kind, name });
    }
    Ok(applied)
}

/// Deletes an object kubelab labelled (never one it did not), and waits until its name is free.
async fn replace_labelled(
    api: &Api<DynamicObject>,
    namespace: &str,
    what: &str,
    name: &str,
) -> Result<(), Error> {
    let existing = api
        .get(name)
        .await
        .map_err(|e| explain(e, &format!("reading {what}"), namespace))?;
    let ours = existing
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(EXERCISE_LABEL));
    if !ours {
        return Err(Error::Cluster {
            message: format!("{what} was not created by kubelab, so --replace will not delete it"),
            help: Some(format!(
                "delete it yourself if it is yours: kubectl delete {} -n {namespace}",
                what.to_lowercase().replacen(' ', "/", 1)
            )),
        });
    }
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => {}
        // Already gone: the name is free.
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => return Err(explain(e, &format!("deleting {what}"), namespace)),
    }
    // The name is free once the old object is gone.
    for _ in 0..60 {
        if api.get_opt(name).await.ok().flatten().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Ok(())
}
