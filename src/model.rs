//! The course file format, field by field. The JSON Schemas in `checks/schemas/` are generated
//! from these types (`kubelab schemas --write`), so the documentation an author's editor shows
//! is the documentation written here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A unit of the course: `units/NN-name/unit.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitFile {
    /// Stable id, lower-case words joined by `-`: `parallel-processing`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// The unit's number in the course, used for ordering: `3`.
    pub number: u32,
    /// Title shown in listings and the book.
    pub title: String,
    /// One paragraph saying what the unit is about (Markdown).
    #[serde(default)]
    pub summary: String,
    /// What the learner can do after the unit.
    #[serde(default)]
    pub objectives: Vec<String>,
    /// Questions to think about before starting.
    #[serde(default)]
    pub reflection: Vec<String>,
    /// Design questions to think about after the exercises.
    #[serde(default)]
    pub design_questions: Vec<String>,
    /// Exercise ids in the order the learner takes them. Each lives in
    /// `<unit folder>/<id>/exercise.yaml`.
    pub exercises: Vec<String>,
    /// Confidence-check statements the learner rates from 1 to 5 at the end of the unit.
    #[serde(default)]
    pub confidence: Vec<ConfidenceStatement>,
}

/// A statement of the unit's confidence check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceStatement {
    /// Id used by exercises' `evidence` lists.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// The statement as the learner reads it: "I can explain the difference between ...".
    pub statement: String,
}

/// What kind of activity an exercise is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExerciseKind {
    /// Run a given manifest and look at what happens.
    Observe,
    /// Write a manifest that meets a specification.
    Build,
    /// Find and fix what is wrong with a given manifest.
    Debug,
    /// A larger open task with success criteria.
    Project,
    /// Questions answered in a learner file.
    Quiz,
}

impl ExerciseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseKind::Observe => "observe",
            ExerciseKind::Build => "build",
            ExerciseKind::Debug => "debug",
            ExerciseKind::Project => "project",
            ExerciseKind::Quiz => "quiz",
        }
    }
}

/// One exercise: `<unit folder>/<id>/exercise.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseFile {
    /// Stable id, unique in the course: `image-processor`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    pub title: String,
    pub kind: ExerciseKind,
    /// Points for the whole exercise, shared among its assertions by their weights.
    pub points: u32,
    /// What the learner reads (Markdown).
    pub instructions: String,
    /// Questions asked before running, compared with what was measured afterwards.
    #[serde(default)]
    pub predictions: Vec<Prediction>,
    /// Reference manifests, relative to the exercise folder. `kubelab lint` proves they pass
    /// every offline check of this exercise.
    #[serde(default)]
    pub reference: Vec<String>,
    /// Manifests handed to the learner as a starting point, relative to the exercise folder.
    /// They may be broken on purpose (debug exercises); lint does not require them to pass.
    #[serde(default)]
    pub given: Vec<String>,
    /// The file name the learner writes: `image-processor.yaml`.
    pub learner_file: String,
    /// The objects this exercise is about; assertions name them by `name` (default: the first).
    #[serde(default)]
    pub targets: Vec<Target>,
    /// Confidence statements (ids from the unit) this exercise gives evidence for.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Hints, revealed one at a time by `kubelab hint`.
    #[serde(default)]
    pub hints: Vec<String>,
    /// The assertions judged offline (on the manifest) and live (on the cluster).
    #[serde(default)]
    pub assertions: Vec<Assertion>,
    /// Explanations shown when a known failure mode is recognised in the learner's work.
    #[serde(default)]
    pub pitfalls: Vec<Pitfall>,
    /// Whether container scripts are linted for busybox `sh` (default true).
    #[serde(default = "yes")]
    pub shell_lint: bool,
    /// Label selector of Jobs this exercise owns besides those `kubelab run` labels, deleted
    /// by `kubelab clean` (e.g. `chapter=jobs` for the race lab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_selector: Option<String>,
    /// Quiz questions (kind `quiz`), answered in the learner file as `question-id: answer`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<Question>,
    /// Real runs of the reference solution, saved by `kubelab collect` (recorded with
    /// `book/record-samples.sh`): the course site shows their timelines and verdicts, and
    /// `kubelab lint` proves each still judges as it says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
}

/// A recorded run shown on the course site.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// The bundle, relative to the exercise folder: `sample.bundle.json`.
    pub bundle: String,
    /// What the reader is looking at (Markdown): "The reference on an idle node."
    pub caption: String,
    /// Whether the run earns every point (default true). A sample can show a failure on
    /// purpose, such as the race on a busy node; lint checks it judges as this says.
    #[serde(default = "yes")]
    pub passes: bool,
}

