//! The live path after gathering, shared by the cluster and bundles: snapshot -> facts ->
//! evidence -> verdicts -> report, with known failure modes recognised along the way.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::Value as Json;

use crate::check::{Evidence, Found, LiveTarget, Mode, PodLog};
use crate::course::Exercise;
use crate::facts::{self, TargetFacts, relations};
use crate::kinds::Known;
use crate::snapshot::Snapshot;
use crate::target::TargetRef;
use crate::text::clean;
use crate::verdict::{CheckReport, PitfallHit};

/// Judges a snapshot. `source` says where it came from (namespace, or bundle file).
pub fn judge(exercise: &Exercise, snapshot: &Snapshot, source: String) -> CheckReport {
    assess(exercise, snapshot, source).0
}

/// The facts derived per target, by key.
pub type Derived = BTreeMap<String, TargetFacts>;

/// Judges a snapshot and returns the facts derived per target on the way, for views that
/// need them too (timeline, predictions, race table) without deriving them again.
pub fn assess(exercise: &Exercise, snapshot: &Snapshot, source: String) -> (CheckReport, Derived) {
    let targets = exercise.targets();
    let mut objects = BTreeMap::new();
    let mut live = BTreeMap::new();
    let mut notes: Vec<String> = snapshot.notes.iter().map(|n| clean(n)).collect();
    let mut pitfalls = Vec::new();
    let mut derived = BTreeMap::new();
    let mut lost = Vec::new();
    for t in targets {
        let f = facts::derive(snapshot, t);
        let pods = relations::pods_of_target(snapshot, t);
        lost.extend(
            pods.iter()
                .filter_map(|&p| Some((p, facts::node::NodeLost::of(p)?))),
        );
        let events = relations::events_about(snapshot, &relations::related(snapshot, t));
        let logs = pod_logs(snapshot, &pods);
        notes.extend(target_notes(snapshot, t, &f));
        for hit in recognise(exercise, &logs, &events, &f) {
            // Several targets share pods and Events (a Service and its Deployment): say each
            // known problem once.
            if !pitfalls.iter().any(|p: &PitfallHit| p.id == hit.id) {
                pitfalls.push(hit);
            }
        }
        objects.insert(
            t.key.clone(),
            Found {
                objects: relations::objects_of_target(snapshot, t),
                selection: t.selector.is_some(),
                aliases: aliases(targets, t),
            },
        );
        live.insert(
            t.key.clone(),
            LiveTarget {
                pods: pods.iter().map(|p| to_json(*p)).collect(),
                logs,
                events: events.iter().map(|e| to_json(*e)).collect(),
                facts: f.to_json(),
                pods_complete: t.is(Known::Job) || t.is(Known::CronJob),
            },
        );
        derived.insert(t.key.clone(), f);
    }
    let needed: Vec<String> = exercise
        .assertions
        .iter()
        .flat_map(|a| a.variables())
        .collect();
    let default_target = targets.first().map(|t| t.key.clone()).unwrap_or_default();
    let namespace = namespace_objects(exercise, snapshot);
    let worked_on = worked_on(targets, snapshot, &namespace);
    let mut evidence = Evidence::new(
        Mode::Live,
        default_target,
        objects,
        live,
        namespace,
        &needed,
    );
    evidence.worked_on = worked_on;
    let missing = missing_targets(targets, &derived);
    let mut report = judge_all(exercise, &evidence, &missing, source);
    if !missing.is_empty() && exercise.assertions.iter().any(|a| a.needs_run()) {
        report.passed = false;
        notes.push(nothing_yet(exercise, &missing));
        report.pending = missing;
    }
    let lost = node_lost_notes(lost);
    // Their pods look Running, containers ready: the last their kubelet told, not now.
    report.passed &= lost.is_empty();
    notes.extend(lost);
    report.facts = Some(derived.clone());
    report.pitfalls = pitfalls;
    report.notes = notes;
    (report, derived)
}

