//! The checks an assertion can make, field by field: the comparisons they share, and one
//! struct per check key (`field`, `match`, `condition`, `count`, `logs`...).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::yes;

/// Comparisons shared by checks that look at one value. Give at least one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The value must equal this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
    /// The value must be one of these.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<serde_json::Value>>,
    /// The value must be a number (or quantity) at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The value must be a number (or quantity) at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The value, as text, must match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// `true`: the field must be set; `false`: it must be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
}

/// A field of an object.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldCheck {
    /// Target name (default: the exercise's first target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Dotted path: `spec.template.spec.containers[0].resources.limits.cpu`; `[*]` means every
    /// element (and there must be at least one); `["a.b/c"]` quotes a key with dots.
    pub path: String,
    #[serde(flatten)]
    pub expect: Expect,
}

/// A label or annotation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The key: `type`, `app.kubernetes.io/name`.
    pub key: String,
    /// Check the pod template's metadata instead of the object's own.
    #[serde(default)]
    pub template: bool,
    #[serde(flatten)]
    pub expect: Expect,
}

/// A partial object.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchCheck {
    /// Target (default: the exercise's first target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// What the object must contain: `{spec: {replicas: 3, template: {spec: {containers:
    /// [{image: "busybox:1.35"}]}}}}`. Maps need only the keys given; each list element
    /// given must match a different element of the object's list; `500m` equals `0.5`.
    pub contains: serde_json::Value,
}

/// A status condition.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The condition's type: `Available`, `Progressing`, `Ready`, `Complete`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True` (default), `False` or `Unknown`.
    #[serde(default = "true_status")]
    pub status: String,
    /// The reason it must give: `NewReplicaSetAvailable`, `ProgressDeadlineExceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn true_status() -> String {
    "True".to_owned()
}

/// Counts gathered objects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountCheck {
    /// What to count: `Pod` (the target's pods, or with `selector` the namespace's), `Event`
    /// (Events about the target and its pods), or any other kind in the namespace (`Job`,
    /// `Deployment`, `ConfigMap`...).
    pub kind: String,
    /// Only objects with these labels: `app=web`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// CEL condition on each `item` (e.g. `item.status.phase == "Succeeded"`).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(flatten)]
    pub expect: Expect,
}

/// How long a Job ran (startTime to completionTime).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DurationCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// At least this long: `60s`, `1m30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// At most this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Must have been faster than this other target (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faster_than: Option<String>,
}

/// Observed concurrency of a Job's pods.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Active pods (created, not finished) must never exceed this: what `parallelism` caps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_active: Option<u32>,
    /// At least this many pods must have been active at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_active: Option<u32>,
    /// At least this many containers must have run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_running: Option<u32>,
}

/// Which pods a log check requires to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodQuantifier {
    /// Every pod that ran to completion.
    #[default]
    Every,
    /// At least one pod.
    Any,
}

/// Pod log lines.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Regular expression a line must match; named groups can be used below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// What a matching line is, in the course's words, with one example, for the message
    /// when a pod wrote none: "a line that names the worker (its pod name, hostname or an
    /// id), e.g. `worker=image-processor-x7k2p`".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expects: Option<String>,
    /// Which pods must have matching lines (default: every succeeded pod).
    #[serde(default, rename = "in")]
    pub quantifier: PodQuantifier,
    /// Also require every line of those pods to match `pattern`.
    #[serde(default)]
    pub all_lines: bool,
    /// Number of matching lines per pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Expect>,
    /// This named group's value must differ between pods (each pod identifies itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    /// This named group's values must be consecutive integers from 1, in order, in each pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    /// Matching lines must be JSON objects holding these fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_fields: Vec<String>,
}

/// Structured result records: the machine-readable lines the pods wrote (a JSON object, or at
/// least two `key=value` pairs), whatever field names the learner chose. Give one or more of
/// the requirements; every pod that succeeded must have written at least one record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordsCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The work items: some field must name all of them (`app-3.log`, `dataset-03`, or the
    /// bare index, numbered from 0 or 1), each the same number of times (once, or once per
    /// role such as a severity level), and no pod may name an item twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u32>,
    /// Every record names the worker that wrote it: its pod name, hostname, or its completion
    /// index in a field such as `worker`, `index` or `pod`.
    #[serde(default)]
    pub worker: bool,
    /// The records report at least this many severity levels, as field names (`errors`,
    /// `warnings`) or as values (`ERROR`, `WARN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<u32>,
    /// Failed work items are visible: a record reports a failure (a value such as `invalid`,
    /// `failed`, `error`, `false`), or a pod failed and was retried to completion.
    #[serde(default)]
    pub failures: bool,
}

/// An Event about the target or what belongs to it (its pods, ReplicaSets, Jobs).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The Event's reason: `FailedScheduling`, `BackoffLimitExceeded`.
    pub reason: String,
    /// Regular expression on the message: `Insufficient cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `true` (default): such an Event must exist; `false`: it must not.
    #[serde(default = "yes")]
    pub present: bool,
}

/// Objects that must be gone.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletedCheck {
    /// The kind: `Job`, `Pod`, `Deployment`...
    pub kind: String,
    /// Label selector: `chapter=jobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Target names that must be gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}
