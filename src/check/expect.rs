//! The comparisons checks share (`equals`, `in`, `min`, `max`, `matches`, `present`), compiled,
//! and how a JSON value is compared and shown to the learner.

use regex::Regex;
use serde_json::Value as Json;

use super::{CompileError, err, regex_message};
use crate::model::Expect;
use crate::text::format_number;

#[derive(Debug)]
pub struct CompiledExpect {
    equals: Option<Json>,
    one_of: Option<Vec<Json>>,
    min: Option<f64>,
    max: Option<f64>,
    matches: Option<Regex>,
    pub(crate) present: Option<bool>,
}

pub(crate) fn compile_expect(
    e: &Expect,
    pointer: &str,
    errors: &mut Vec<CompileError>,
) -> CompiledExpect {
    if e.equals.is_none()
        && e.one_of.is_none()
        && e.min.is_none()
        && e.max.is_none()
        && e.matches.is_none()
        && e.present.is_none()
    {
        errors.push(err(
            pointer,
            "give at least one of `equals`, `in`, `min`, `max`, `matches`, `present`",
        ));
    }
    if let (Some(min), Some(max)) = (e.min, e.max)
        && min > max
    {
        errors.push(err(
            pointer,
            format!("`min` ({min}) is above `max` ({max})"),
        ));
    }
    let matches = e.matches.as_ref().and_then(|m| {
        Regex::new(m)
            .map_err(|x| errors.push(err(&format!("{pointer}/matches"), regex_message(&x))))
            .ok()
    });
    CompiledExpect {
        equals: e.equals.clone(),
        one_of: e.one_of.clone(),
        min: e.min,
        max: e.max,
        matches,
        present: e.present,
    }
}

pub(crate) fn explain_cel_error(e: &str) -> String {
    if e.contains("No such key") || e.contains("NoSuchKey") {
        format!("a field the check reads is not set ({e})")
    } else {
        e.to_owned()
    }
}

pub(crate) fn missing(object: &str) -> String {
    format!("no object named `{object}` was found")
}

pub(crate) fn join_unique(values: &[String]) -> String {
    let mut seen: Vec<&String> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A JSON value as a learner reads it: strings bare, absent as "not set".
pub fn show_value(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => "not set".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n
            .as_f64()
            .map(format_number)
            .unwrap_or_else(|| n.to_string()),
        Some(other) => other.to_string(),
    }
}

impl CompiledExpect {
    pub fn test(&self, v: Option<&Json>) -> bool {
        let v = v.filter(|v| !v.is_null());
        if let Some(want) = self.present
            && v.is_some() != want
        {
            return false;
        }
        let constrained = self.equals.is_some()
            || self.one_of.is_some()
            || self.min.is_some()
            || self.max.is_some()
            || self.matches.is_some();
        let Some(v) = v else {
            return !constrained;
        };
        if let Some(e) = &self.equals
            && !same(v, e)
        {
            return false;
        }
        if let Some(list) = &self.one_of
            && !list.iter().any(|e| same(v, e))
        {
            return false;
        }
        if self.min.is_some() || self.max.is_some() {
            let Some(n) = number(v) else { return false };
            if self.min.is_some_and(|m| n < m) || self.max.is_some_and(|m| n > m) {
                return false;
            }
        }
        if let Some(re) = &self.matches
            && !re.is_match(&show_value(Some(v)))
        {
            return false;
        }
        true
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.equals {
            parts.push(show_value(Some(e)));
        }
        if let Some(list) = &self.one_of {
            parts.push(format!(
                "one of {}",
                list.iter()
                    .map(|v| show_value(Some(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        match (self.min, self.max) {
            (Some(a), Some(b)) => parts.push(format!(
                "between {} and {}",
                format_number(a),
                format_number(b)
            )),
            (Some(a), None) => parts.push(format!("at least {}", format_number(a))),
            (None, Some(b)) => parts.push(format!("at most {}", format_number(b))),
            (None, None) => {}
        }
        if let Some(re) = &self.matches {
            parts.push(format!("matching /{}/", re.as_str()));
        }
        match self.present {
            Some(true) if parts.is_empty() => parts.push("set".into()),
            Some(false) => parts.push("not set".into()),
            _ => {}
        }
        parts.join(" and ")
    }
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A number, or a Kubernetes quantity (`500m`, `256Mi`, `1.5`) as a number.
pub fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => quantity(s),
        _ => None,
    }
}

/// Parses a Kubernetes quantity.
pub fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let base: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(base * factor)
}
