//! The live path after gathering, shared by the cluster and bundles: snapshot -> facts ->
//! evidence -> verdicts -> report, with known failure modes recognised along the way.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::check::{Evidence, LiveTarget, Mode};
use crate::cluster::Snapshot;
use crate::course::Exercise;
use crate::error::{Diagnostic, Error};
use crate::facts;
use crate::text::clean;
use crate::verdict::{CheckReport, PitfallHit};

/// Judges a snapshot. `source` says where it came from (namespace, or bundle file).
pub fn judge(exercise: &Exercise, snapshot: &Snapshot, source: String) -> CheckReport {
    assess(exercise, snapshot, source).0
}

/// Judges a snapshot and returns the facts derived per target on the way, for views that
/// need them too (timeline, predictions, race table) without deriving them again.
pub fn assess(
    exercise: &Exercise,
    snapshot: &Snapshot,
    source: String,
) -> (CheckReport, BTreeMap<String, facts::Facts>) {
    let names = exercise.target_names();
    let mut objects = BTreeMap::new();
    let mut live = BTreeMap::new();
    let mut all_facts = serde_json::Map::new();
    let mut notes: Vec<String> = snapshot.notes.iter().map(|n| clean(n)).collect();
    let mut pitfalls = Vec::new();
    let mut derived = BTreeMap::new();
    for name in &names {
        let f = facts::derive(snapshot, name);
        if let Some(job) = facts::find_job(snapshot, name) {
            objects.insert(
                name.clone(),
                serde_json::to_value(job).expect("job serialises"),
            );
        }
        let uid = f.uid.clone().unwrap_or_default();
        let pods = facts::owned_pods(snapshot, &uid);
        let events = facts::events_for(snapshot, name, &pods);
        let logs = log_lines(snapshot, &pods);
        notes.extend(target_notes(snapshot, name, &f));
        pitfalls.extend(recognise(exercise, &logs, &events, &f));
        let fj = facts::to_json(&f);
        all_facts.insert(name.clone(), fj.clone());
        derived.insert(name.clone(), f);
        live.insert(
            name.clone(),
            LiveTarget {
                pods: pods
                    .iter()
                    .map(|p| serde_json::to_value(p).expect("pod serialises"))
                    .collect(),
                logs,
                events: events
                    .iter()
                    .map(|e| serde_json::to_value(e).expect("event serialises"))
                    .collect(),
                facts: fj,
            },
        );
    }
    let jobs: Vec<Json> = snapshot
        .jobs
        .iter()
        .map(|j| serde_json::to_value(j).expect("job serialises"))
        .collect();
    let needed: Vec<String> = exercise
        .assertions
        .iter()
        .flat_map(|a| a.variables())
        .collect();
    let default_target = names.first().cloned().unwrap_or_default();
    let evidence = Evidence::new(Mode::Live, default_target, objects, live, jobs, &needed);
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !derived.get(*n).is_some_and(|f| f.found))
        .cloned()
        .collect();
    let mut report = judge_all(exercise, &evidence, &missing, source);
    if !missing.is_empty() && exercise.assertions.iter().any(|a| a.needs_run()) {
        report.passed = false;
        notes.push(format!(
            "nothing to judge yet for {}: apply your manifest (`kubectl apply -f {}`) or let kubelab run it (`kubelab run {} --file {}`), then check again",
            missing.join(" and "),
            exercise.file.learner_file,
            exercise.id(),
            exercise.file.learner_file
        ));
        report.pending = missing;
    }
    report.facts = Some(Json::Object(all_facts));
    report.pitfalls = pitfalls;
    report.notes = notes;
    (report, derived)
}

/// Every assertion judged, except those about a run that has not happened: pending.
fn judge_all(
    exercise: &Exercise,
    evidence: &Evidence,
    missing: &[String],
    source: String,
) -> CheckReport {
    let first = exercise
        .file
        .targets
        .first()
        .map_or("", |t| t.name.as_str());
    let verdicts = exercise
        .assertions
        .iter()
        .map(|a| {
            let about = a.target().unwrap_or(first);
            if a.needs_run() && missing.iter().any(|m| m == about) {
                // An assertion about a run never passes, or fails, without the run.
                // Why is said once, in a note; each line only says it waits.
                return a.pending("pending".to_owned());
            }
            a.judge(evidence)
        })
        .collect();
    CheckReport::new(&exercise.file, Mode::Live, source, Vec::new(), verdicts)
}

