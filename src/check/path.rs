//! Field paths in assertions: `spec.template.spec.containers[0].resources.limits.cpu`,
//! `metadata.labels["app.kubernetes.io/name"]`, `spec.template.spec.containers[*].image`.

use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
    /// Every element of a list (or every value of a map).
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    pub text: String,
    pub segments: Vec<Segment>,
}

impl FieldPath {
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let mut segments = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let mut key = String::new();
        let flush = |key: &mut String, segments: &mut Vec<Segment>| {
            if !key.is_empty() {
                segments.push(Segment::Key(std::mem::take(key)));
            }
        };
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    if key.is_empty()
                        && !matches!(segments.last(), Some(Segment::Index(_) | Segment::All))
                    {
                        return Err(format!("empty name before `.` at character {}", i + 1));
                    }
                    flush(&mut key, &mut segments);
                    i += 1;
                }
                '[' => {
                    flush(&mut key, &mut segments);
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| format!("`[` at character {} is never closed", i + 1))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    let inner = inner.trim();
                    if inner == "*" {
                        segments.push(Segment::All);
                    } else if let Ok(n) = inner.parse::<usize>() {
                        segments.push(Segment::Index(n));
                    } else if inner.len() >= 2
                        && ((inner.starts_with('"') && inner.ends_with('"'))
                            || (inner.starts_with('\'') && inner.ends_with('\'')))
                    {
                        segments.push(Segment::Key(inner[1..inner.len() - 1].to_owned()));
                    } else {
                        return Err(format!("`[{inner}]` is not an index, `*` or a quoted key"));
                    }
                    i = close + 1;
                }
                c if c.is_whitespace() => return Err("paths have no spaces".to_owned()),
                c => {
                    key.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut key, &mut segments);
        if segments.is_empty() {
            return Err("the path is empty".to_owned());
        }
        Ok(FieldPath {
            text: text.to_owned(),
            segments,
        })
    }

    /// Every value the path reaches, with the concrete path to it (`[*]` expanded).
    /// A missing field yields one entry with `None`, so "absent" can be judged.
    pub fn select<'a>(&self, root: &'a Json) -> Vec<(String, Option<&'a Json>)> {
        let mut current: Vec<(String, Option<&'a Json>)> = vec![(String::new(), Some(root))];
        for seg in &self.segments {
            let mut next = Vec::new();
            for (path, value) in current {
                match (seg, value) {
                    (_, None) => next.push((extend(&path, seg), None)),
                    (Segment::Key(k), Some(v)) => {
                        next.push((extend(&path, seg), v.get(k).filter(|v| !v.is_null())))
                    }
                    (Segment::Index(n), Some(v)) => next.push((extend(&path, seg), v.get(*n))),
                    (Segment::All, Some(Json::Array(items))) => {
                        for (i, item) in items.iter().enumerate() {
                            next.push((extend(&path, &Segment::Index(i)), Some(item)));
                        }
                    }
                    (Segment::All, Some(Json::Object(map))) => {
                        for (k, item) in map {
                            next.push((extend(&path, &Segment::Key(k.clone())), Some(item)));
                        }
                    }
                    (Segment::All, Some(_)) => next.push((extend(&path, seg), None)),
                }
            }
            current = next;
        }
        current
    }
}

fn extend(path: &str, seg: &Segment) -> String {
    match seg {
        Segment::Key(k) if k.contains('.') || k.contains('/') => format!("{path}[{k:?}]"),
        Segment::Key(k) if path.is_empty() => k.clone(),
        Segment::Key(k) => format!("{path}.{k}"),
        Segment::Index(i) => format!("{path}[{i}]"),
        Segment::All => format!("{path}[*]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_selects() {
        let p = FieldPath::parse("spec.containers[*].resources.limits.cpu").unwrap();
        let doc = json!({"spec": {"containers": [
            {"resources": {"limits": {"cpu": "1"}}},
            {"resources": {}}
        ]}});
        let got = p.select(&doc);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "spec.containers[0].resources.limits.cpu");
        assert_eq!(got[0].1, Some(&json!("1")));
        assert_eq!(got[1].1, None);
    }

    #[test]
    fn quoted_keys() {
        let p = FieldPath::parse("metadata.labels[\"app.kubernetes.io/name\"]").unwrap();
        assert_eq!(
            p.segments[2],
            Segment::Key("app.kubernetes.io/name".to_owned())
        );
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(FieldPath::parse("spec..x").is_err());
        assert!(FieldPath::parse("spec[abc]").is_err());
        assert!(FieldPath::parse("spec[0").is_err());
        assert!(FieldPath::parse("").is_err());
    }
}
