//! `count`: how many objects of a kind match a selector and a condition: the target's pods or
//! the Events about it, or any kind's objects in the namespace.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, target};
use crate::check::{CompiledExpect, Evidence};
use crate::model::Assertion;

use crate::check::err;
use crate::check::expr::{Expr, Vars, to_cel};
use crate::selector::Selector;

#[derive(Debug)]
pub struct Count {
    pub object: String,
    /// The Kubernetes kind counted.
    pub kind: String,
    pub selector: Option<Selector>,
    pub filter: Option<Expr>,
    pub expect: CompiledExpect,
}

impl Count {
    /// Pods without a selector, and Events, are the target's; anything else is the namespace's.
    fn of_target(&self) -> bool {
        (self.kind == "Pod" && self.selector.is_none()) || self.kind == "Event"
    }
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let spec = a.count.as_ref().expect("checked above");
    c.placeholders.push("count".into());
    let object = c.target(&spec.object, "/count/object");
    let selector = spec.selector.as_ref().and_then(|s| {
        Selector::parse(s)
            .map_err(|m| c.errors.push(err("/count/selector", m)))
            .ok()
    });
    let filter = spec.filter.as_ref().and_then(|f| {
        Expr::compile(f, &["item"])
            .map_err(|m| c.errors.push(err("/count/where", m)))
            .ok()
    });
    let expect = c.expect(&spec.expect, "/count");
    let count = Count {
        object,
        kind: spec.kind.clone(),
        selector,
        filter,
        expect,
    };
    if count.of_target() && c.cx.targets.is_empty() {
        c.errors.push(err(
            "/count",
            format!(
                "counting the target's {}s needs the exercise to declare `targets` (or give a `selector`)",
                spec.kind
            ),
        ));
    }
    if let Err(m) = crate::kinds::KindRef::new(&spec.kind).resolve_offline()
        .and_then(|k| k.ok_or_else(|| format!("kubelab does not know kind `{}` by name; count a built-in kind, or make it a target", spec.kind)))
    {
        c.errors.push(err("/count/kind", m));
    }
    Some(Box::new(count))
}

impl Check for Count {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn needs_run(&self) -> bool {
        // Counting the namespace's objects holds without the target: an absence is evidence.
        self.of_target()
    }

    fn absence_of(&self) -> Option<&str> {
        // Counting the namespace's objects down to zero passes on an empty namespace.
        (!self.of_target()).then_some(self.kind.as_str())
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Count {
            object,
            kind,
            selector,
            filter,
            expect,
        } = self;
        values.insert("object".into(), object.clone());
        values.insert("expected".into(), expect.describe());
        let items: Vec<&Json> = match kind.as_str() {
            "Pod" if selector.is_none() => target(ev, object)?.pods.iter().collect(),
            "Event" => target(ev, object)?.events.iter().collect(),
            other => ev.namespace.get(other).into_iter().flatten().collect(),
        };
        let mut n = 0usize;
        for item in items {
            if let Some(sel) = selector
                && !sel.matches_json(item.pointer("/metadata/labels"))
            {
                continue;
            }
            let keep = match filter {
                None => true,
                Some(f) => {
                    let mut vars = Vars::default();
                    vars.set("item", to_cel(item));
                    f.eval_bool(&vars)?
                }
            };
            n += usize::from(keep);
        }
        values.insert("count".into(), n.to_string());
        values.insert("value".into(), n.to_string());
        Ok((expect.test(Some(&Json::from(n))), Vec::new()))
    }
}
