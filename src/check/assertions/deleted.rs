//! `deleted`: objects of a kind that must be gone from the namespace, by target or selector.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome};
use crate::check::Evidence;
use crate::model::Assertion;

use crate::check::{err, parse_selector};
use crate::selector::Selector;

#[derive(Debug)]
pub struct Deleted {
    /// The Kubernetes kind.
    pub kind: String,
    pub selector: Option<Selector>,
    /// Names of the targets that must be gone.
    pub names: Vec<String>,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let d = a.deleted.as_ref().expect("checked above");
    c.placeholders.push("remaining".into());
    let selector = d.selector.as_ref().and_then(|s| {
        parse_selector(s)
            .map_err(|m| c.errors.push(err("/deleted/selector", m)))
            .ok()
    });
    let names: Vec<String> = d
        .names
        .iter()
        .map(|n| {
            let key = c.target(&Some(n.clone()), "/deleted/names");
            c.cx.targets
                .iter()
                .find(|t| t.key == key)
                .and_then(|t| t.name.clone())
                .unwrap_or_else(|| n.clone())
        })
        .collect();
    if let Err(m) = crate::kinds::KindRef::new(&d.kind)
        .resolve_offline()
        .and_then(|k| k.ok_or_else(|| format!("kubelab does not know kind `{}` by name", d.kind)))
    {
        c.errors.push(err("/deleted/kind", m));
    }
    if d.selector.is_none() && d.names.is_empty() {
        c.errors.push(err("/deleted", "give `selector` or `names`"));
    }
    Some(Box::new(Deleted {
        kind: d.kind.clone(),
        selector,
        names,
    }))
}

impl Check for Deleted {
    fn needs_run(&self) -> bool {
        false
    }

    fn absence_of(&self) -> Option<&str> {
        Some(&self.kind)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Deleted {
            kind,
            selector,
            names,
        } = self;
        let items: Vec<&Json> = ev.namespace.get(kind).into_iter().flatten().collect();
        let remaining: Vec<String> = items
            .into_iter()
            .filter(|o| {
                let name = o
                    .pointer("/metadata/name")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                let by_name = names.iter().any(|n| n == name);
                let by_selector = selector
                    .as_ref()
                    .is_some_and(|sel| sel.matches_json(o.pointer("/metadata/labels")));
                by_name || by_selector
            })
            .filter_map(|o| {
                o.pointer("/metadata/name")
                    .and_then(Json::as_str)
                    .map(str::to_owned)
            })
            .collect();
        let shown = if remaining.is_empty() {
            "none".to_owned()
        } else {
            remaining.join(", ")
        };
        values.insert("remaining".into(), shown.clone());
        values.insert("value".into(), shown);
        values.insert("expected".into(), "none".into());
        Ok((remaining.is_empty(), Vec::new()))
    }
}
