//! `use`: a reusable check from checks/, with its parameters: compiled into a CEL check.

use serde_json::Value as Json;

use super::{Check, Compiling};
use crate::model::Assertion;

use super::expr::CelCheck;
use crate::check::err;
use crate::model::Phase;

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let id = a.uses.as_ref().expect("checked above");
    match c.cx.checks.get(id) {
        None => {
            let known: Vec<String> = c.cx.checks.keys().cloned().collect();
            let mut m = format!("no reusable check `{id}` in checks/");
            if let Some(s) = crate::schema::suggest(id, &known) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            c.errors.push(err("/use", m));
            // Without the check, its default texts are unknown: say nothing more.
            c.abort = true;
            None
        }
        Some(reusable) => {
            let check = &reusable.file;
            let mut params = serde_json::Map::new();
            for (name, p) in &check.params {
                match a.with.get(name).or(p.default.as_ref()) {
                    Some(v) => {
                        params.insert(name.clone(), v.clone());
                    }
                    None => c.errors.push(err(
                        "/with",
                        format!(
                            "check `{id}` needs the parameter `{name}`: {}",
                            p.description
                        ),
                    )),
                }
                c.placeholders.push(format!("params.{name}"));
            }
            for name in a.with.keys() {
                if !check.params.contains_key(name) {
                    c.errors.push(err(
                        &format!("/with/{name}"),
                        format!(
                            "check `{id}` has no parameter `{name}` (it has: {})",
                            check.params.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
            c.pass = c.pass.take().or_else(|| check.pass.clone());
            c.fail = c.fail.take().or_else(|| check.fail.clone());
            match reusable.programs() {
                Ok((expr, value)) => {
                    c.default_phase = check.on.unwrap_or(if expr.live_only {
                        Phase::Live
                    } else {
                        Phase::Both
                    });
                    Some(Box::new(CelCheck {
                        expr: expr.clone(),
                        value: value.clone(),
                        params: Json::Object(params),
                    }))
                }
                Err((field, m)) => {
                    c.errors
                        .push(err("/use", format!("check `{id}` {field}: {m}")));
                    None
                }
            }
        }
    }
}
