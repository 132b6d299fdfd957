//! `concurrency`: how many of a Job's pods were active, and running, at once.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, fact, target};
use crate::check::Evidence;
use crate::model::Assertion;

use crate::check::err;

#[derive(Debug)]
pub struct Concurrency {
    pub object: String,
    pub max_active: Option<u32>,
    pub min_active: Option<u32>,
    pub min_running: Option<u32>,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let spec = a.concurrency.as_ref().expect("checked above");
    c.placeholders.extend(["active".into(), "running".into()]);
    let object = c.target(&spec.object, "/concurrency/object");
    if spec.max_active.is_none() && spec.min_active.is_none() && spec.min_running.is_none() {
        c.errors.push(err(
            "/concurrency",
            "give `max_active`, `min_active` or `min_running`",
        ));
    }
    Some(Box::new(Concurrency {
        object,
        max_active: spec.max_active,
        min_active: spec.min_active,
        min_running: spec.min_running,
    }))
}

impl Check for Concurrency {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Concurrency {
            object,
            max_active,
            min_active,
            min_running,
        } = self;
        values.insert("object".into(), object.clone());
        let t = target(ev, object)?;
        let active = fact(t, "max_active").and_then(Json::as_u64).unwrap_or(0);
        let running = fact(t, "max_running").and_then(Json::as_u64).unwrap_or(0);
        values.insert("active".into(), active.to_string());
        values.insert("running".into(), running.to_string());
        values.insert("value".into(), active.to_string());
        let mut ok = true;
        let mut expected = Vec::new();
        if let Some(m) = max_active {
            ok &= active <= u64::from(*m);
            expected.push(format!("at most {m} active"));
        }
        if let Some(m) = min_active {
            ok &= active >= u64::from(*m);
            expected.push(format!("at least {m} active"));
        }
        if let Some(m) = min_running {
            ok &= running >= u64::from(*m);
            expected.push(format!("at least {m} running"));
        }
        values.insert("expected".into(), expected.join(" and "));
        Ok((ok, Vec::new()))
    }
}
