//! `label` and `annotation`: a key of the object's (or its pod template's) metadata.

use std::collections::BTreeMap;

use super::{AssertionKind, Compiling, Outcome};
use crate::check::{CompiledExpect, Evidence};
use crate::model::Assertion;

use crate::check::{missing, show_value};
use crate::model::Phase;

#[derive(Debug)]
pub struct Key {
    pub object: String,
    pub annotation: bool,
    pub template: bool,
    pub key: String,
    pub expect: CompiledExpect,
}

pub(super) fn compile_label(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn AssertionKind>> {
    compile("label", a, c)
}

pub(super) fn compile_annotation(
    a: &Assertion,
    c: &mut Compiling,
) -> Option<Box<dyn AssertionKind>> {
    compile("annotation", a, c)
}

fn compile(k: &str, a: &Assertion, c: &mut Compiling) -> Option<Box<dyn AssertionKind>> {
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

impl AssertionKind for Key {
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
        let obj = ev.objects.get(object).ok_or_else(|| missing(object))?;
        let meta = if *template {
            obj.pointer("/spec/template/metadata")
        } else {
            obj.get("metadata")
        };
        let field = if *annotation { "annotations" } else { "labels" };
        let v = meta
            .and_then(|m| m.get(field))
            .and_then(|m| m.get(key))
            .filter(|v| !v.is_null());
        values.insert("value".into(), show_value(v));
        Ok((expect.test(v), Vec::new()))
    }
}
