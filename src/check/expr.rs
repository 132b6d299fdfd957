//! CEL expressions (through kube-cel, Kubernetes' own CEL functions): compiled when the course
//! loads, so an author's mistake is a lint error; evaluated on JSON data when judging.

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::{self, Program, Value, objects::Key};
use serde_json::Value as Json;

/// Variables an expression may use, by where it is judged.
pub const OFFLINE_VARS: &[&str] = &["object", "objects", "params"];
pub const LIVE_VARS: &[&str] = &[
    "object", "objects", "params", "job", "pods", "events", "facts", "targets", "jobs", "logs",
    "item",
];
/// Variables whose presence makes an expression live-only.
const LIVE_ONLY: &[&str] = &["job", "pods", "events", "facts", "targets", "jobs", "logs"];

pub struct Expr {
    pub source: String,
    program: Program,
    /// True when the expression reads cluster state and so can only be judged live.
    pub live_only: bool,
    /// The free variables it reads (so evidence converts only those to CEL).
    pub vars: Vec<String>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expr")
            .field("source", &self.source)
            .finish()
    }
}

impl Expr {
    /// Compiles and checks that every variable is one kubelab provides (`extra` adds some,
    /// e.g. `item` in a count filter).
    pub fn compile(source: &str, extra: &[&str]) -> Result<Expr, String> {
        let program = Program::compile(source).map_err(|e| {
            e.errors
                .iter()
                .map(|e| format!("CEL syntax error at {}:{}: {}", e.pos.0, e.pos.1, e.msg))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        if let Some(name) = struct_literal(program.expression()) {
            // The interpreter has no struct values and would panic evaluating one.
            return Err(format!(
                "`{}{{...}}` builds a message struct, which kubelab's CEL does not evaluate: use a map literal `{{\"key\": value}}`",
                crate::text::clean(&name)
            ));
        }
        let refs = program.references();
        let bound = comprehension_variables(source);
        let mut live_only = false;
        let mut vars = Vec::new();
        for var in refs.variables() {
            if bound.iter().any(|b| b == var) {
                continue;
            }
            vars.push(var.to_owned());
            if LIVE_ONLY.contains(&var) {
                live_only = true;
            }
            if !LIVE_VARS.contains(&var) && !extra.contains(&var) {
                return Err(format!(
                    "unknown variable `{var}`; expressions can use {}",
                    LIVE_VARS
                        .iter()
                        .filter(|v| **v != "item")
                        .chain(extra.iter())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(Expr {
            source: source.to_owned(),
            program,
            live_only,
            vars,
        })
    }

    pub fn eval(&self, vars: &Vars) -> Result<Value, String> {
        // Registering Kubernetes' CEL functions costs more than most evaluations: do it once
        // per thread and give each evaluation a child scope for its variables.
        thread_local! {
            static ROOT: cel::Context<'static> = cel::Context::default().with_all();
        }
        ROOT.with(|root| self.eval_in(root, vars))
    }

    fn eval_in(&self, root: &cel::Context<'_>, vars: &Vars) -> Result<Value, String> {
        let mut ctx = root.new_inner_scope();
        for (name, value) in &vars.0 {
            ctx.add_variable_from_value(name.clone(), value.clone());
        }
        self.program
            .execute(&ctx)
            .map_err(|e| format!("evaluating `{}`: {e}", self.source))
    }

    pub fn eval_bool(&self, vars: &Vars) -> Result<bool, String> {
        match self.eval(vars)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!(
                "`{}` must be true or false, but gave {}",
                self.source,
                display(&other)
            )),
        }
    }
}

/// Names bound by CEL macros (`pods.all(p, ...)`, `m.map(k, v, ...)`): not free variables.
fn comprehension_variables(source: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"\.\s*(?:all|exists|exists_one|existsOne|map|filter|transformList|transformMap)\s*\(\s*([A-Za-z_]\w*)\s*,(?:\s*([A-Za-z_]\w*)\s*,)?",
        )
        .expect("valid regex")
    });
    re.captures_iter(source)
        .flat_map(|c| [c.get(1), c.get(2)])
        .flatten()
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// Variables for one evaluation, already converted to CEL values (converted once per judging
/// run, shared by every expression).
#[derive(Clone, Default)]
pub struct Vars(pub Vec<(String, Value)>);

impl Vars {
    pub fn set(&mut self, name: &str, value: Value) {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value));
    }
}

