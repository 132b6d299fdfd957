//! `match`: a partial object the target must contain, written as in a manifest, the way kuttl
//! asserts and Chainsaw's assert steps are: maps need only the keys given, each list element
//! given must match a different element of the object's list (in any order), and quantities
//! compare by value (`500m` is `0.5`). A mismatch is said as its path and both values.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, name_of, objects_of};
use crate::check::{Evidence, err, quantity, show_value};
use crate::model::{Assertion, Phase};

#[derive(Debug)]
pub struct Match {
    pub object: String,
    pub contains: Json,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let m = a.match_.as_ref().expect("checked above");
    c.placeholders.extend(["path".into(), "found".into()]);
    c.default_phase = Phase::Both;
    let object = c.target(&m.object, "/match/object");
    if !m.contains.is_object() {
        c.errors.push(err(
            "/match/contains",
            "give the part of the object to match, as a mapping: `{spec: {replicas: 3}}`",
        ));
    }
    Some(Box::new(Match {
        object,
        contains: m.contains.clone(),
    }))
}

/// One difference: where, what was expected there, what was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub found: String,
}

impl Mismatch {
    fn line(&self) -> String {
        format!(
            "{}: expected {}, found {}",
            self.path, self.expected, self.found
        )
    }
}

impl Check for Match {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn live_only(&self) -> Option<&'static str> {
        None
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        values.insert("object".into(), self.object.clone());
        let objs = objects_of(ev, &self.object)?;
        let mut all = Vec::new();
        for o in objs {
            let mut found = Vec::new();
            contains(&self.contains, Some(o), "", &mut found);
            let whose = if objs.len() > 1 {
                format!("{}: ", name_of(o))
            } else {
                String::new()
            };
            all.extend(found.into_iter().map(|m| (whose.clone(), m)));
        }
        let Some((whose, first)) = all.first() else {
            values.insert("value".into(), "everything given matches".into());
            values.insert(
                "expected".into(),
                "the object to contain what is given".into(),
            );
            return Ok((true, Vec::new()));
        };
        values.insert("path".into(), first.path.clone());
        values.insert("found".into(), first.found.clone());
        values.insert("expected".into(), first.expected.clone());
        values.insert("value".into(), format!("{whose}{}", first.line()));
        let details = all
            .iter()
            .skip(1)
            .take(10)
            .map(|(w, m)| format!("{w}{}", m.line()))
            .collect();
        Ok((false, details))
    }
}

fn join(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[\"{key}\"]"),
    }
}

/// Scalars equal as written, as numbers (`"8080"` and `8080`), or as quantities (`500m`, `0.5`).
fn same_scalar(expected: &Json, actual: &Json) -> bool {
    if expected == actual {
        return true;
    }
    let as_text = |v: &Json| match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match (as_text(expected), as_text(actual)) {
        (Some(e), Some(a)) => match (quantity(&e), quantity(&a)) {
            (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(1.0),
            _ => false,
        },
        _ => false,
    }
}

/// Adds every difference between what is expected and the actual value at `path`.
pub fn contains(expected: &Json, actual: Option<&Json>, path: &str, out: &mut Vec<Mismatch>) {
    let shown = |v: Option<&Json>| match v {
        None | Some(Json::Null) => "nothing (not set)".to_owned(),
        Some(v) => show_value(Some(v)),
    };
    match (expected, actual) {
        (Json::Null, None | Some(Json::Null)) => {}
        (Json::Object(want), Some(Json::Object(have))) => {
            for (k, v) in want {
                contains(v, have.get(k), &join(path, k), out);
            }
        }
        (Json::Array(want), Some(Json::Array(have))) => list(want, have, path, out),
        (Json::Object(_) | Json::Array(_), other) => out.push(Mismatch {
            path: display_path(path),
            expected: compact(expected),
            found: shown(other),
        }),
        (e, Some(a)) if same_scalar(e, a) => {}
        (e, a) => out.push(Mismatch {
            path: display_path(path),
            expected: show_value(Some(e)),
            found: shown(a),
        }),
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "the object".into()
    } else {
        path.to_owned()
    }
}

fn compact(v: &Json) -> String {
    let text = v.to_string();
    if text.chars().count() > 120 {
        format!("{}...", text.chars().take(117).collect::<String>())
    } else {
        text
    }
}

/// Each expected element must match a different actual one. When one matches none, the
/// difference shown is with the element of the same `name` (containers, ports, env), or the
/// one at the same index.
fn list(want: &[Json], have: &[Json], path: &str, out: &mut Vec<Mismatch>) {
    let mut used = vec![false; have.len()];
    for (i, w) in want.iter().enumerate() {
        let fits = |a: &Json| {
            let mut m = Vec::new();
            contains(w, Some(a), "", &mut m);
            m.is_empty()
        };
        if let Some(j) = (0..have.len()).find(|j| !used[*j] && fits(&have[*j])) {
            used[j] = true;
            continue;
        }
        let name = w.get("name").and_then(Json::as_str);
        let partner = match name {
            Some(n) => have
                .iter()
                .position(|a| a.get("name").and_then(Json::as_str) == Some(n)),
            None if want.len() == 1 && have.len() == 1 => Some(0),
            None => None,
        };
        match partner {
            Some(j) => {
                let at = match name {
                    Some(n) => format!("{path}[name={n}]"),
                    None => format!("{path}[{j}]"),
                };
                contains(w, Some(&have[j]), &at, out);
            }
            None => out.push(Mismatch {
                path: format!("{}[{i}]", display_path(path)),
                expected: format!("an element like {}", compact(w)),
                found: if have.is_empty() {
                    "an empty list".into()
                } else {
                    format!(
                        "none among {}",
                        crate::text::count(have.len(), "element", "elements")
                    )
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(want: Json, have: Json) -> Vec<String> {
        let mut out = Vec::new();
        contains(&want, Some(&have), "", &mut out);
        out.iter().map(Mismatch::line).collect()
    }

    #[test]
    fn maps_are_subsets_and_lists_match_in_any_order() {
        let have = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "side", "image": "busybox:1.35"},
            {"name": "web", "image": "kuard:1", "resources": {"limits": {"cpu": "500m"}}}
        ]}}}});
        assert!(
            diff(
                json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "resources": {"limits": {"cpu": 0.5}}}]}}}}),
                have.clone()
            )
            .is_empty()
        );
        assert_eq!(
            diff(json!({"spec": {"replicas": 2}}), have.clone()),
            ["spec.replicas: expected 2, found 3"]
        );
        assert_eq!(
            diff(
                json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "kuard:blue"}]}}}}),
                have.clone()
            ),
            ["spec.template.spec.containers[name=web].image: expected kuard:blue, found kuard:1"]
        );
        assert_eq!(
            diff(
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}),
                json!({"metadata": {}})
            ),
            [
                "metadata.labels: expected {\"app.kubernetes.io/name\":\"web\"}, found nothing (not set)"
            ]
        );
        assert_eq!(
            diff(json!({"port": "8080"}), json!({"port": 8080})),
            Vec::<String>::new()
        );
    }
}
