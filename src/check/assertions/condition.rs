//! `condition`: one of the target's `status.conditions`, for any kind that has them (a
//! Deployment's `Available`, a Pod's `Ready`, a Job's `Complete`, a custom resource's own),
//! by type, status and optionally reason.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, name_of, objects_of};
use crate::check::{Evidence, err};
use crate::model::Assertion;
use crate::text::clean;

#[derive(Debug)]
pub struct Condition {
    pub object: String,
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let spec = a.condition.as_ref().expect("checked above");
    c.placeholders.extend(["reason".into(), "message".into()]);
    let object = c.target(&spec.object, "/condition/object");
    if !matches!(spec.status.as_str(), "True" | "False" | "Unknown") {
        c.errors.push(err(
            "/condition/status",
            format!(
                "a condition's status is `True`, `False` or `Unknown`, not `{}`",
                spec.status
            ),
        ));
    }
    Some(Box::new(Condition {
        object,
        type_: spec.type_.clone(),
        status: spec.status.clone(),
        reason: spec.reason.clone(),
    }))
}

impl Check for Condition {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        values.insert("object".into(), self.object.clone());
        let mut expected = format!("{}={}", self.type_, self.status);
        if let Some(r) = &self.reason {
            expected.push_str(&format!(" ({r})"));
        }
        values.insert("expected".into(), expected);
        let objs = objects_of(ev, &self.object)?;
        let mut ok = true;
        let mut details = Vec::new();
        let mut shown = Vec::new();
        for o in objs {
            let (good, said) = self.one(o, values);
            ok &= good;
            if objs.len() > 1 && !good {
                details.push(format!("{}: {said}", name_of(o)));
            }
            shown.push(said);
        }
        shown.dedup();
        values.insert("value".into(), shown.join("; "));
        Ok((ok, details))
    }
}

impl Condition {
    /// Whether one object has the condition, and what it has, in words.
    fn one(&self, o: &Json, values: &mut BTreeMap<String, String>) -> (bool, String) {
        let conditions: Vec<&Json> = o
            .pointer("/status/conditions")
            .and_then(Json::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let text = |c: &Json, k: &str| c.get(k).and_then(Json::as_str).map(clean);
        let Some(c) = conditions
            .iter()
            .find(|c| c.get("type").and_then(Json::as_str) == Some(self.type_.as_str()))
        else {
            let have: Vec<String> = conditions
                .iter()
                .filter_map(|c| {
                    Some(format!(
                        "{}={}",
                        text(c, "type")?,
                        text(c, "status").unwrap_or_default()
                    ))
                })
                .collect();
            let said = if have.is_empty() {
                format!("no {} condition (it reports no conditions yet)", self.type_)
            } else {
                format!("no {} condition (it has {})", self.type_, have.join(", "))
            };
            return (false, said);
        };
        let status = text(c, "status").unwrap_or_default();
        let reason = text(c, "reason");
        let message = text(c, "message");
        values.insert("reason".into(), reason.clone().unwrap_or_default());
        values.insert("message".into(), message.clone().unwrap_or_default());
        let mut said = format!("{}={status}", self.type_);
        if let Some(r) = &reason {
            said.push_str(&format!(" ({r})"));
        }
        if let Some(m) = &message {
            said.push_str(&format!(": {m}"));
        }
        let good = status == self.status
            && self
                .reason
                .as_ref()
                .is_none_or(|want| reason.as_deref() == Some(want.as_str()));
        (good, said)
    }
}
