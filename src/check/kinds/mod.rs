//! The kinds of assertion, one module each: how a check in the course file is compiled (an
//! author's mistake reported at its JSON pointer) and how it is judged on [`Evidence`]. A new
//! kind is a new file here and one line in [`KINDS`] (and its key in the course model).

mod concurrency;
mod count;
mod deleted;
mod duration;
mod event;
mod expr;
mod field;
mod key;
mod logs;
mod records;
mod uses;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{CompileContext, CompileError, CompiledExpect, Evidence, LiveTarget, err, missing};
use crate::model::{Assertion, Expect, Phase};

/// Passed or not, with lines of evidence; or why the evidence could not be read this way.
pub type Outcome = Result<(bool, Vec<String>), String>;

/// A compiled check of one kind.
pub trait AssertionKind: std::fmt::Debug + Send + Sync {
    /// The target it reads (None: the exercise's default target, or several objects).
    fn object(&self) -> Option<&str> {
        None
    }
    /// Why it can only be judged live, when it reads cluster state.
    fn live_only(&self) -> Option<&'static str> {
        Some("this check reads the cluster, so it can only be judged live")
    }
    /// Whether it judges its target's run: those about what must be gone, or counting the
    /// namespace's Jobs, hold without it (an absent Job is their evidence).
    fn needs_run(&self) -> bool {
        true
    }
    /// The CEL variables its expressions read.
    fn variables(&self) -> Vec<String> {
        Vec::new()
    }
    /// Judges the evidence, filling the message placeholders (`value`, `expected`, ...).
    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome;
}

type Compile = fn(&Assertion, &mut Compiling) -> Option<Box<dyn AssertionKind>>;
type Given = fn(&Assertion) -> bool;

/// Every kind: its key in an assertion, whether an assertion gives it, and how it compiles.
pub const KINDS: &[(&str, Given, Compile)] = &[
    ("field", |a| a.field.is_some(), field::compile),
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

    /// The target an `object` names (it must be one of the exercise's), or the first target.
    pub fn target(&mut self, object: &Option<String>, pointer: &str) -> String {
        match object {
            Some(name) => {
                if !self.cx.targets.iter().any(|t| t == name) {
                    self.errors.push(err(
                        pointer,
                        format!(
                            "`{name}` is not one of this exercise's targets ({})",
                            self.cx.targets.join(", ")
                        ),
                    ));
                }
                name.clone()
            }
            None => self.cx.targets.first().cloned().unwrap_or_default(),
        }
    }

    pub fn expect(&mut self, e: &Expect, pointer: &str) -> CompiledExpect {
        super::compile_expect(e, pointer, &mut self.errors)
    }
}

fn target<'a>(ev: &'a Evidence, object: &str) -> Result<&'a LiveTarget, String> {
    if !ev.objects.contains_key(object) {
        return Err(missing(object));
    }
    ev.live.get(object).ok_or_else(|| missing(object))
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
