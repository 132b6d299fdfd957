//! The course file format, field by field. The JSON Schemas in `checks/schemas/` are generated
//! from these types (`kubelab schemas --write`), so the documentation an author's editor shows
//! is the documentation written here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod checks;
pub use checks::*;

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
    /// Points for the whole exercise, shared among its assertions (or questions) as whole
    /// points: those with `points` of their own keep them, the rest go by `weight`.
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
    /// Share of the exercise's points (default 1): the points not set with `points` are
    /// split by weight into whole points that add up exactly (largest remainder).
    #[serde(default = "one")]
    pub weight: u32,
    /// Whole points for this one, set by the author; the others share the rest by weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
}

pub(crate) fn yes() -> bool {
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
    /// Container restarts of the target's pods, in all.
    Restarts,
    /// Ready replicas of a Deployment (or ready pods of another target).
    ReadyReplicas,
    /// Ready endpoints of a Service.
    ReadyEndpoints,
    /// Revisions (ReplicaSets) a Deployment keeps.
    Revisions,
}

/// An object an exercise is about: one named object, or the objects a label selector picks.
/// Assertions name it by its `id`, its name, or `Kind/name` (needed when two targets share a
/// name, e.g. a Deployment and its Service both called `web`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Kind of the object: `Job` (the default), `Pod`, `Deployment`, `CronJob`, `Service`,
    /// `ConfigMap`, `Secret`, or any kind the cluster serves (give `apiVersion` for a kind
    /// kubelab does not know by name, such as a custom resource).
    #[serde(default = "job_kind")]
    pub kind: String,
    /// `apps/v1`, `example.com/v1`: optional for the kinds kubelab knows; a custom kind is
    /// found through the cluster's discovery.
    #[serde(
        default,
        rename = "apiVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// How assertions name this target (default: its name, or `Kind/name` when another target
    /// shares the name, or `Kind/selector` for a selector target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9./=_-]*$"))]
    pub id: Option<String>,
    /// `metadata.name` the learner's object must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Instead of a name: a label selector (`app=v1`, `tier in (web,api)`) for objects whose
    /// names the learner chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// With `selector`: how many objects it must pick (e.g. 3 Pods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
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

/// One assertion. Exactly one of the check keys (`field`, `match`, `condition`, `label`,
/// `annotation`, `count`, `duration`, `concurrency`, `logs`, `records`, `event`, `deleted`,
/// `expr`, `use`) must be given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// Id, unique within the exercise: `completions`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// Where it is judged; the default depends on the check (spec checks: both; runtime: live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Phase>,
    /// Share of the exercise's points (default 1): the points not set with `points` are
    /// split by weight into whole points that add up exactly (largest remainder).
    #[serde(default = "one")]
    pub weight: u32,
    /// Whole points for this one, set by the author; the others share the rest by weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
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
    /// A partial object the target must contain (maps by key, lists as subsets, quantities
    /// by value), written as in a manifest: a mismatch is shown as the path and both values.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<MatchCheck>,
    /// A condition of the target's `status.conditions` (`Available`, `Ready`, `Complete`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionCheck>,
    /// A label of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<KeyCheck>,
    /// An annotation of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<KeyCheck>,
    /// The number of objects of a kind that match a selector and a condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<CountCheck>,
    /// How long a Job ran, absolutely or compared with another Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationCheck>,
    /// How many of a Job's pods were active (and running) at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyCheck>,
    /// Log lines of the target's pods (a Pod's, a Job's, a Deployment's, a CronJob's Jobs').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsCheck>,
    /// Structured result records in pod logs, judged by what they say, not by field names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordsCheck>,
    /// An Event about the target or what belongs to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventCheck>,
    /// Objects that must be gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedCheck>,
    /// A CEL expression that must be true. Variables: `object` (the target; a list for a
    /// selector target), `objects` (all targets by key); live only: `facts` (the target's
    /// facts, by kind), `targets` (every target's facts by key), `pods`, `events`, `logs`,
    /// `job` (a Job target), `jobs` (the namespace's Jobs).
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

pub(crate) fn one() -> u32 {
    1
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