/// The targets not found in the namespace, by key.
fn missing_targets(targets: &[TargetRef], derived: &Derived) -> Vec<String> {
    targets
        .iter()
        .filter(|t| !derived.get(&t.key).is_some_and(TargetFacts::found))
        .map(|t| t.key.clone())
        .collect()
}

/// What to do when the targets an exercise judges by their run are not there.
fn nothing_yet(exercise: &Exercise, missing: &[String]) -> String {
    format!(
        "nothing to judge yet for {}: apply your manifest (`kubectl apply -f {}`) or let kubelab run it (`kubelab run {} --file {}`), then check again",
        missing.join(" and "),
        exercise.file.learner_file,
        exercise.id(),
        exercise.file.learner_file
    )
}

/// What to say of the nodes that stopped reporting under the targets' pods: which pods they
/// hold, since when, and that nothing is judged passed meanwhile.
fn node_lost_notes(pods: Vec<(&Pod, facts::node::NodeLost)>) -> Vec<String> {
    // Node, to when its first pod was marked not ready and the pods on it.
    let mut nodes: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (p, lost) in pods {
        let name = p.metadata.name.clone().unwrap_or_default();
        let entry = nodes
            .entry(lost.node)
            .or_insert((lost.since.clone(), Vec::new()));
        // RFC 3339 in UTC: the earliest sorts first.
        entry.0 = entry.0.clone().min(lost.since);
        entry.1.push(name);
    }
    nodes
        .into_iter()
        .map(|(node, (since, mut pods))| {
            pods.sort();
            pods.dedup();
            format!(
                "node {node} stopped reporting (its pods marked not ready since {since}: its kubelet posts no status): {} show{} the last state it told, not what happens now, so this is not judged passed; check again once `kubectl get node {node}` says Ready",
                pods.join(", "),
                if pods.len() == 1 { "s" } else { "" }
            )
        })
        .collect()
}

fn to_json<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_value(v).expect("API objects serialise")
}

/// Other names CEL's `objects` knows a target by: `Kind/name`, and its bare name when no
/// other target has it.
fn aliases(targets: &[TargetRef], t: &TargetRef) -> Vec<String> {
    let Some(name) = &t.name else {
        return Vec::new();
    };
    let mut out = vec![format!("{}/{name}", t.kind.kind)];
    let unique = targets
        .iter()
        .filter(|o| o.name.as_ref() == Some(name))
        .count()
        == 1;
    if unique {
        out.push(name.clone());
    }
    out.retain(|a| *a != t.key);
    out
}

/// Every object listed in the namespace, by kind, for counting and what must be gone.
fn namespace_objects(exercise: &Exercise, s: &Snapshot) -> BTreeMap<String, Vec<Json>> {
    let mut out = BTreeMap::new();
    for k in &exercise.plan.kinds {
        if let Ok(Some(api)) = k.resolve_offline() {
            out.insert(k.kind.clone(), s.objects_of(&api));
        }
    }
    out
}

/// The kinds the learner's work shows were here. For a kind the exercise names targets of
/// (the race's Jobs `oneshot` and `parallel`): one of those objects now, or an Event about one;
/// other exercises' objects of the kind in the same namespace are not this exercise's work.
/// For a kind it names none of: any object of the kind, or an Event about one. Events outlive
/// the objects they tell of (an hour, by default), so a cleanup is seen as work done.
fn worked_on(
    targets: &[TargetRef],
    snapshot: &Snapshot,
    namespace: &BTreeMap<String, Vec<Json>>,
) -> std::collections::BTreeSet<String> {
    namespace
        .iter()
        .filter(|(kind, objects)| {
            let named: Vec<&str> = targets
                .iter()
                .filter(|t| t.kind.kind == **kind)
                .filter_map(|t| t.name.as_deref())
                .collect();
            let ours = |name: Option<&str>| named.is_empty() || named.contains(&name.unwrap_or(""));
            objects
                .iter()
                .any(|o| ours(o.pointer("/metadata/name").and_then(Json::as_str)))
                || snapshot.events.iter().any(|e| {
                    let io = &e.involved_object;
                    io.kind.as_deref() == Some(kind.as_str()) && ours(io.name.as_deref())
                })
        })
        .map(|(kind, _)| kind.clone())
        .collect()
}