/// A quiz question with the answers accepted.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// The question as the learner reads it.
    pub prompt: String,
    /// Numeric answers: the accepted range (inclusive). A `unit` of `seconds` also accepts
    /// durations such as `90s` or `1m30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Text answers: the accepted ones (compared without case).
    #[serde(default, rename = "in", skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<String>,
    /// Why, shown after answering, right or wrong.
    pub explanation: String,
    /// Share of the exercise's points (default 1).
    #[serde(default = "one")]
    pub weight: u32,
}

fn yes() -> bool {
    true
}

/// A prediction question.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    pub question: String,
    /// What the answer is compared with after the run.
    pub measure: Measure,
}

/// A measured quantity a prediction is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// The target Job's duration (startTime to completionTime).
    JobDuration,
    /// The highest number of the Job's pods active at once.
    MaxActive,
    /// The highest number of containers running at once.
    MaxRunning,
    /// The number of failed pods.
    FailedPods,
}

/// An object an exercise is about.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Kind of the object; only `Job` is gathered live today.
    #[serde(default = "job_kind")]
    pub kind: String,
    /// `metadata.name` the learner's object must have.
    pub name: String,
}

fn job_kind() -> String {
    "Job".to_owned()
}

/// Where an assertion is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// On the learner's manifest, before it is applied.
    Offline,
    /// On the cluster's state.
    Live,
    /// Both.
    Both,
}

/// One assertion. Exactly one of the check keys (`field`, `label`, `annotation`, `count`,
/// `duration`, `concurrency`, `logs`, `records`, `event`, `deleted`, `expr`, `use`) must be given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// Id, unique within the exercise: `completions`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// Where it is judged; the default depends on the check (spec checks: both; runtime: live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Phase>,
    /// Share of the exercise's points (default 1).
    #[serde(default = "one")]
    pub weight: u32,
    /// Shown when it passes. Placeholders: `{value}`, `{expected}` and the check's own.
    /// Required unless the reusable check (`use`) gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// Shown when it fails; say what was found: "parallelism is {value}; at most 4 allowed".
    /// Required unless the reusable check (`use`) gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
    /// What to try next when it fails.
    pub hint: String,

    /// A field of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldCheck>,
    /// A label of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<KeyCheck>,
    /// An annotation of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<KeyCheck>,
    /// The number of gathered objects of a kind that match a condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<CountCheck>,
    /// How long a Job ran, absolutely or compared with another Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationCheck>,
    /// How many of a Job's pods were active (and running) at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyCheck>,
    /// Pod log lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsCheck>,
    /// Structured result records in pod logs, judged by what they say, not by field names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordsCheck>,
    /// An Event involving the Job or its pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventCheck>,
    /// Objects that must be gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedCheck>,
    /// A CEL expression that must be true. Variables: `object` (the target), `objects`
    /// (all targets by name); live only: `job`, `pods`, `events`, `facts`, `jobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// A CEL expression whose result is shown as `{value}` (with `expr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A reusable check from `checks/` by id.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    /// Parameters of the reusable check.
    #[serde(default, rename = "with", skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, serde_json::Value>,
}

fn one() -> u32 {
    1
}

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

/// Kinds of gathered objects that can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CountKind {
    Pod,
    Job,
    Event,
}

/// Counts gathered objects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountCheck {
    /// What to count: the target Job's pods, the namespace's Jobs, or Events about the Job
    /// and its pods.
    pub kind: CountKind,
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

/// An Event about the Job or its pods.
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
    /// `Job` or `Pod`.
    pub kind: CountKind,
    /// Label selector: `chapter=jobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Target names that must be gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// A known failure mode with its explanation, shown when its pattern is seen.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pitfall {
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// Regular expression on pod logs, Event messages and container waiting/terminated
    /// messages: `sh: syntax error: unexpected "\("`.
    pub pattern: String,
    /// What it means and how to fix it (Markdown).
    pub explanation: String,
}

/// A reusable check: `checks/<id>.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// What it checks, for authors.
    pub description: String,
    /// Parameters and their defaults (a parameter without a default must be given).
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// Where it is judged (default: live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Phase>,
    /// CEL expression that must be true; parameters are in `params`.
    pub expr: String,
    /// CEL expression shown as `{value}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Default texts, used where the assertion gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
}

/// A parameter of a reusable check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
}
