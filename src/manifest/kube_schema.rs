//! Offline Kubernetes schemas, generated from k8s-openapi's `schemars` feature with its two gaps
//! closed: objects are closed (`additionalProperties: false`, so a misspelt field is an error,
//! as with `kubectl apply --validate=strict`) and the enumerated string fields carry their enums.
//! Rules the API server enforces beyond the schema (a Job template's restartPolicy) are in
//! [`super::rules`].

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use schemars::JsonSchema;
use serde_json::{Value as Json, json};

use crate::schema::Schema;

/// Kinds kubelab validates offline, by `apiVersion` and `kind`.
pub const KINDS: &[(&str, &str)] = &[
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "Pod"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "Namespace"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"),
];

/// String fields whose values the Kubernetes API enumerates, by schema definition and
/// property. The generated schemas only describe them in prose.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "io.k8s.api.batch.v1.JobSpec",
        "completionMode",
        &["NonIndexed", "Indexed"],
    ),
    (
        "io.k8s.api.batch.v1.JobSpec",
        "podReplacementPolicy",
        &["TerminatingOrFailed", "Failed"],
    ),
    (
        "io.k8s.api.batch.v1.CronJobSpec",
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace"],
    ),
    (
        "io.k8s.api.batch.v1.PodFailurePolicyRule",
        "action",
        &["FailJob", "FailIndex", "Ignore", "Count"],
    ),
    (
        "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
        "operator",
        &["In", "NotIn"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "preemptionPolicy",
        &["PreemptLowerPriority", "Never"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "imagePullPolicy",
        &["Always", "Never", "IfNotPresent"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
    ),
    ("io.k8s.api.core.v1.Container", "restartPolicy", &["Always"]),
    (
        "io.k8s.api.core.v1.ContainerPort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "io.k8s.api.core.v1.ServicePort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "operator",
        &["Exists", "Equal"],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    ),
];

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/// A Kubernetes quantity written as a string: `500m`, `256Mi`, `1.5`, `1e3`.
const QUANTITY_PATTERN: &str =
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$";

fn generate<T: JsonSchema>() -> Json {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    serde_json::to_value(generator.into_root_schema_for::<T>()).expect("schemas serialise")
}

/// The generated schema for a kind, with its gaps closed.
pub fn schema_json(api_version: &str, kind: &str) -> Option<Json> {
    use k8s_openapi::api::{apps, batch, core};
    let mut raw = match (api_version, kind) {
        ("batch/v1", "Job") => generate::<batch::v1::Job>(),
        ("batch/v1", "CronJob") => generate::<batch::v1::CronJob>(),
        ("v1", "Pod") => generate::<core::v1::Pod>(),
        ("v1", "ConfigMap") => generate::<core::v1::ConfigMap>(),
        ("v1", "Secret") => generate::<core::v1::Secret>(),
        ("v1", "Service") => generate::<core::v1::Service>(),
        ("v1", "Namespace") => generate::<core::v1::Namespace>(),
        ("v1", "PersistentVolumeClaim") => generate::<core::v1::PersistentVolumeClaim>(),
        ("apps/v1", "Deployment") => generate::<apps::v1::Deployment>(),
        _ => return None,
    };
    close_gaps(&mut raw, api_version, kind);
    strip_descriptions(&mut raw);
    Some(raw)
}

/// Descriptions are most of the generated text and play no part in validation.
fn strip_descriptions(v: &mut Json) {
    match v {
        Json::Object(map) => {
            if map.get("description").is_some_and(Json::is_string) {
                map.remove("description");
            }
            map.values_mut().for_each(strip_descriptions);
        }
        Json::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

/// File name of a kind's schema in `checks/schemas/kubernetes/`.
pub fn file_name(api_version: &str, kind: &str) -> String {
    format!("{}.{kind}.json", api_version.replace('/', "."))
}

/// The shipped schema text, embedded at build time: generating it costs more than the whole
/// rest of a check. `tests/course_cli.rs` proves the shipped files equal what
/// [`schema_json`] generates (`kubelab schemas --write` refreshes them).
fn embedded(api_version: &str, kind: &str) -> Option<&'static str> {
    macro_rules! shipped {
        ($file:literal) => {
            include_str!(concat!("../../checks/schemas/kubernetes/", $file))
        };
    }
    Some(match (api_version, kind) {
        ("batch/v1", "Job") => shipped!("batch.v1.Job.json"),
        ("batch/v1", "CronJob") => shipped!("batch.v1.CronJob.json"),
        ("v1", "Pod") => shipped!("v1.Pod.json"),
        ("v1", "ConfigMap") => shipped!("v1.ConfigMap.json"),
        ("v1", "Secret") => shipped!("v1.Secret.json"),
        ("v1", "Service") => shipped!("v1.Service.json"),
        ("v1", "Namespace") => shipped!("v1.Namespace.json"),
        ("v1", "PersistentVolumeClaim") => shipped!("v1.PersistentVolumeClaim.json"),
        ("apps/v1", "Deployment") => shipped!("apps.v1.Deployment.json"),
        _ => return None,
    })
}

fn close_gaps(root: &mut Json, api_version: &str, kind: &str) {
    if let Some(props) = root.get_mut("properties").and_then(Json::as_object_mut) {
        props.insert("apiVersion".into(), json!({"const": api_version}));
        props.insert("kind".into(), json!({"const": kind}));
    }
    if let Some(req) = root.get_mut("required").and_then(Json::as_array_mut) {
        for f in ["apiVersion", "kind"] {
            if !req.iter().any(|r| r == f) {
                req.push(json!(f));
            }
        }
    }
    // `status` is written by the cluster; manifests may carry it (kubectl get -o yaml) but it is
    // not checked strictly.
    if let Some(props) = root.get_mut("properties").and_then(Json::as_object_mut)
        && props.contains_key("status")
    {
        props.insert("status".into(), json!({"type": "object"}));
    }
    close_objects(root);
    bound_integers(root);
    if let Some(defs) = root.get_mut("$defs").and_then(Json::as_object_mut) {
        for (def, prop, values) in ENUMS {
            if values.is_empty() {
                continue;
            }
            if let Some(p) = defs
                .get_mut(*def)
                .and_then(|d| d.get_mut("properties"))
                .and_then(|p| p.get_mut(*prop))
                .and_then(Json::as_object_mut)
            {
                p.insert("enum".into(), json!(values));
            }
        }
        if let Some(q) = defs.get_mut(QUANTITY).and_then(Json::as_object_mut) {
            q.insert(
                "anyOf".into(),
                json!([{"type": "number"}, {"type": "string", "pattern": QUANTITY_PATTERN}]),
            );
        }
        for def in defs.values_mut() {
            if def.get("x-kubernetes-int-or-string") == Some(&json!(true))
                && def.get("anyOf").is_none()
            {
                def.as_object_mut()
                    .expect("definitions are objects")
                    .insert("type".into(), json!(["integer", "string"]));
            }
        }
        // Counts are never negative; the API server refuses them.
        for (def, props) in [(
            "io.k8s.api.batch.v1.JobSpec",
            &[
                "parallelism",
                "completions",
                "backoffLimit",
                "activeDeadlineSeconds",
                "ttlSecondsAfterFinished",
                "backoffLimitPerIndex",
                "maxFailedIndexes",
            ][..],
        )] {
            for prop in props {
                if let Some(p) = defs
                    .get_mut(def)
                    .and_then(|d| d.get_mut("properties"))
                    .and_then(|p| p.get_mut(*prop))
                    .and_then(Json::as_object_mut)
                {
                    p.insert("minimum".into(), json!(0));
                }
            }
        }
    }
}

/// Gives `int32` and `int64` fields their range: the API server cannot decode a number
/// outside it ("json: cannot unmarshal number 2147483648 into Go struct field").
fn bound_integers(v: &mut Json) {
    match v {
        Json::Object(map) => {
            let range = match map.get("format").and_then(Json::as_str) {
                Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                Some("int64") => Some((json!(i64::MIN), json!(i64::MAX))),
                _ => None,
            };
            if let Some((min, max)) = range {
                map.entry("minimum").or_insert(min);
                map.entry("maximum").or_insert(max);
            }
            for (k, child) in map.iter_mut() {
                if k != "description" && k != "examples" && k != "default" && k != "enum" {
                    bound_integers(child);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Sets `additionalProperties: false` on every object schema that lists its properties and
/// says nothing about others.
fn close_objects(v: &mut Json) {
    match v {
        Json::Object(map) => {
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !map.contains_key("x-kubernetes-preserve-unknown-fields")
            {
                map.insert("additionalProperties".into(), Json::Bool(false));
            }
            for (k, child) in map.iter_mut() {
                // Descriptions and examples are data, not schemas.
                if k != "description" && k != "examples" && k != "default" && k != "enum" {
                    close_objects(child);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// The compiled schema of a kind, built on first use and kept for the process.
pub fn schema_for(api_version: &str, kind: &str) -> Option<&'static Schema> {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), &'static Schema>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (api_version.to_owned(), kind.to_owned());
    if let Some(s) = cache.lock().expect("schema cache").get(&key) {
        return Some(s);
    }
    let raw: Json = serde_json::from_str(embedded(api_version, kind)?)
        .expect("shipped Kubernetes schemas are valid JSON");
    // Leaked once per kind: at most the handful in KINDS, alive for the whole process.
    let compiled: &'static Schema = Box::leak(Box::new(Schema::compile(raw)));
    cache.lock().expect("schema cache").insert(key, compiled);
    Some(compiled)
}
