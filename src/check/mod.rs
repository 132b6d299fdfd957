//! Assertions: compiled from the course model when the course loads (regular expressions, CEL,
//! field paths, durations, message placeholders: an author's mistake is a lint error), then
//! judged on [`Evidence`]: the learner's manifest offline, or the cluster snapshot live. The
//! same code judges both, so a verdict means the same thing wherever it came from.

pub mod expr;
pub mod live;
pub mod path;
mod records;

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use serde::Serialize;
use serde_json::Value as Json;

use crate::course::model::{Assertion, CheckFile, CountKind, Expect, Phase, PodQuantifier};
use expr::{Expr, Vars, display, format_number, to_cel};
use path::FieldPath;

/// Where evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Offline,
    Live,
}

/// An assertion ready to judge.
#[derive(Debug)]
pub struct Compiled {
    pub id: String,
    pub phase: Phase,
    pub weight: u32,
    pub pass: String,
    pub fail: String,
    pub hint: String,
    pub kind: Kind,
}

#[derive(Debug)]
pub struct CompiledExpect {
    equals: Option<Json>,
    one_of: Option<Vec<Json>>,
    min: Option<f64>,
    max: Option<f64>,
    matches: Option<Regex>,
    present: Option<bool>,
}

#[derive(Debug)]
pub enum Kind {
    Field {
        object: String,
        path: FieldPath,
        expect: CompiledExpect,
    },
    Key {
        object: String,
        annotation: bool,
        template: bool,
        key: String,
        expect: CompiledExpect,
    },
    Count {
        object: String,
        kind: CountKind,
        filter: Option<Expr>,
        expect: CompiledExpect,
    },
    Duration {
        object: String,
        min: Option<jiff::SignedDuration>,
        max: Option<jiff::SignedDuration>,
        faster_than: Option<String>,
    },
    Concurrency {
        object: String,
        max_active: Option<u32>,
        min_active: Option<u32>,
        min_running: Option<u32>,
    },
    Logs {
        object: String,
        pattern: Option<Regex>,
        quantifier: PodQuantifier,
        all_lines: bool,
        lines: Option<CompiledExpect>,
        unique: Option<String>,
        sequence: Option<String>,
        json_fields: Vec<String>,
    },
    Records {
        object: String,
        check: crate::course::model::RecordsCheck,
    },
    Event {
        object: String,
        reason: String,
        message: Option<Regex>,
        present: bool,
    },
    Deleted {
        kind: CountKind,
        selector: Option<Vec<(String, String)>>,
        names: Vec<String>,
    },
    Expr {
        expr: Arc<Expr>,
        value: Option<Arc<Expr>>,
        params: Json,
    },
}

/// A problem in an assertion, with the JSON pointer below the assertion where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub pointer: String,
    pub message: String,
}

fn err(pointer: &str, message: impl Into<String>) -> CompileError {
    CompileError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// A reusable check's compiled `expr` and `value`, or the failing field and why.
pub type Programs = Result<(Arc<Expr>, Option<Arc<Expr>>), (String, String)>;

/// A reusable check from `checks/`, its expressions compiled on first use and shared by every
/// assertion that uses it.
pub struct Reusable {
    pub file: CheckFile,
    programs: std::sync::OnceLock<Programs>,
}

impl Reusable {
    pub fn new(file: CheckFile) -> Reusable {
        Reusable {
            file,
            programs: std::sync::OnceLock::new(),
        }
    }

    /// The compiled `expr` and `value`, or the failing field and why.
    pub fn programs(&self) -> &Programs {
        self.programs.get_or_init(|| {
            let expr = Expr::compile(&self.file.expr, &[]).map_err(|m| ("expr".to_owned(), m))?;
            let value = match &self.file.value {
                Some(v) => Some(Arc::new(
                    Expr::compile(v, &[]).map_err(|m| ("value".to_owned(), m))?,
                )),
                None => None,
            };
            Ok((Arc::new(expr), value))
        })
    }
}

/// What compiling needs to know about the exercise and course.
pub struct CompileContext<'a> {
    pub targets: &'a [String],
    pub checks: &'a BTreeMap<String, Reusable>,
}

