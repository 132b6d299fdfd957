//! Assertions: compiled from the course model when the course loads (regular expressions, CEL,
//! field paths, durations, message placeholders: an author's mistake is a lint error), then
//! judged on [`Evidence`]: the learner's manifest offline, or the cluster snapshot live. The
//! same code judges both, so a verdict means the same thing wherever it came from.

pub mod assertions;
mod evidence;
mod expect;
pub mod expr;
pub mod path;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{Assertion, CheckFile, Phase};
use assertions::{CHECKS, Check, Compiling};
use expr::Expr;

pub use crate::text::format_duration;
pub use crate::verdict::{Mode, Status, Verdict};
pub use evidence::{Evidence, Found, LiveTarget, PodLog};
pub use expect::{CompiledExpect, number, quantity, show_value};
pub(crate) use expect::{compile_expect, explain_cel_error, join_unique, missing};

/// An assertion ready to judge.
#[derive(Debug)]
pub struct Compiled {
    pub id: String,
    pub phase: Phase,
    pub weight: u32,
    /// Points set by the author, if any.
    pub fixed_points: Option<u32>,
    /// Whole points it is worth: its share of the exercise's (set when the exercise loads).
    pub points: u32,
    pub pass: String,
    pub fail: String,
    pub hint: String,
    pub kind: Box<dyn Check>,
}

/// A problem in an assertion, with the JSON pointer below the assertion where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub pointer: String,
    pub message: String,
}

pub(crate) fn err(pointer: &str, message: impl Into<String>) -> CompileError {
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
    pub targets: &'a [crate::target::TargetRef],
    pub checks: &'a BTreeMap<String, Reusable>,
}

/// The Kubernetes kinds an assertion reads beyond its target's (counted, or required gone),
/// so that gathering lists them.
pub fn kinds_read(a: &Assertion) -> Vec<crate::kinds::KindRef> {
    let mut out = Vec::new();
    if let Some(c) = &a.count {
        out.push(crate::kinds::KindRef::new(&c.kind));
    }
    if let Some(d) = &a.deleted {
        out.push(crate::kinds::KindRef::new(&d.kind));
    }
    out
}

pub fn compile(a: &Assertion, cx: &CompileContext) -> Result<Compiled, Vec<CompileError>> {
    let given: Vec<_> = CHECKS.iter().filter(|(_, given, _)| given(a)).collect();
    let [(key, _, compile_kind)] = given.as_slice() else {
        let keys: Vec<&str> = CHECKS.iter().map(|(k, _, _)| *k).collect();
        let msg = if given.is_empty() {
            format!("no check given; add exactly one of: {}", keys.join(", "))
        } else {
            let found: Vec<&str> = given.iter().map(|(k, _, _)| *k).collect();
            format!("give exactly one check; found {}", found.join(" and "))
        };
        return Err(vec![err("", msg)]);
    };
    let mut c = Compiling::new(cx, a);
    if a.value.is_some() && a.expr.is_none() {
        c.errors.push(err("/value", "`value` goes with `expr`"));
    }
    if !a.with.is_empty() && a.uses.is_none() {
        c.errors.push(err("/with", "`with` goes with `use`"));
    }
    let needs_target = !matches!(*key, "expr" | "use" | "deleted" | "count");
    if needs_target && cx.targets.is_empty() {
        c.errors.push(err(
            "",
            "this check needs the exercise to declare `targets`",
        ));
    }
    let kind = compile_kind(a, &mut c);
    if c.abort {
        return Err(c.errors);
    }
    let phase = a.on.unwrap_or(c.default_phase);
    if let Some(why) = kind.as_ref().and_then(|k| k.live_only())
        && phase != Phase::Live
    {
        c.errors.push(err("/on", why));
    }
    finish(a, c, kind, phase)
}