/// Each pod's log as lines.
fn log_lines(snapshot: &Snapshot, pods: &[&Pod]) -> BTreeMap<String, Vec<String>> {
    pods.iter()
        .map(|p| {
            let pname = p.metadata.name.clone().unwrap_or_default();
            let lines: Vec<String> = snapshot
                .logs
                .get(&pname)
                .map(|cs| {
                    cs.values()
                        .flat_map(|l| l.text.lines().map(str::to_owned).collect::<Vec<_>>())
                        .collect()
                })
                .unwrap_or_default();
            (pname, lines)
        })
        .collect()
}

/// What the learner should know about a target before reading the verdicts: it is missing,
/// its pods are gone, or pods that look like its own were ignored.
fn target_notes(snapshot: &Snapshot, name: &str, f: &facts::Facts) -> Vec<String> {
    let mut notes = Vec::new();
    if !f.found {
        let others: Vec<String> = snapshot
            .jobs
            .iter()
            .filter_map(|j| j.metadata.name.clone())
            .collect();
        notes.push(if others.is_empty() {
            format!(
                "no Job named {name} in namespace {}; there are no Jobs there",
                snapshot.namespace
            )
        } else {
            format!(
                "no Job named {name} in namespace {}; Jobs here: {}",
                snapshot.namespace,
                others.join(", ")
            )
        });
    } else if f.pods == 0 && (f.status_succeeded > 0 || f.status_failed > 0) {
        notes.push(format!(
            "the pods of Job {name} are gone (deleted, or removed by ttlSecondsAfterFinished); pod-level checks have nothing to read"
        ));
    }
    if !f.impostors.is_empty() {
        notes.push(format!(
            "pods that look like {name}'s workers but are not owned by the Job were ignored: {}",
            f.impostors.join(", ")
        ));
    }
    if !f.previous_job_pods.is_empty() {
        notes.push(format!(
            "Job {name} was replaced: pods of an earlier Job with that name were ignored: {}",
            f.previous_job_pods.join(", ")
        ));
    }
    notes
}

/// The exercise's known failure modes seen in a target's logs, Events or container states.
fn recognise(
    exercise: &Exercise,
    logs: &BTreeMap<String, Vec<String>>,
    events: &[&Event],
    f: &facts::Facts,
) -> Vec<PitfallHit> {
    let mut hits = Vec::new();
    for (pitfall, re) in &exercise.pitfalls {
        let in_logs = || {
            logs.iter().find_map(|(pod, lines)| {
                lines
                    .iter()
                    .find(|l| re.is_match(l))
                    .map(|l| (format!("log of pod {pod}"), l.clone()))
            })
        };
        let in_events = || {
            events.iter().find_map(|e| {
                e.message.as_deref().filter(|m| re.is_match(m)).map(|m| {
                    (
                        format!("Event {}", e.reason.as_deref().unwrap_or("")),
                        m.to_owned(),
                    )
                })
            })
        };
        // The last matching container state, as the runs are in order.
        let in_runs = || {
            f.runs
                .iter()
                .flat_map(|r| {
                    [&r.reason, &r.waiting_reason]
                        .into_iter()
                        .flatten()
                        .filter(|t| re.is_match(t))
                        .map(|t| (format!("pod {}", r.pod), t.clone()))
                })
                .last()
        };
        if let Some((seen_in, text)) = in_logs().or_else(in_events).or_else(in_runs) {
            hits.push(PitfallHit {
                id: pitfall.id.clone(),
                seen_in,
                text: clean(&text),
                explanation: pitfall.explanation.clone(),
            });
        }
    }
    hits
}

