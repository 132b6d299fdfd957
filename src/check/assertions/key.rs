//! `label` and `annotation`: a key of the object's (or its pod template's) metadata.

use std::collections::BTreeMap;

use super::{Check, Compiling, Outcome, name_of, objects_of};
use crate::check::{CompiledExpect, Evidence};
use crate::model::Assertion;

use crate::check::{join_unique, show_value};
use crate::model::Phase;

#[derive(Debug)]
pub struct Key {
    pub object: String,
    pub annotation: bool,
    pub template: bool,
    pub key: String,
    pub expect: CompiledExpect,
}

pub(super) fn compile_label(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    compile("label", a, c)
}

pub(super) fn compile_annotation(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    compile("annotation", a, c)
}

fn compile(k: &str, a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let spec = if k == "label" {
        a.label.as_ref()
    } else {
        a.annotation.as_ref()
    }
    .expect("checked above");
    c.placeholders.push("key".into());
    c.default_phase = Phase::Both;
    let object = c.target(&spec.object, &format!("/{k}/object"));
    let expect = c.expect(&spec.expect, &format!("/{k}"));
    Some(Box::new(Key {
        object,
        annotation: k == "annotation",
        template: spec.template,
        key: spec.key.clone(),
        expect,
    }))
}

impl Check for Key {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn live_only(&self) -> Option<&'static str> {
        None
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Key {
            object,
            annotation,
            template,
            key,
            expect,
        } = self;
        values.insert("object".into(), object.clone());
        values.insert("key".into(), key.clone());
        values.insert("expected".into(), expect.describe());
        let objs = objects_of(ev, object)?;
        let field = if *annotation { "annotations" } else { "labels" };
        let mut ok = true;
        let mut shown = Vec::new();
        let mut details = Vec::new();
        for obj in objs {
            let meta = if *template {
                template_metadata(obj)
            } else {
                obj.get("metadata")
            };
            let v = meta
                .and_then(|m| m.get(field))
                .and_then(|m| m.get(key))
                .filter(|v| !v.is_null());
            shown.push(show_value(v));
            if !expect.test(v) {
                ok = false;
                if objs.len() > 1 {
                    details.push(format!("{}: {key} is {}", name_of(obj), show_value(v)));
                }
            }
        }
        values.insert("value".into(), join_unique(&shown));
        Ok((ok, details))
    }
}

/// The pod template's metadata: a Job's, a Deployment's, or a CronJob's Job template's.
fn template_metadata(obj: &serde_json::Value) -> Option<&serde_json::Value> {
    obj.pointer("/spec/template/metadata")
        .or_else(|| obj.pointer("/spec/jobTemplate/spec/template/metadata"))
}
