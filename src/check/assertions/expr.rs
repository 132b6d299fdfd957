//! `expr`: a CEL expression over the target (and, live, its run), with an optional shown value.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome};
use crate::check::Evidence;
use crate::model::Assertion;
use std::sync::Arc;

use crate::check::expr::{Expr, display, to_cel};
use crate::check::{err, explain_cel_error, show_value};
use crate::model::Phase;

#[derive(Debug)]
pub struct CelCheck {
    pub expr: Arc<Expr>,
    pub value: Option<Arc<Expr>>,
    pub params: Json,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let source = a.expr.as_ref().expect("checked above");
    let expr = Expr::compile(source, &[]).map_err(|m| err("/expr", m));
    let value = a.value.as_ref().and_then(|v| {
        Expr::compile(v, &[])
            .map_err(|m| c.errors.push(err("/value", m)))
            .ok()
    });
    match expr {
        Ok(expr) => {
            c.default_phase = if expr.live_only || value.as_ref().is_some_and(|v| v.live_only) {
                Phase::Live
            } else {
                Phase::Both
            };
            Some(Box::new(CelCheck {
                expr: Arc::new(expr),
                value: value.map(Arc::new),
                params: Json::Object(Default::default()),
            }))
        }
        Err(e) => {
            c.errors.push(e);
            None
        }
    }
}

impl Check for CelCheck {
    fn live_only(&self) -> Option<&'static str> {
        self.expr.live_only.then_some(
            "this expression reads cluster state (job, pods, events, facts, jobs, logs), so it can only be judged live",
        )
    }

    fn variables(&self) -> Vec<String> {
        self.expr
            .vars
            .iter()
            .chain(self.value.iter().flat_map(|v| v.vars.iter()))
            .cloned()
            .collect()
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let CelCheck {
            expr,
            value,
            params,
        } = self;
        let target = &ev.default_target;
        values.insert("object".into(), target.clone());
        if let Some(p) = params.as_object() {
            for (k, v) in p {
                values.insert(format!("params.{k}"), show_value(Some(v)));
            }
        }
        let mut vars = ev.vars.get(target).cloned().unwrap_or_default();
        vars.set("params", to_cel(params));
        if let Some(value) = value {
            match value.eval(&vars) {
                Ok(v) => {
                    values.insert("value".into(), display(&v));
                }
                Err(e) => {
                    values.insert("value".into(), "unknown".into());
                    tracing::debug!("value expression: {e}");
                }
            }
        }
        let ok = expr.eval_bool(&vars).map_err(|e| explain_cel_error(&e))?;
        Ok((ok, Vec::new()))
    }
}