/// Bundle format version: what `kubelab collect` writes and `check --from` reads.
pub const BUNDLE_VERSION: u32 = 1;
/// Largest bundle kubelab reads.
pub const MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// A saved snapshot, for judging later or elsewhere.
#[derive(Debug, Serialize, Deserialize)]
pub struct Bundle {
    pub kubelab_bundle: u32,
    pub exercise: String,
    /// Who collected it (`kubelab collect --learner`): how a grader tells hand-ins apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learner: Option<String>,
    /// The exercise definition it was collected for ([`exercise_version`]): a bundle made for
    /// an older or changed exercise is not graded as if it were this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_version: Option<String>,
    /// `sha256:` of the snapshot's JSON (with the learner and course version when present):
    /// detects edits (it is a checksum, not a signature).
    pub digest: String,
    pub snapshot: Snapshot,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds serialised JSON straight into the hash: no copy of a large snapshot in memory.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sha256_of_json(value: &impl Serialize) -> String {
    let mut w = HashWriter(Sha256::new());
    serde_json::to_writer(&mut w, value).expect("bundle serialises");
    format!("sha256:{}", hex(&w.0.finalize()))
}

/// The digest of a snapshot alone: what bundles without a learner id carry.
pub fn digest(snapshot: &Snapshot) -> String {
    sha256_of_json(snapshot)
}

/// What a sealed bundle's digest covers, in this order.
#[derive(Serialize)]
struct Sealed<'a> {
    exercise: &'a str,
    learner: &'a Option<String>,
    course_version: &'a Option<String>,
    snapshot: &'a Snapshot,
}

/// The digest a bundle should carry: over the snapshot, and over who and what it claims to be
/// when it says so, so that renaming a hand-in inside the file is detected too.
pub fn bundle_digest(b: &Bundle) -> String {
    if b.learner.is_none() && b.course_version.is_none() {
        return digest(&b.snapshot);
    }
    sha256_of_json(&Sealed {
        exercise: &b.exercise,
        learner: &b.learner,
        course_version: &b.course_version,
        snapshot: &b.snapshot,
    })
}

/// A short fingerprint of what an exercise judges (its targets and assertions), so a bundle
/// records which version of the exercise it was made for.
pub fn exercise_version(exercise: &Exercise) -> String {
    let what = serde_json::json!({
        "id": exercise.id(),
        "targets": exercise.file.targets,
        "assertions": exercise.file.assertions,
    });
    let hex = sha256_hex(&serde_json::to_vec(&what).expect("exercise serialises"));
    hex[..16].to_owned()
}

pub fn bundle(exercise: &Exercise, learner: Option<String>, snapshot: Snapshot) -> Bundle {
    let mut b = Bundle {
        kubelab_bundle: BUNDLE_VERSION,
        exercise: exercise.id().to_owned(),
        learner,
        course_version: Some(exercise_version(exercise)),
        digest: String::new(),
        snapshot,
    };
    b.digest = bundle_digest(&b);
    b
}

/// Reads a bundle: bounded size, known version, intact digest.
pub fn read_bundle(path: &std::path::Path) -> Result<Bundle, Error> {
    let shown = path.display().to_string();
    let bytes = crate::error::read_bounded(path, MAX_BUNDLE_BYTES, "bundle")?;
    // The common case, a well-formed bundle of this version, in one parse; anything else is
    // parsed again step by step to say exactly what is wrong.
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(&bytes)
        && bundle.kubelab_bundle == BUNDLE_VERSION
    {
        return Ok(bundle);
    }
    let head: Json = serde_json::from_slice(&bytes).map_err(|e| {
        let what = if e.is_eof() {
            "is truncated"
        } else {
            "is not valid JSON"
        };
        Error::input(
            Diagnostic::file(&shown, format!("bundle {what}: {e}"))
                .at(e.line(), e.column())
                .with_help("collect it again with `kubelab collect EXERCISE -o FILE`"),
        )
    })?;
    match head.get("kubelab_bundle").and_then(Json::as_u64) {
        Some(v) if v == u64::from(BUNDLE_VERSION) => {}
        Some(v) => {
            return Err(Error::input(
                Diagnostic::file(&shown, format!("bundle format {v} is not supported (this kubelab reads format {BUNDLE_VERSION})"))
                    .field("kubelab_bundle")
                    .with_help("use the kubelab version that collected it, or collect again"),
            ));
        }
        None => {
            return Err(Error::input(
                Diagnostic::file(
                    &shown,
                    "is not a kubelab bundle (no `kubelab_bundle` version)",
                )
                .with_help("bundles are written by `kubelab collect EXERCISE -o FILE`"),
            ));
        }
    }
    let bundle: Bundle = serde_json::from_value(head).map_err(|e| {
        Error::input(
            Diagnostic::file(&shown, format!("bundle content is malformed: {e}"))
                .with_help("collect it again"),
        )
    })?;
    Ok(bundle)
}

/// True when the bundle's snapshot is what was collected.
pub fn intact(bundle: &Bundle) -> bool {
    bundle_digest(bundle) == bundle.digest
}
