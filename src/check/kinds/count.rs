//! `count`: how many of the target's pods, the namespace's Jobs, or the Events match.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{AssertionKind, Compiling, Outcome, target};
use crate::check::{CompiledExpect, Evidence};
use crate::model::Assertion;

use crate::check::err;
use crate::check::expr::{Expr, Vars, to_cel};
use crate::model::CountKind;

#[derive(Debug)]
pub struct Count {
    pub object: String,
    pub kind: CountKind,
    pub filter: Option<Expr>,
    pub expect: CompiledExpect,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn AssertionKind>> {
    let spec = a.count.as_ref().expect("checked above");
    c.placeholders.push("count".into());
    let object = c.target(&spec.object, "/count/object");
    let filter = spec.filter.as_ref().and_then(|f| {
        Expr::compile(f, &["item"])
            .map_err(|m| c.errors.push(err("/count/where", m)))
            .ok()
    });
    let expect = c.expect(&spec.expect, "/count");
    Some(Box::new(Count {
        object,
        kind: spec.kind,
        filter,
        expect,
    }))
}

impl AssertionKind for Count {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn needs_run(&self) -> bool {
        // Counting the namespace's Jobs holds without the target: an absent Job is evidence.
        self.kind != CountKind::Job
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Count {
            object,
            kind,
            filter,
            expect,
        } = self;
        values.insert("object".into(), object.clone());
        values.insert("expected".into(), expect.describe());
        let items: Vec<&Json> = match kind {
            CountKind::Job => ev.jobs.iter().collect(),
            CountKind::Pod => target(ev, object)?.pods.iter().collect(),
            CountKind::Event => target(ev, object)?.events.iter().collect(),
        };
        let mut n = 0usize;
        for item in items {
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
