//! `deleted`: objects that must be gone, by name or label selector.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{AssertionKind, Compiling, Outcome};
use crate::check::Evidence;
use crate::model::Assertion;

use crate::check::{err, parse_selector};
use crate::model::CountKind;

#[derive(Debug)]
pub struct Deleted {
    pub kind: CountKind,
    pub selector: Option<Vec<(String, String)>>,
    pub names: Vec<String>,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn AssertionKind>> {
    let d = a.deleted.as_ref().expect("checked above");
    c.placeholders.push("remaining".into());
    let selector = d.selector.as_ref().and_then(|s| {
        parse_selector(s)
            .map_err(|m| c.errors.push(err("/deleted/selector", m)))
            .ok()
    });
    for n in &d.names {
        c.target(&Some(n.clone()), "/deleted/names");
    }
    if d.selector.is_none() && d.names.is_empty() {
        c.errors.push(err("/deleted", "give `selector` or `names`"));
    }
    Some(Box::new(Deleted {
        kind: d.kind,
        selector,
        names: d.names.clone(),
    }))
}

impl AssertionKind for Deleted {
    fn needs_run(&self) -> bool {
        false
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Deleted {
            kind,
            selector,
            names,
        } = self;
        let items: Vec<&Json> = match kind {
            CountKind::Job => ev.jobs.iter().collect(),
            CountKind::Pod => ev.live.values().flat_map(|t| t.pods.iter()).collect(),
            CountKind::Event => ev.live.values().flat_map(|t| t.events.iter()).collect(),
        };
        let remaining: Vec<String> = items
            .into_iter()
            .filter(|o| {
                let name = o
                    .pointer("/metadata/name")
                    .and_then(Json::as_str)
                    .unwrap_or("");
                let by_name = names.iter().any(|n| n == name);
                let by_selector = selector.as_ref().is_some_and(|sel| {
                    sel.iter().all(|(k, v)| {
                        o.pointer("/metadata/labels")
                            .and_then(|l| l.get(k))
                            .and_then(Json::as_str)
                            == Some(v)
                    })
                });
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