const CHECK_KEYS: &[&str] = &[
    "field",
    "label",
    "annotation",
    "count",
    "duration",
    "concurrency",
    "logs",
    "records",
    "event",
    "deleted",
    "expr",
    "use",
];

pub fn compile(a: &Assertion, cx: &CompileContext) -> Result<Compiled, Vec<CompileError>> {
    let mut errors = Vec::new();
    let given: Vec<&str> = [
        a.field.is_some(),
        a.label.is_some(),
        a.annotation.is_some(),
        a.count.is_some(),
        a.duration.is_some(),
        a.concurrency.is_some(),
        a.logs.is_some(),
        a.records.is_some(),
        a.event.is_some(),
        a.deleted.is_some(),
        a.expr.is_some(),
        a.uses.is_some(),
    ]
    .iter()
    .zip(CHECK_KEYS)
    .filter(|(set, _)| **set)
    .map(|(_, k)| *k)
    .collect();
    if given.len() != 1 {
        let msg = if given.is_empty() {
            format!(
                "no check given; add exactly one of: {}",
                CHECK_KEYS.join(", ")
            )
        } else {
            format!("give exactly one check; found {}", given.join(" and "))
        };
        return Err(vec![err("", msg)]);
    }
    if a.value.is_some() && a.expr.is_none() {
        errors.push(err("/value", "`value` goes with `expr`"));
    }
    if !a.with.is_empty() && a.uses.is_none() {
        errors.push(err("/with", "`with` goes with `use`"));
    }

    let target =
        |object: &Option<String>, pointer: &str, errors: &mut Vec<CompileError>| -> String {
            match object {
                Some(name) => {
                    if !cx.targets.iter().any(|t| t == name) {
                        errors.push(err(
                            pointer,
                            format!(
                                "`{name}` is not one of this exercise's targets ({})",
                                cx.targets.join(", ")
                            ),
                        ));
                    }
                    name.clone()
                }
                None => cx.targets.first().cloned().unwrap_or_default(),
            }
        };
    let needs_target = given[0] != "expr" && given[0] != "use" && given[0] != "deleted";
    if needs_target && cx.targets.is_empty() {
        errors.push(err(
            "",
            "this check needs the exercise to declare `targets`",
        ));
    }

    let mut placeholders: Vec<String> = vec!["value".into(), "expected".into(), "object".into()];
    let mut default_phase = Phase::Live;
    let mut pass = a.pass.clone();
    let mut fail = a.fail.clone();

    let kind = match given[0] {
        "field" => {
            let f = a.field.as_ref().expect("checked above");
            placeholders.push("path".into());
            default_phase = Phase::Both;
            let object = target(&f.object, "/field/object", &mut errors);
            let path = FieldPath::parse(&f.path).map_err(|m| err("/field/path", m));
            let expect = compile_expect(&f.expect, "/field", &mut errors);
            match path {
                Ok(path) => Some(Kind::Field {
                    object,
                    path,
                    expect,
                }),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        }
        k @ ("label" | "annotation") => {
            let c = if k == "label" {
                a.label.as_ref()
            } else {
                a.annotation.as_ref()
            }
            .expect("checked above");
            placeholders.push("key".into());
            default_phase = Phase::Both;
            let object = target(&c.object, &format!("/{k}/object"), &mut errors);
            let expect = compile_expect(&c.expect, &format!("/{k}"), &mut errors);
            Some(Kind::Key {
                object,
                annotation: k == "annotation",
                template: c.template,
                key: c.key.clone(),
                expect,
            })
        }
        "count" => {
            let c = a.count.as_ref().expect("checked above");
            placeholders.push("count".into());
            let object = target(&c.object, "/count/object", &mut errors);
            let filter = c.filter.as_ref().and_then(|f| {
                Expr::compile(f, &["item"])
                    .map_err(|m| errors.push(err("/count/where", m)))
                    .ok()
            });
            let expect = compile_expect(&c.expect, "/count", &mut errors);
            Some(Kind::Count {
                object,
                kind: c.kind,
                filter,
                expect,
            })
        }
        "duration" => {
            let d = a.duration.as_ref().expect("checked above");
            let object = target(&d.object, "/duration/object", &mut errors);
            let parse = |s: &Option<String>, p: &str, errors: &mut Vec<CompileError>| {
                s.as_ref()
                    .and_then(|s| parse_duration(s).map_err(|m| errors.push(err(p, m))).ok())
            };
            let min = parse(&d.min, "/duration/min", &mut errors);
            let max = parse(&d.max, "/duration/max", &mut errors);
            if let Some(other) = &d.faster_than {
                target(&Some(other.clone()), "/duration/faster_than", &mut errors);
                placeholders.push("other".into());
            }
            if d.min.is_none() && d.max.is_none() && d.faster_than.is_none() {
                errors.push(err("/duration", "give `min`, `max` or `faster_than`"));
            }
            Some(Kind::Duration {
                object,
                min,
                max,
                faster_than: d.faster_than.clone(),
            })
        }
        "concurrency" => {
            let c = a.concurrency.as_ref().expect("checked above");
            placeholders.extend(["active".into(), "running".into()]);
            let object = target(&c.object, "/concurrency/object", &mut errors);
            if c.max_active.is_none() && c.min_active.is_none() && c.min_running.is_none() {
                errors.push(err(
                    "/concurrency",
                    "give `max_active`, `min_active` or `min_running`",
                ));
            }
            Some(Kind::Concurrency {
                object,
                max_active: c.max_active,
                min_active: c.min_active,
                min_running: c.min_running,
            })
        }
        "records" => {
            let r = a.records.as_ref().expect("checked above");
            placeholders.extend(["records".into(), "field".into()]);
            let object = target(&r.object, "/records/object", &mut errors);
            if r.items.is_none() && !r.worker && r.levels.is_none() && !r.failures {
                errors.push(err(
                    "/records",
                    "give at least one of `items`, `worker`, `levels`, `failures`",
                ));
            }
            Some(Kind::Records {
                object,
                check: r.clone(),
            })
        }
        "logs" => {
            let l = a.logs.as_ref().expect("checked above");
            placeholders.extend(["pod".into(), "line".into()]);
            let object = target(&l.object, "/logs/object", &mut errors);
            let pattern = l.pattern.as_ref().and_then(|p| {
                Regex::new(p)
                    .map_err(|e| errors.push(err("/logs/pattern", regex_message(&e))))
                    .ok()
            });
            for (name, group) in [("unique", &l.unique), ("sequence", &l.sequence)] {
                if let Some(g) = group {
                    let known = pattern
                        .as_ref()
                        .is_some_and(|p| p.capture_names().flatten().any(|n| n == g));
                    if !known {
                        errors.push(err(
                            &format!("/logs/{name}"),
                            format!("`pattern` has no named group `(?P<{g}>...)`"),
                        ));
                    }
                }
            }
            if pattern.is_none()
                && l.pattern.is_none()
                && l.json_fields.is_empty()
                && l.lines.is_none()
            {
                errors.push(err("/logs", "give `pattern`, `json_fields` or `lines`"));
            }
            let lines = l
                .lines
                .as_ref()
                .map(|e| compile_expect(e, "/logs/lines", &mut errors));
            Some(Kind::Logs {
                object,
                pattern,
                quantifier: l.quantifier,
                all_lines: l.all_lines,
                lines,
                unique: l.unique.clone(),
                sequence: l.sequence.clone(),
                json_fields: l.json_fields.clone(),
            })
        }
        "event" => {
            let e = a.event.as_ref().expect("checked above");
            placeholders.push("message".into());
            let object = target(&e.object, "/event/object", &mut errors);
            let message = e.message.as_ref().and_then(|m| {
                Regex::new(m)
                    .map_err(|x| errors.push(err("/event/message", regex_message(&x))))
                    .ok()
            });
            Some(Kind::Event {
                object,
                reason: e.reason.clone(),
                message,
                present: e.present,
            })
        }
        "deleted" => {
            let d = a.deleted.as_ref().expect("checked above");
            placeholders.push("remaining".into());
            let selector = d.selector.as_ref().and_then(|s| {
                parse_selector(s)
                    .map_err(|m| errors.push(err("/deleted/selector", m)))
                    .ok()
            });
            for n in &d.names {
                target(&Some(n.clone()), "/deleted/names", &mut errors);
            }
            if d.selector.is_none() && d.names.is_empty() {
                errors.push(err("/deleted", "give `selector` or `names`"));
            }
            Some(Kind::Deleted {
                kind: d.kind,
                selector,
                names: d.names.clone(),
            })
        }
        "expr" => {
            let source = a.expr.as_ref().expect("checked above");
            let expr = Expr::compile(source, &[]).map_err(|m| err("/expr", m));
            let value = a.value.as_ref().and_then(|v| {
                Expr::compile(v, &[])
                    .map_err(|m| errors.push(err("/value", m)))
                    .ok()
            });
            match expr {
                Ok(expr) => {
                    default_phase = if expr.live_only || value.as_ref().is_some_and(|v| v.live_only)
                    {
                        Phase::Live
                    } else {
                        Phase::Both
                    };
                    Some(Kind::Expr {
                        expr: Arc::new(expr),
                        value: value.map(Arc::new),
                        params: Json::Object(Default::default()),
                    })
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        }
        "use" => {
            let id = a.uses.as_ref().expect("checked above");
            match cx.checks.get(id) {
                None => {
                    let known: Vec<String> = cx.checks.keys().cloned().collect();
                    let mut m = format!("no reusable check `{id}` in checks/");
                    if let Some(s) = crate::schema::suggest(id, &known) {
                        m.push_str(&format!("; did you mean `{s}`?"));
                    }
                    errors.push(err("/use", m));
                    // Without the check, its default texts are unknown: say nothing more.
                    return Err(errors);
                }
                Some(reusable) => {
                    let check = &reusable.file;
                    let mut params = serde_json::Map::new();
                    for (name, p) in &check.params {
                        match a.with.get(name).or(p.default.as_ref()) {
                            Some(v) => {
                                params.insert(name.clone(), v.clone());
                            }
                            None => errors.push(err(
                                "/with",
                                format!(
                                    "check `{id}` needs the parameter `{name}`: {}",
                                    p.description
                                ),
                            )),
                        }
                        placeholders.push(format!("params.{name}"));
                    }
                    for name in a.with.keys() {
                        if !check.params.contains_key(name) {
                            errors.push(err(
                                &format!("/with/{name}"),
                                format!(
                                    "check `{id}` has no parameter `{name}` (it has: {})",
                                    check.params.keys().cloned().collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                    }
                    pass = pass.or_else(|| check.pass.clone());
                    fail = fail.or_else(|| check.fail.clone());
                    match reusable.programs() {
                        Ok((expr, value)) => {
                            default_phase = check.on.unwrap_or(if expr.live_only {
                                Phase::Live
                            } else {
                                Phase::Both
                            });
                            Some(Kind::Expr {
                                expr: expr.clone(),
                                value: value.clone(),
                                params: Json::Object(params),
                            })
                        }
                        Err((field, m)) => {
                            errors.push(err("/use", format!("check `{id}` {field}: {m}")));
                            None
                        }
                    }
                }
            }
        }
        _ => unreachable!("CHECK_KEYS covers every key"),
    };

    let phase = a.on.unwrap_or(default_phase);
    if let Some(Kind::Expr { expr, .. }) = &kind
        && expr.live_only
        && phase != Phase::Live
    {
        errors.push(err(
                "/on",
                "this expression reads cluster state (job, pods, events, facts, jobs, logs), so it can only be judged live",
            ));
    }
    let runtime = matches!(
        kind,
        Some(
            Kind::Count { .. }
                | Kind::Duration { .. }
                | Kind::Concurrency { .. }
                | Kind::Logs { .. }
                | Kind::Records { .. }
                | Kind::Event { .. }
                | Kind::Deleted { .. }
        )
    );
    if runtime && phase != Phase::Live {
        errors.push(err(
            "/on",
            "this check reads the cluster, so it can only be judged live",
        ));
    }

    let pass = pass.unwrap_or_default();
    if pass.is_empty() {
        errors.push(err("", "missing `pass`: say what passing means"));
    }
    let fail = fail.unwrap_or_default();
    if fail.is_empty() {
        errors.push(err(
            "",
            "missing `fail`: say what was found and what was expected",
        ));
    }
    if a.hint.trim().is_empty() {
        errors.push(err("/hint", "the hint is empty"));
    }
    for (field, text) in [("/pass", &pass), ("/fail", &fail)] {
        if let Err(m) = check_placeholders(text, &placeholders) {
            errors.push(err(field, m));
        }
    }

    match kind {
        Some(kind) if errors.is_empty() => Ok(Compiled {
            id: a.id.clone(),
            phase,
            weight: a.weight,
            pass,
            fail,
            hint: a.hint.clone(),
            kind,
        }),
        _ => Err(errors),
    }
}

fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or("").trim();
    format!("invalid regular expression: {last}")
}

fn compile_expect(e: &Expect, pointer: &str, errors: &mut Vec<CompileError>) -> CompiledExpect {
    if e.equals.is_none()
        && e.one_of.is_none()
        && e.min.is_none()
        && e.max.is_none()
        && e.matches.is_none()
        && e.present.is_none()
    {
        errors.push(err(
            pointer,
            "give at least one of `equals`, `in`, `min`, `max`, `matches`, `present`",
        ));
    }
    if let (Some(min), Some(max)) = (e.min, e.max)
        && min > max
    {
        errors.push(err(
            pointer,
            format!("`min` ({min}) is above `max` ({max})"),
        ));
    }
    let matches = e.matches.as_ref().and_then(|m| {
        Regex::new(m)
            .map_err(|x| errors.push(err(&format!("{pointer}/matches"), regex_message(&x))))
            .ok()
    });
    CompiledExpect {
        equals: e.equals.clone(),
        one_of: e.one_of.clone(),
        min: e.min,
        max: e.max,
        matches,
        present: e.present,
    }
}

/// `60s`, `1m30s`, `2m`, `90`(seconds).
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return Ok(jiff::SignedDuration::from_secs_f64(secs));
    }
    t.parse::<jiff::SignedDuration>()
        .map_err(|_| format!("`{s}` is not a duration; write it like `60s`, `1m30s` or `2m`"))
}

pub fn format_duration(d: jiff::SignedDuration) -> String {
    let total = d.as_secs_f64();
    if total < 60.0 {
        return format!("{}s", format_number((total * 10.0).round() / 10.0));
    }
    let secs = total.round() as i64;
    let (m, s) = (secs / 60, secs % 60);
    if s == 0 {
        format!("{m}m")
    } else {
        format!("{m}m{s}s")
    }
}

/// `a=b,c=d` (equality selectors only; that is what the course uses).
pub fn parse_selector(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split(',')
        .map(|part| {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `key=value`"))?;
            let k = k.trim().trim_end_matches('=');
            let v = v.trim().trim_start_matches('=');
            if k.is_empty() {
                return Err(format!("`{part}` has no key"));
            }
            Ok((k.to_owned(), v.to_owned()))
        })
        .collect()
}

fn check_placeholders(text: &str, allowed: &[String]) -> Result<(), String> {
    for name in placeholder_names(text) {
        if !allowed.contains(&name) {
            return Err(format!(
                "unknown placeholder `{{{name}}}`; this check offers {}",
                allowed
                    .iter()
                    .map(|a| format!("{{{a}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

fn placeholder_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].trim().to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Fills `{name}` placeholders; `{{` is a literal `{`.
pub fn render(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            out.push('{');
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                let name = after[..end].trim();
                match values.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str("(unknown)"),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("}}", "}")
}

// ---------------------------------------------------------------------------------------------
// Judging

/// What a verdict says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not judged here (a live assertion offline); carries no points either way.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: String,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Extra lines of evidence (which pods, which lines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    pub weight: u32,
}

/// The cluster side of the evidence for one target (filled by the live checker).
#[derive(Debug, Clone, Default)]
pub struct LiveTarget {
    /// The Job's pods (owned by it), as API objects.
    pub pods: Vec<Json>,
    /// Pod name to log lines (already bounded and cleaned).
    pub logs: BTreeMap<String, Vec<String>>,
    /// Events involving the Job or its pods.
    pub events: Vec<Json>,
    /// Derived facts (duration, concurrency, counts...) as JSON.
    pub facts: Json,
}

/// Everything an assertion may look at.
pub struct Evidence {
    pub mode: Mode,
    /// Target name to object (manifest object offline, API object live); absent = not found.
    pub objects: BTreeMap<String, Json>,
    pub default_target: String,
    /// Live only: per target.
    pub live: BTreeMap<String, LiveTarget>,
    /// Live only: every Job in the namespace.
    pub jobs: Vec<Json>,
    vars: BTreeMap<String, Vars>,
}

impl Evidence {
    pub fn offline(default_target: String, objects: BTreeMap<String, Json>) -> Evidence {
        Evidence::new(
            Mode::Offline,
            default_target,
            objects,
            BTreeMap::new(),
            Vec::new(),
            &[],
        )
    }

    /// `needed` names the CEL variables the assertions read beyond `object`, `objects` and
    /// `facts`: only those are converted, since a Job with thousands of pods makes large CEL
    /// values.
    pub fn new(
        mode: Mode,
        default_target: String,
        objects: BTreeMap<String, Json>,
        live: BTreeMap<String, LiveTarget>,
        jobs: Vec<Json>,
        needed: &[String],
    ) -> Evidence {
        let wants = |v: &str| needed.iter().any(|n| n == v);
        // CEL values are built once per target here, not once per assertion.
        let objects_cel = to_cel(&Json::Object(
            objects
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
        // Facts of every target by name, for comparisons between Jobs.
        let targets_cel = to_cel(&Json::Object(
            live.iter()
                .map(|(k, t)| (k.clone(), t.facts.clone()))
                .collect(),
        ));
        let jobs_cel = if wants("jobs") {
            to_cel(&Json::Array(jobs.clone()))
        } else {
            kube_cel::cel::Value::Null
        };
        let mut vars = BTreeMap::new();
        let mut names: Vec<&String> = objects.keys().collect();
        if !names.contains(&&default_target) {
            names.push(&default_target);
        }
        for name in names {
            let mut v = Vars::default();
            let object = objects
                .get(name)
                .map(to_cel)
                .unwrap_or(kube_cel::cel::Value::Null);
            v.set("object", object.clone());
            v.set("objects", objects_cel.clone());
            if mode == Mode::Live {
                let empty = LiveTarget::default();
                let t = live.get(name).unwrap_or(&empty);
                v.set("job", object);
                v.set("facts", to_cel(&t.facts));
                v.set("targets", targets_cel.clone());
                if wants("pods") {
                    v.set("pods", to_cel(&Json::Array(t.pods.clone())));
                }
                if wants("events") {
                    v.set("events", to_cel(&Json::Array(t.events.clone())));
                }
                if wants("jobs") {
                    v.set("jobs", jobs_cel.clone());
                }
                if wants("logs") {
                    v.set(
                        "logs",
                        to_cel(&serde_json::to_value(&t.logs).unwrap_or(Json::Null)),
                    );
                }
            }
            vars.insert(name.clone(), v);
        }
        Evidence {
            mode,
            objects,
            default_target,
            live,
            jobs,
            vars,
        }
    }
}

impl Compiled {
    /// The CEL variables this assertion's expressions read.
    pub fn variables(&self) -> Vec<String> {
        match &self.kind {
            Kind::Expr { expr, value, .. } => expr
                .vars
                .iter()
                .chain(value.iter().flat_map(|v| v.vars.iter()))
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The target this assertion is about (None: the exercise's default target, or, for
    /// `deleted`, objects that must be absent).
    pub fn target(&self) -> Option<&str> {
        match &self.kind {
            Kind::Field { object, .. }
            | Kind::Key { object, .. }
            | Kind::Count { object, .. }
            | Kind::Duration { object, .. }
            | Kind::Concurrency { object, .. }
            | Kind::Logs { object, .. }
            | Kind::Records { object, .. }
            | Kind::Event { object, .. } => Some(object),
            Kind::Deleted { .. } | Kind::Expr { .. } => None,
        }
    }

    /// Whether the assertion judges its target's run. Those about what must be gone, or
    /// counting the namespace's Jobs, hold without it (an absent Job is their evidence).
    pub fn needs_run(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Deleted { .. }
                | Kind::Count {
                    kind: CountKind::Job,
                    ..
                }
        )
    }

    pub fn applies(&self, mode: Mode) -> bool {
        matches!(
            (self.phase, mode),
            (Phase::Both, _) | (Phase::Offline, Mode::Offline) | (Phase::Live, Mode::Live)
        )
    }

    pub fn judge(&self, ev: &Evidence) -> Verdict {
        if !self.applies(ev.mode) {
            let message = match ev.mode {
                Mode::Offline => "judged on the cluster, after you apply the manifest",
                Mode::Live => "judged offline, on the manifest",
            };
            return self.verdict(Status::Skipped, message.to_owned(), None, None, Vec::new());
        }
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let outcome = self.evaluate(ev, &mut values);
        let (ok, details) = match outcome {
            Ok(o) => o,
            Err(problem) => {
                // The evidence could not be read this way (e.g. an expression hit a missing
                // field): a failure, explained.
                values
                    .entry("value".into())
                    .or_insert_with(|| "unknown".into());
                (false, vec![problem])
            }
        };
        let text = if ok { &self.pass } else { &self.fail };
        let message = render(text, &values);
        self.verdict(
            if ok { Status::Pass } else { Status::Fail },
            message,
            values.get("value").cloned(),
            values.get("expected").cloned(),
            details,
        )
    }

    /// A verdict left open: not judged, no points either way.
    pub fn pending(&self, message: String) -> Verdict {
        self.verdict(Status::Skipped, message, None, None, Vec::new())
    }

    fn verdict(
        &self,
        status: Status,
        message: String,
        value: Option<String>,
        expected: Option<String>,
        details: Vec<String>,
    ) -> Verdict {
        Verdict {
            id: self.id.clone(),
            hint: (status == Status::Fail).then(|| self.hint.clone()),
            status,
            message,
            value,
            expected,
            details,
            weight: self.weight,
        }
    }

    fn evaluate(
        &self,
        ev: &Evidence,
        values: &mut BTreeMap<String, String>,
    ) -> Result<(bool, Vec<String>), String> {
        match &self.kind {
            Kind::Field {
                object,
                path,
                expect,
            } => {
                values.insert("object".into(), object.clone());
                values.insert("path".into(), path.text.clone());
                values.insert("expected".into(), expect.describe());
                let obj = ev.objects.get(object).ok_or_else(|| missing(object))?;
                let found = path.select(obj);
                let mut details = Vec::new();
                let mut ok = true;
                let mut shown = Vec::new();
                for (p, v) in &found {
                    let good = expect.test(*v);
                    shown.push(show_value(*v));
                    if !good {
                        ok = false;
                        if found.len() > 1 {
                            details.push(format!("{p} is {}", show_value(*v)));
                        }
                    }
                }
                if found.is_empty() {
                    ok = expect.present == Some(false);
                    shown.push("no elements".into());
                }
                values.insert("value".into(), join_unique(&shown));
                Ok((ok, details))
            }
            Kind::Key {
                object,
                annotation,
                template,
                key,
                expect,
            } => {
                values.insert("object".into(), object.clone());
                values.insert("key".into(), key.clone());
                values.insert("expected".into(), expect.describe());
                let obj = ev.objects.get(object).ok_or_else(|| missing(object))?;
                let meta = if *template {
                    obj.pointer("/spec/template/metadata")
                } else {
                    obj.get("metadata")
                };
                let field = if *annotation { "annotations" } else { "labels" };
                let v = meta
                    .and_then(|m| m.get(field))
                    .and_then(|m| m.get(key))
                    .filter(|v| !v.is_null());
                values.insert("value".into(), show_value(v));
                Ok((expect.test(v), Vec::new()))
            }
            Kind::Expr {
                expr,
                value,
                params,
            } => {
                let target = &ev.default_target;
                values.insert("object".into(), target.clone());
                if let Some(p) = params.as_object() {
                    for (k, v) in p {
                        values.insert(format!("params.{k}"), show_value(Some(v)));
                    }
                }
                let mut vars = ev.vars.get(target).cloned().unwrap_or_default();
                vars.set("params", to_cel(params));
                if let Some(value) = value {
                    match value.eval(&vars) {
                        Ok(v) => {
                            values.insert("value".into(), display(&v));
                        }
                        Err(e) => {
                            values.insert("value".into(), "unknown".into());
                            tracing::debug!("value expression: {e}");
                        }
                    }
                }
                let ok = expr.eval_bool(&vars).map_err(|e| explain_cel_error(&e))?;
                Ok((ok, Vec::new()))
            }
            live => live::evaluate(live, ev, values),
        }
    }
}

fn explain_cel_error(e: &str) -> String {
    if e.contains("No such key") || e.contains("NoSuchKey") {
        format!("a field the check reads is not set ({e})")
    } else {
        e.to_owned()
    }
}

pub(crate) fn missing(object: &str) -> String {
    format!("no object named `{object}` was found")
}

fn join_unique(values: &[String]) -> String {
    let mut seen: Vec<&String> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A JSON value as a learner reads it: strings bare, absent as "not set".
pub fn show_value(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => "not set".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n
            .as_f64()
            .map(format_number)
            .unwrap_or_else(|| n.to_string()),
        Some(other) => other.to_string(),
    }
}

impl CompiledExpect {
    pub fn test(&self, v: Option<&Json>) -> bool {
        let v = v.filter(|v| !v.is_null());
        if let Some(want) = self.present
            && v.is_some() != want
        {
            return false;
        }
        let constrained = self.equals.is_some()
            || self.one_of.is_some()
            || self.min.is_some()
            || self.max.is_some()
            || self.matches.is_some();
        let Some(v) = v else {
            return !constrained;
        };
        if let Some(e) = &self.equals
            && !same(v, e)
        {
            return false;
        }
        if let Some(list) = &self.one_of
            && !list.iter().any(|e| same(v, e))
        {
            return false;
        }
        if self.min.is_some() || self.max.is_some() {
            let Some(n) = number(v) else { return false };
            if self.min.is_some_and(|m| n < m) || self.max.is_some_and(|m| n > m) {
                return false;
            }
        }
        if let Some(re) = &self.matches
            && !re.is_match(&show_value(Some(v)))
        {
            return false;
        }
        true
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.equals {
            parts.push(show_value(Some(e)));
        }
        if let Some(list) = &self.one_of {
            parts.push(format!(
                "one of {}",
                list.iter()
                    .map(|v| show_value(Some(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        match (self.min, self.max) {
            (Some(a), Some(b)) => parts.push(format!(
                "between {} and {}",
                format_number(a),
                format_number(b)
            )),
            (Some(a), None) => parts.push(format!("at least {}", format_number(a))),
            (None, Some(b)) => parts.push(format!("at most {}", format_number(b))),
            (None, None) => {}
        }
        if let Some(re) = &self.matches {
            parts.push(format!("matching /{}/", re.as_str()));
        }
        match self.present {
            Some(true) if parts.is_empty() => parts.push("set".into()),
            Some(false) => parts.push("not set".into()),
            _ => {}
        }
        parts.join(" and ")
    }
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A number, or a Kubernetes quantity (`500m`, `256Mi`, `1.5`) as a number.
pub fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => quantity(s),
        _ => None,
    }
}

/// Parses a Kubernetes quantity.
pub fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let base: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(base * factor)
}

/// Where an assertion is judged, for listings.
pub fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Offline => "offline",
        Phase::Live => "live",
        Phase::Both => "offline+live",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("256Mi"), Some(256.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("abc"), None);
    }

    #[test]
    fn placeholders() {
        let mut v = BTreeMap::new();
        v.insert("value".to_owned(), "6".to_owned());
        assert_eq!(
            render("parallelism is {value}; {{literal}}", &v),
            "parallelism is 6; {literal}"
        );
        assert!(check_placeholders("{value} {nope}", &["value".into()]).is_err());
        assert!(check_placeholders("{value} {{x}}", &["value".into()]).is_ok());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap().as_secs(), 60);
        assert_eq!(parse_duration("1m30s").unwrap().as_secs(), 90);
        assert!(parse_duration("soon").is_err());
        assert_eq!(
            format_duration(jiff::SignedDuration::from_secs(90)),
            "1m30s"
        );
    }
}
