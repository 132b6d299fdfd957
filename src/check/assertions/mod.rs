//! The checks an assertion can make, one module each: how a check in the course file is
//! compiled (an author's mistake reported at its JSON pointer) and how it is judged on
//! [`Evidence`]. A new check is a new file here and one line in [`CHECKS`] (and its key in
//! the course model).

mod concurrency;
mod condition;
mod count;
mod deleted;
mod duration;
mod event;
mod expr;
mod field;
mod key;
mod logs;
mod matches;
mod records;
mod uses;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{CompileContext, CompileError, CompiledExpect, Evidence, LiveTarget, err, missing};
use crate::model::{Assertion, Expect, Phase};

/// Passed or not, with lines of evidence; or why the evidence could not be read this way.
pub type Outcome = Result<(bool, Vec<String>), String>;

/// A compiled check.
pub trait Check: std::fmt::Debug + Send + Sync {
    /// The key of the target it reads (None: the exercise's default target, or several).
    fn object(&self) -> Option<&str> {
        None
    }
    /// The key of the target whose pods' logs it reads, if it reads logs.
    fn reads_logs_of(&self) -> Option<&str> {
        None
    }
    /// Why it can only be judged live, when it reads cluster state.
    fn live_only(&self) -> Option<&'static str> {
        Some("this check reads the cluster, so it can only be judged live")
    }
    /// Whether it judges its target's run: those about what must be gone, or counting the
    /// namespace's objects, hold without it (an absence is their evidence).
    fn needs_run(&self) -> bool {
        true
    }
    /// The kind whose absence it can pass on ("no Job labelled chapter=jobs is left"): such a
    /// pass is only awarded when the learner's work shows objects of that kind existed here.
    fn absence_of(&self) -> Option<&str> {
        None
    }
    /// The CEL variables its expressions read.
    fn variables(&self) -> Vec<String> {
        Vec::new()
    }
    /// Judges the evidence, filling the message placeholders (`value`, `expected`, ...).
    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome;
}

type Compile = fn(&Assertion, &mut Compiling) -> Option<Box<dyn Check>>;
type Given = fn(&Assertion) -> bool;

/// Every check: its key in an assertion, whether an assertion gives it, and how it compiles.
pub const CHECKS: &[(&str, Given, Compile)] = &[
    ("field", |a| a.field.is_some(), field::compile),
    ("match", |a| a.match_.is_some(), matches::compile),
    ("condition", |a| a.condition.is_some(), condition::compile),
    ("label", |a| a.label.is_some(), key::compile_label),
    (
        "annotation",
        |a| a.annotation.is_some(),
        key::compile_annotation,
    ),
    ("count", |a| a.count.is_some(), count::compile),
    ("duration", |a| a.duration.is_some(), duration::compile),
    (
        "concurrency",
        |a| a.concurrency.is_some(),
        concurrency::compile,
    ),
    ("logs", |a| a.logs.is_some(), logs::compile),
    ("records", |a| a.records.is_some(), records::compile),
    ("event", |a| a.event.is_some(), event::compile),
    ("deleted", |a| a.deleted.is_some(), deleted::compile),
    ("expr", |a| a.expr.is_some(), expr::compile),
    ("use", |a| a.uses.is_some(), uses::compile),
];

/// What compiling one assertion collects on the way: problems, the placeholders its messages
/// may use, where it is judged by default, and the texts a reusable check supplies.
pub struct Compiling<'a> {
    pub cx: &'a CompileContext<'a>,
    pub errors: Vec<CompileError>,
    pub placeholders: Vec<String>,
    pub default_phase: Phase,
    pub pass: Option<String>,
    pub fail: Option<String>,
    /// Stop here and report only the errors so far (the rest would be noise).
    pub abort: bool,
}

impl<'a> Compiling<'a> {
    pub fn new(cx: &'a CompileContext<'a>, a: &Assertion) -> Self {
        Compiling {
            cx,
            errors: Vec::new(),
            placeholders: vec!["value".into(), "expected".into(), "object".into()],
            default_phase: Phase::Live,
            pass: a.pass.clone(),
            fail: a.fail.clone(),
            abort: false,
        }
    }

    /// The key of the target an `object` names (one of the exercise's, by key, `Kind/name`
    /// or an unambiguous name), or the first target's.
    pub fn target(&mut self, object: &Option<String>, pointer: &str) -> String {
        match object {
            Some(reference) => match crate::target::find(self.cx.targets, reference) {
                Ok(t) => t.key.clone(),
                Err(m) => {
                    self.errors.push(err(pointer, m));
                    reference.clone()
                }
            },
            None => self
                .cx
                .targets
                .first()
                .map(|t| t.key.clone())
                .unwrap_or_default(),
        }
    }

    /// The kind of the target with this key.
    pub fn kind_of(&self, key: &str) -> Option<&crate::kinds::KindRef> {
        self.cx
            .targets
            .iter()
            .find(|t| t.key == key)
            .map(|t| &t.kind)
    }

    pub fn expect(&mut self, e: &Expect, pointer: &str) -> CompiledExpect {
        super::compile_expect(e, pointer, &mut self.errors)
    }
}

fn target<'a>(ev: &'a Evidence, object: &str) -> Result<&'a LiveTarget, String> {
    if ev.found(object).is_none() {
        return Err(missing(object));
    }
    ev.live.get(object).ok_or_else(|| missing(object))
}

/// A target's objects (one, or a selection's), or why there are none.
fn objects_of<'a>(ev: &'a Evidence, object: &str) -> Result<&'a [Json], String> {
    ev.found(object).ok_or_else(|| missing(object))
}

/// An object's name, for saying which of a selection's objects failed.
fn name_of(o: &Json) -> &str {
    o.pointer("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("(no name)")
}

fn fact<'a>(t: &'a LiveTarget, name: &str) -> Option<&'a Json> {
    t.facts.get(name).filter(|v| !v.is_null())
}

/// A line of a log or an Event message, shortened for a verdict.
fn cut(s: &str) -> String {
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(117).collect::<String>())
    } else {
        s.to_owned()
    }
}