/// The texts and hint every assertion needs, checked; then the compiled assertion, or every
/// problem found.
fn finish(
    a: &Assertion,
    mut c: Compiling,
    kind: Option<Box<dyn Check>>,
    phase: Phase,
) -> Result<Compiled, Vec<CompileError>> {
    let pass = c.pass.take().unwrap_or_default();
    if pass.is_empty() {
        c.errors
            .push(err("", "missing `pass`: say what passing means"));
    }
    let fail = c.fail.take().unwrap_or_default();
    if fail.is_empty() {
        c.errors.push(err(
            "",
            "missing `fail`: say what was found and what was expected",
        ));
    }
    if a.hint.trim().is_empty() {
        c.errors.push(err("/hint", "the hint is empty"));
    }
    for (field, text) in [("/pass", &pass), ("/fail", &fail)] {
        if let Err(m) = check_placeholders(text, &c.placeholders) {
            c.errors.push(err(field, m));
        }
    }
    match kind {
        Some(kind) if c.errors.is_empty() => Ok(Compiled {
            id: a.id.clone(),
            phase,
            weight: a.weight,
            fixed_points: a.points,
            points: 0,
            pass,
            fail,
            hint: a.hint.clone(),
            kind,
        }),
        _ => Err(c.errors),
    }
}

pub(crate) fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or("").trim();
    format!("invalid regular expression: {last}")
}

/// `60s`, `1m30s`, `2m`, `90`(seconds).
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        // `1e300`, `inf` and `NaN` parse as numbers but are no duration.
        return jiff::SignedDuration::try_from_secs_f64(secs).map_err(|_| {
            format!(
                "`{s}` is not a duration kubelab can wait for; write it like `60s`, `1m30s` or `2m`"
            )
        });
    }
    t.parse::<jiff::SignedDuration>()
        .map_err(|_| format!("`{s}` is not a duration; write it like `60s`, `1m30s` or `2m`"))
}

/// A label selector, every form Kubernetes accepts (`a=b,c!=d,e in (x,y),f,!g`).
pub fn parse_selector(s: &str) -> Result<crate::selector::Selector, String> {
    crate::selector::Selector::parse(s)
}

fn check_placeholders(text: &str, allowed: &[String]) -> Result<(), String> {
    if let Some(open) = unclosed_brace(text) {
        return Err(format!(
            "the `{{` at character {open} is never closed: write `{{{{` for a literal brace, or close the placeholder with `}}`"
        ));
    }
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

/// The 1-based character position of a `{` that opens a placeholder and is never closed.
fn unclosed_brace(text: &str) -> Option<usize> {
    let mut rest = text;
    let mut consumed = 0;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            consumed += start + 2;
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                consumed += start + 1 + end + 1;
                rest = &after[end + 1..];
            }
            None => return Some(text[..consumed + start].chars().count() + 1),
        }
    }
    None
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

impl Compiled {
    /// The CEL variables this assertion's expressions read.
    pub fn variables(&self) -> Vec<String> {
        self.kind.variables()
    }

    /// The key of the target this assertion is about (None: the exercise's default target,
    /// or, for `deleted`, objects that must be absent).
    pub fn target(&self) -> Option<&str> {
        self.kind.object()
    }

    /// Whether the assertion judges its target's run. Those about what must be gone, or
    /// counting the namespace's objects, hold without it (an absence is their evidence).
    pub fn needs_run(&self) -> bool {
        self.kind.needs_run()
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
        if ok
            && ev.mode == Mode::Live
            && let Some(kind) = self.kind.absence_of()
            && !ev.worked_on.contains(kind)
        {
            return self.verdict(
                Status::NotAttempted,
                format!(
                    "not attempted: no {kind} of this exercise was ever seen here (none is there now, and no Event tells of one), and an empty namespace is not the work; do the exercise first (the API server keeps Events for an hour: check, grade or `kubelab collect` within it)"
                ),
                values.get("value").cloned(),
                values.get("expected").cloned(),
                Vec::new(),
            );
        }
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
            hint: matches!(status, Status::Fail | Status::NotAttempted).then(|| self.hint.clone()),
            status,
            message,
            value,
            expected,
            details,
            points: self.points,
        }
    }

    fn evaluate(
        &self,
        ev: &Evidence,
        values: &mut BTreeMap<String, String>,
    ) -> Result<(bool, Vec<String>), String> {
        self.kind.judge(ev, values)
    }
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