/// Every assertion judged, except those about a run that has not happened: pending.
fn judge_all(
    exercise: &Exercise,
    evidence: &Evidence,
    missing: &[String],
    source: String,
) -> CheckReport {
    let first = exercise.targets().first().map_or("", |t| t.key.as_str());
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

/// Each pod's log.
fn pod_logs(snapshot: &Snapshot, pods: &[&Pod]) -> BTreeMap<String, PodLog> {
    pods.iter()
        .map(|p| {
            let pname = p.metadata.name.clone().unwrap_or_default();
            let log = snapshot
                .logs
                .get(&pname)
                .map(|cs| PodLog::new(cs.values().map(|l| l.text.clone())))
                .unwrap_or_default();
            (pname, log)
        })
        .collect()
}

/// The names of the objects of a kind in the snapshot, when it was listed.
fn names_of(s: &Snapshot, t: &TargetRef) -> Option<Vec<String>> {
    let api = t.api.as_ref()?;
    s.has_listed(api).then(|| {
        s.objects_of(api)
            .iter()
            .filter_map(|o| o.pointer("/metadata/name").and_then(Json::as_str))
            .map(str::to_owned)
            .collect()
    })
}

/// What the learner should know about a target before reading the verdicts: it is missing
/// (and what is there instead), its pods are gone, or pods that look like its own were ignored.
fn target_notes(snapshot: &Snapshot, t: &TargetRef, f: &TargetFacts) -> Vec<String> {
    let mut notes = Vec::new();
    let ns = &snapshot.namespace;
    let kind = &t.kind.kind;
    match f {
        TargetFacts::Selection(sel)
            if sel
                .expected
                .is_some_and(|n| n as usize != sel.matched.len())
                || !sel.found =>
        {
            notes.push(format!(
                "expected {} {kind}s labelled {} in namespace {ns}, found {}{}",
                sel.expected.map_or("some".to_owned(), |n| n.to_string()),
                sel.selector,
                sel.matched.len(),
                if sel.matched.is_empty() {
                    String::new()
                } else {
                    format!(": {}", sel.matched.join(", "))
                }
            ))
        }
        _ if !f.found() => {
            let name = t.name.as_deref().unwrap_or("");
            let others = names_of(snapshot, t).unwrap_or_default();
            notes.push(if others.is_empty() {
                format!("no {kind} named {name} in namespace {ns}; there are no {kind}s there")
            } else {
                format!(
                    "no {kind} named {name} in namespace {ns}; {kind}s here: {}",
                    others.join(", ")
                )
            });
        }
        _ => {}
    }
    if let Some(job) = f.job() {
        notes.extend(job_notes(&t.key, job));
    }
    notes
}

fn job_notes(name: &str, f: &facts::JobFacts) -> Vec<String> {
    let mut notes = Vec::new();
    if f.found && f.pods == 0 && (f.status_succeeded > 0 || f.status_failed > 0) {
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
    logs: &BTreeMap<String, PodLog>,
    events: &[&Event],
    f: &TargetFacts,
) -> Vec<PitfallHit> {
    let mut hits = Vec::new();
    let mut reasons = f.reasons();
    // What kubelab itself concluded ("its selector matches no pod") is evidence too.
    reasons.push(("what kubelab found".to_owned(), f.state().to_owned()));
    for (pitfall, re) in &exercise.pitfalls {
        let in_logs = || {
            logs.iter().find_map(|(pod, log)| {
                log.lines()
                    .find(|l| re.is_match(l))
                    .map(|l| (format!("log of pod {pod}"), l.to_owned()))
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
        let in_states = || {
            reasons
                .iter()
                .rev()
                .find(|(_, text)| re.is_match(text))
                .cloned()
        };
        if let Some((seen_in, text)) = in_logs().or_else(in_events).or_else(in_states) {
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
