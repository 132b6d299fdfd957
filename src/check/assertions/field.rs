//! `field`: a field of the target object, found by a path (`[*]` for every element).

use std::collections::BTreeMap;

use super::{Check, Compiling, Outcome, name_of, objects_of};
use crate::check::{CompiledExpect, Evidence};
use crate::model::Assertion;

use crate::check::path::FieldPath;
use crate::check::{err, join_unique, show_value};
use crate::model::Phase;

#[derive(Debug)]
pub struct Field {
    pub object: String,
    pub path: FieldPath,
    pub expect: CompiledExpect,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let f = a.field.as_ref().expect("checked above");
    c.placeholders.push("path".into());
    c.default_phase = Phase::Both;
    let object = c.target(&f.object, "/field/object");
    let path = FieldPath::parse(&f.path).map_err(|m| err("/field/path", m));
    let expect = c.expect(&f.expect, "/field");
    match path {
        Ok(path) => Some(Box::new(Field {
            object,
            path,
            expect,
        })),
        Err(e) => {
            c.errors.push(e);
            None
        }
    }
}

impl Check for Field {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn live_only(&self) -> Option<&'static str> {
        None
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Field {
            object,
            path,
            expect,
        } = self;
        values.insert("object".into(), object.clone());
        values.insert("path".into(), path.text.clone());
        values.insert("expected".into(), expect.describe());
        let objs = objects_of(ev, object)?;
        let several = objs.len() > 1;
        let mut details = Vec::new();
        let mut ok = true;
        let mut shown = Vec::new();
        for obj in objs {
            let found = path.select(obj);
            let whose = if several {
                format!("{}: ", name_of(obj))
            } else {
                String::new()
            };
            for (p, v) in &found {
                let good = expect.test(*v);
                shown.push(show_value(*v));
                if !good {
                    ok = false;
                    if found.len() > 1 || several {
                        details.push(format!("{whose}{p} is {}", show_value(*v)));
                    }
                }
            }
            if found.is_empty() {
                ok &= expect.present == Some(false);
                shown.push("no elements".into());
                if several && expect.present != Some(false) {
                    details.push(format!("{whose}{} is not set", path.text));
                }
            }
        }
        values.insert("value".into(), join_unique(&shown));
        Ok((ok, details))
    }
}
