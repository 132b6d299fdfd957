//! Loading one exercise: its file against the schema, the files it names, its targets, its
//! assertions compiled, its questions and pitfalls; every problem at its JSON pointer.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Exercise, load_typed, relative, schemas};
use crate::check::{self, CompileContext, Compiled};
use crate::error::Diagnostic;
use crate::model::{self, ExerciseFile, UnitFile};
use crate::target::{Plan, TargetRef};
use crate::verdict::Claim;
use crate::yaml;

#[allow(clippy::too_many_arguments)]
pub(super) fn load_exercise(
    root: &Path,
    path: &Path,
    shown: &str,
    listed_id: &str,
    unit: &UnitFile,
    confidence_ids: &[String],
    checks: &BTreeMap<String, check::Reusable>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Exercise> {
    let (file, node, _) = load_typed::<ExerciseFile>(path, shown, &schemas().exercise, diags)?;
    let before = diags.len();
    let at = |pointer: &str, msg: String| {
        Diagnostic::file(shown, msg)
            .at_pos(node.locate(pointer))
            .field(yaml::pointer_to_path(pointer))
    };
    if file.id != listed_id {
        diags.push(at(
            "/id",
            format!(
                "id `{}` differs from its folder name `{listed_id}`",
                file.id
            ),
        ));
    }
    let dir = path.parent().unwrap_or(root).to_path_buf();
    diags.extend(file_problems(root, &dir, &file, &at));
    for (i, ev) in file.evidence.iter().enumerate() {
        if !confidence_ids.contains(ev) {
            diags.push(at(
                &format!("/evidence/{i}"),
                format!(
                    "unit `{}` has no confidence statement `{ev}` (it has: {})",
                    unit.id,
                    confidence_ids.join(", ")
                ),
            ));
        }
    }
    let targets = targets(&file, &at, diags);
    let cx = CompileContext {
        targets: &targets,
        checks,
    };
    let mut assertions = compile_assertions(&file, &cx, &node, &at, diags);
    if let Some(sel) = &file.cleanup_selector
        && let Err(m) = check::parse_selector(sel)
    {
        diags.push(at("/cleanup_selector", m));
    }
    diags.extend(question_problems(&file, &assertions, &at));
    let pitfalls = compile_pitfalls(&file, &at, diags);
    let question_points = share_points(&file, &mut assertions, &at, diags);
    if diags.len() > before {
        return None;
    }
    let plan = plan(&file, targets, &assertions, !pitfalls.is_empty());
    Some(Exercise {
        unit_id: unit.id.clone(),
        unit_title: unit.title.clone(),
        path: shown.to_owned(),
        dir,
        assertions,
        question_points,
        pitfalls,
        plan,
        file,
    })
}

/// The exercise's points as whole points per assertion (set on each) and per question
/// (returned): the author's own `points` kept, the rest shared by weight.
fn share_points(
    file: &ExerciseFile,
    assertions: &mut [Compiled],
    at: &At,
    diags: &mut Vec<Diagnostic>,
) -> Vec<u32> {
    let claims: Vec<Claim> = assertions
        .iter()
        .map(|a| Claim {
            weight: a.weight,
            points: a.fixed_points,
        })
        .chain(file.questions.iter().map(|q| Claim {
            weight: q.weight,
            points: q.points,
        }))
        .collect();
    match crate::verdict::shares(file.points, &claims) {
        Ok(points) => {
            let (ours, questions) = points.split_at(assertions.len());
            for (a, p) in assertions.iter_mut().zip(ours) {
                a.points = *p;
            }
            questions.to_vec()
        }
        Err(m) => {
            diags.push(at("/points", m));
            Vec::new()
        }
    }
}

/// A diagnostic at a JSON pointer of the exercise file.
type At<'a> = dyn Fn(&str, String) -> Diagnostic + 'a;

/// The files an exercise names: references and given manifests inside its folder, and a plain
/// learner file name.
fn file_problems(root: &Path, dir: &Path, file: &ExerciseFile, at: &At) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (list, name) in [(&file.reference, "reference"), (&file.given, "given")] {
        for (i, rel) in list.iter().enumerate() {
            let pointer = format!("/{name}/{i}");
            match yaml::resolve_inside(dir, rel) {
                None => diags.push(at(
                    &pointer,
                    format!("`{rel}` must be a path inside the exercise folder"),
                )),
                Some(p) if !p.is_file() => diags.push(
                    at(&pointer, format!("file not found: {}", relative(root, &p)))
                        .with_help("create it or fix the name"),
                ),
                Some(_) => {}
            }
        }
    }
    if file.learner_file.contains(['/', '\\']) || file.learner_file.starts_with('.') {
        diags.push(at(
            "/learner_file",
            "must be a plain file name such as `my-job.yaml`".to_owned(),
        ));
    }
    diags
}

