//! `event`: an Event about the Job or its pods (present or absent).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, cut, target};
use crate::check::Evidence;
use crate::model::Assertion;

use regex::Regex;

use crate::check::{err, regex_message};
use crate::text::clean;

#[derive(Debug)]
pub struct Event {
    pub object: String,
    pub reason: String,
    pub message: Option<Regex>,
    pub present: bool,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let e = a.event.as_ref().expect("checked above");
    c.placeholders.push("message".into());
    let object = c.target(&e.object, "/event/object");
    let message = e.message.as_ref().and_then(|m| {
        Regex::new(m)
            .map_err(|x| c.errors.push(err("/event/message", regex_message(&x))))
            .ok()
    });
    Some(Box::new(Event {
        object,
        reason: e.reason.clone(),
        message,
        present: e.present,
    }))
}

impl Check for Event {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Event {
            object,
            reason,
            message,
            present,
        } = self;
        values.insert("object".into(), object.clone());
        let t = target(ev, object)?;
        let found = t.events.iter().find(|e| {
            e.get("reason").and_then(Json::as_str) == Some(reason.as_str())
                && message.as_ref().is_none_or(|re| {
                    e.get("message")
                        .and_then(Json::as_str)
                        .is_some_and(|m| re.is_match(m))
                })
        });
        let text = found
            .and_then(|e| e.get("message").and_then(Json::as_str))
            .map(|m| clean(&cut(m)))
            .unwrap_or_else(|| format!("no {reason} Event"));
        values.insert("message".into(), text.clone());
        values.insert("value".into(), text);
        values.insert(
            "expected".into(),
            format!("{}{reason} Event", if *present { "a " } else { "no " }),
        );
        Ok((found.is_some() == *present, Vec::new()))
    }
}