/// The type name of the first struct literal (`Name{...}`) in an expression, if any.
fn struct_literal(e: &cel::IdedExpr) -> Option<String> {
    use cel::common::ast::{EntryExpr, Expr};
    let entry = |x: &cel::common::ast::IdedEntryExpr| match &x.expr {
        EntryExpr::StructField(f) => struct_literal(&f.value),
        EntryExpr::MapEntry(m) => struct_literal(&m.key).or_else(|| struct_literal(&m.value)),
    };
    match &e.expr {
        Expr::Struct(s) => Some(s.type_name.clone()),
        Expr::Call(c) => c
            .target
            .as_deref()
            .and_then(struct_literal)
            .or_else(|| c.args.iter().find_map(struct_literal)),
        Expr::Comprehension(c) => [
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ]
        .into_iter()
        .find_map(struct_literal),
        Expr::List(l) => l.elements.iter().find_map(struct_literal),
        Expr::Map(m) => m.entries.iter().find_map(entry),
        Expr::Select(s) => struct_literal(&s.operand),
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => None,
    }
}

/// JSON to CEL with every integer as CEL `int`, so `object.spec.completions == 20` holds
/// (CEL does not compare `uint` with `int`).
pub fn to_cel(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(map) => {
            let m: HashMap<Key, Value> = map
                .iter()
                .map(|(k, v)| (Key::from(k.as_str()), to_cel(v)))
                .collect();
            Value::from(m)
        }
    }
}

/// A CEL value as a learner reads it: strings bare, lists and maps as JSON.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format_number(*f),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => to_json(other).to_string(),
    }
}

/// CEL back to JSON, for showing lists and maps.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.to_string()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => Json::Object(
            m.map
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
        other => Json::String(format!("{other:?}")),
    }
}

pub use crate::text::format_number;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_struct_literal_is_refused_not_evaluated() {
        // The interpreter panics ("Support structs!") on one; found by tests/fuzz.rs.
        for source in ["fa{}", "[1, Msg{a: 1}]", "object.x == T{}", "{\"k\": V{}}"] {
            let e = Expr::compile(source, &[]).unwrap_err();
            assert!(e.contains("builds a message struct"), "{source}: {e}");
        }
        assert!(Expr::compile("{\"k\": 1}.k == 1", &[]).is_ok());
    }

    #[test]
    fn integers_compare_with_literals() {
        let e = Expr::compile(
            "object.spec.completions == 20 && object.spec.parallelism <= 4",
            &[],
        )
        .unwrap();
        let mut vars = Vars::default();
        vars.set(
            "object",
            to_cel(&json!({"spec": {"completions": 20, "parallelism": 4}})),
        );
        assert!(e.eval_bool(&vars).unwrap());
        assert!(!e.live_only);
    }

    #[test]
    fn unknown_variables_and_syntax_are_compile_errors() {
        assert!(
            Expr::compile("jbo.spec", &[])
                .unwrap_err()
                .contains("unknown variable `jbo`")
        );
        assert!(
            Expr::compile("object.spec. ==", &[])
                .unwrap_err()
                .contains("syntax")
        );
        assert!(
            Expr::compile("facts.max_active <= 4", &[])
                .unwrap()
                .live_only
        );
    }

    #[test]
    fn kubernetes_functions_are_available() {
        let e = Expr::compile("quantity('500m').isLessThan(quantity('1'))", &[]).unwrap();
        assert!(e.eval_bool(&Vars::default()).unwrap());
    }
}