/// The targets, resolved: each with its kind, name or selector, and key.
fn targets(file: &ExerciseFile, at: &At, diags: &mut Vec<Diagnostic>) -> Vec<TargetRef> {
    match crate::target::resolve(&file.targets) {
        Ok(t) => t,
        Err(problems) => {
            for (i, field, message) in problems {
                diags.push(at(&format!("/targets/{i}/{field}"), message));
            }
            Vec::new()
        }
    }
}

fn compile_assertions(
    file: &ExerciseFile,
    cx: &CompileContext,
    node: &yaml::Node,
    at: &At,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Compiled> {
    let mut assertions = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for (i, a) in file.assertions.iter().enumerate() {
        let base = format!("/assertions/{i}");
        if ids.contains(&a.id.as_str()) {
            diags.push(at(
                &format!("{base}/id"),
                format!("duplicate assertion id `{}`", a.id),
            ));
        }
        ids.push(&a.id);
        match check::compile(a, cx) {
            Ok(c) => assertions.push(c),
            Err(errors) => {
                for e in errors {
                    let mut pointer = format!("{base}{}", e.pointer);
                    // Point at the deepest part of the path that exists.
                    if node.locate(&pointer) == node.locate(&base) && !e.pointer.is_empty() {
                        pointer = base.clone();
                    }
                    diags.push(at(&pointer, e.message));
                }
            }
        }
    }
    assertions
}

/// Questions only in quizzes, each numeric or with accepted answers; and a reference to prove
/// whatever is judged offline.
fn question_problems(file: &ExerciseFile, assertions: &[Compiled], at: &At) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let quiz = file.kind == model::ExerciseKind::Quiz;
    if quiz && file.questions.is_empty() {
        diags.push(at("", "a quiz needs `questions`".to_owned()));
    }
    if !quiz && !file.questions.is_empty() {
        diags.push(at("/questions", "only a quiz has questions".to_owned()));
    }
    for (i, q) in file.questions.iter().enumerate() {
        let numeric = q.min.is_some() || q.max.is_some();
        if numeric != q.one_of.is_empty() {
            diags.push(at(
                &format!("/questions/{i}"),
                "give either `min`/`max` (a number) or `in` (accepted answers)".to_owned(),
            ));
        }
    }
    let judged_offline = quiz || assertions.iter().any(|a| a.phase != model::Phase::Live);
    if file.reference.is_empty() && judged_offline {
        diags.push(at(
            "",
            "has assertions judged offline but no `reference` manifest to prove them".to_owned(),
        ));
    }
    diags
}

fn compile_pitfalls(
    file: &ExerciseFile,
    at: &At,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(model::Pitfall, regex::Regex)> {
    let mut pitfalls = Vec::new();
    for (i, p) in file.pitfalls.iter().enumerate() {
        match regex::Regex::new(&p.pattern) {
            Ok(re) => pitfalls.push((p.clone(), re)),
            Err(e) => diags.push(at(
                &format!("/pitfalls/{i}/pattern"),
                format!(
                    "invalid regular expression: {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ),
            )),
        }
    }
    pitfalls
}

/// What gathering must list and read for this exercise: the targets' kinds and what their
/// facts need, the kinds assertions count, and the logs of every target an assertion (or,
/// with pitfalls, the exercise) reads logs of.
fn plan(
    file: &ExerciseFile,
    targets: Vec<TargetRef>,
    assertions: &[Compiled],
    pitfalls: bool,
) -> Plan {
    let extra: Vec<crate::kinds::KindRef> =
        file.assertions.iter().flat_map(check::kinds_read).collect();
    let mut logs: Vec<String> = assertions
        .iter()
        .filter_map(|a| a.kind.reads_logs_of().map(str::to_owned))
        .collect();
    let cel_reads_logs = assertions
        .iter()
        .any(|a| a.variables().iter().any(|v| v == "logs"));
    if pitfalls || cel_reads_logs {
        logs.extend(targets.iter().map(|t| t.key.clone()));
    }
    Plan::new(targets, &extra, &logs)
}
