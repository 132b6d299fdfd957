//! Label selectors as Kubernetes writes them (`app=web`, `tier!=db`, `env in (a,b)`,
//! `release notin (x)`, `canary`, `!legacy`): parsed once, with an author's or learner's mistake
//! said in words, and matched against an object's labels exactly as the API server matches them.

use std::collections::BTreeMap;
use std::fmt;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector: every requirement must hold. The empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector(pub Vec<Requirement>);

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut out = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "`{text}` has an empty requirement (a stray comma?)"
                ));
            }
            out.push(requirement(part)?);
        }
        Ok(Selector(out))
    }

    /// The selector of a map such as a Service's `spec.selector` or `matchLabels`.
    pub fn from_map(labels: &BTreeMap<String, String>) -> Selector {
        Selector(
            labels
                .iter()
                .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether labels satisfy every requirement (absent labels are `None`).
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }

    /// Whether labels given as JSON (`metadata.labels` of an object) satisfy it.
    pub fn matches_json(&self, labels: Option<&serde_json::Value>) -> bool {
        let map: Option<BTreeMap<String, String>> = labels.and_then(|l| l.as_object()).map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        });
        self.matches(map.as_ref())
    }
}

impl fmt::Display for Selector {
    /// The canonical text, as the API server's `labelSelector` parameter takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        write!(f, "{}", parts.join(","))
    }
}

/// Splits on commas outside parentheses: `a in (x,y),b` is two requirements.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    if text.trim().is_empty() {
        return Vec::new();
    }
    parts
}

fn requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key_of(key.trim(), part)?));
    }
    for (op, make) in [
        (
            "!=",
            Requirement::NotEquals as fn(String, String) -> Requirement,
        ),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((k, v)) = part.split_once(op) {
            let value = v.trim();
            check_value(value, part)?;
            return Ok(make(key_of(k.trim(), part)?, value.to_owned()));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words.as_slice() {
        let rest = rest.trim();
        let (negated, list) = if let Some(l) = rest.strip_prefix("notin") {
            (true, l)
        } else if let Some(l) = rest.strip_prefix("in") {
            (false, l)
        } else {
            return Err(format!(
                "`{part}` is not a requirement; write `key=value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` or `!key`"
            ));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| format!("`{part}`: the values go in parentheses: `{key} in (a,b)`"))?;
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
        for v in &values {
            check_value(v, part)?;
        }
        let key = key_of(key, part)?;
        return Ok(if negated {
            Requirement::NotIn(key, values)
        } else {
            Requirement::In(key, values)
        });
    }
    Ok(Requirement::Exists(key_of(part, part)?))
}

/// A label key: an optional DNS prefix and `/`, then a name of at most 63 characters.
fn key_of(key: &str, part: &str) -> Result<String, String> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let ok_name = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if !ok_name {
        return Err(format!(
            "`{part}`: `{key}` is not a label key (letters, digits, `-`, `_`, `.`, at most 63, with an optional `prefix/`)"
        ));
    }
    Ok(key.to_owned())
}

fn check_value(value: &str, part: &str) -> Result<(), String> {
    let ok = value.is_empty()
        || (value.len() <= 63
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && value.as_bytes()[0].is_ascii_alphanumeric()
            && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{part}`: `{value}` is not a label value (letters, digits, `-`, `_`, `.`, at most 63)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_form_kubernetes_accepts() {
        let s = Selector::parse("app=web, tier!=db,env in (prod, staging),!legacy,canary").unwrap();
        assert_eq!(s.0.len(), 5);
        let l = labels(&[("app", "web"), ("env", "prod"), ("canary", "")]);
        assert!(s.matches(Some(&l)));
        let l = labels(&[("app", "web"), ("env", "dev"), ("canary", "")]);
        assert!(!s.matches(Some(&l)));
        assert_eq!(
            s.to_string(),
            "app=web,tier!=db,env in (prod,staging),!legacy,canary"
        );
        assert!(Selector::parse("").unwrap().matches(None));
        assert!(Selector::parse("release notin (x)").unwrap().matches(None));
    }

    #[test]
    fn mistakes_are_said() {
        assert!(Selector::parse("app=").is_ok());
        assert!(Selector::parse("a,,b").unwrap_err().contains("empty"));
        assert!(
            Selector::parse("app in a,b")
                .unwrap_err()
                .contains("parentheses")
        );
        assert!(
            Selector::parse("app=we b")
                .unwrap_err()
                .contains("label value")
        );
        assert!(
            Selector::parse("x y z")
                .unwrap_err()
                .contains("not a requirement")
        );
    }
}
