//! Reading untrusted YAML: size and content limits, multi-document parsing through serde-saphyr,
//! and a value tree that remembers where every node and key came from, so that any later
//! complaint (schema, assertion, shell lint) can name the file, line and column.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::error::{Diagnostic, Error};

mod syntax;
use syntax::syntax_diagnostic;

/// Largest file kubelab reads as YAML. Real manifests and course files are a few KiB; anything
/// near this size is a mistake (a log, an archive) and is refused before it is read whole.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// A text file read into memory, with the name to show in messages.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name shown to the user: the path as they gave it, or relative to the course root.
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Reads a file, refusing files over [`MAX_FILE_BYTES`] and anything that is not UTF-8 text.
    pub fn read(path: &Path, shown_as: impl Into<String>) -> Result<Source, Error> {
        let name = shown_as.into();
        let file = std::fs::File::open(path).map_err(|e| Error::io(&name, e))?;
        if let Ok(meta) = file.metadata()
            && meta.is_dir()
        {
            return Err(Error::input(
                Diagnostic::file(&name, "is a directory, not a YAML file")
                    .whole_file()
                    .with_help("give the YAML file inside it"),
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&name, e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::input(
                Diagnostic::file(
                    &name,
                    format!(
                        "file is larger than the {} MiB limit for YAML files",
                        MAX_FILE_BYTES / (1024 * 1024)
                    ),
                )
                .whole_file()
                .with_help(
                    "a manifest or course file is a few KiB; check that this is the right file",
                ),
            ));
        }
        Source::from_bytes(name, bytes)
    }

    pub fn from_bytes(name: String, bytes: Vec<u8>) -> Result<Source, Error> {
        // Windows editors save UTF-16 with a byte order mark; kubectl reads it, so do we.
        let bytes = match bytes.get(..2) {
            Some([0xff, 0xfe]) => utf16(&bytes[2..], u16::from_le_bytes).unwrap_or(bytes),
            Some([0xfe, 0xff]) => utf16(&bytes[2..], u16::from_be_bytes).unwrap_or(bytes),
            _ => bytes,
        };
        if let Some(pos) = bytes.iter().position(|b| *b == 0) {
            let (line, column) = line_col(&bytes, pos);
            let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
            return Err(Error::input(
                Diagnostic::file(
                    &name,
                    format!("is a binary file (NUL byte at offset {pos}), not YAML text"),
                )
                .at(line, column)
                .with_help(if utf16 {
                    "it is saved as UTF-16: save it as UTF-8 (YAML files are UTF-8 text)"
                } else {
                    "pass the YAML manifest itself, as text; delete the NUL byte if the file is meant to be text"
                }),
            ));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source { name, text }),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let (line, column) = line_col(e.as_bytes(), offset);
                Err(Error::input(
                    Diagnostic::file(&name, "is not UTF-8 text")
                        .at(line, column)
                        .with_help("save the file as UTF-8; YAML files must be text"),
                ))
            }
        }
    }
}

/// UTF-16 text as UTF-8 bytes, or `None` when it is not UTF-16 after all.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<Vec<u8>> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    String::from_utf16(&units).ok().map(String::into_bytes)
}

fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    (line, offset - col_start + 1)
}

pub use crate::error::Pos;

fn pos_of(loc: &serde_saphyr::Location) -> Pos {
    Pos {
        line: loc.line() as usize,
        column: loc.column() as usize,
        offset: loc.span().byte_offset().map(|o| o as usize),
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// A mapping key with its position (keys are where "unknown field" errors point).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub pos: Pos,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl Node {
    /// The node as plain JSON, for schema validation and expressions.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Finds the position for a JSON pointer (`/spec/template/0`): of the key when the pointer
    /// ends at a map entry (that is where a reader looks for a field), else of the node.
    /// Falls back to the deepest node that exists.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for raw in pointer.split('/').skip(1) {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.name == segment)
                    .map(|(k, v)| (k.pos, v)),
                Value::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|v| (v.pos, v)),
                _ => None,
            };
            match next {
                Some((p, v)) => {
                    pos = p;
                    node = v;
                }
                None => break,
            }
        }
        pos
    }

    /// A short description of the node's type, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

/// The inverse of [`pointer_to_path`]: `assertions[1].expr` -> `/assertions/1/expr`.
pub fn path_to_pointer(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while !rest.is_empty() {
        let (segment, next) = if let Some(inner) = rest.strip_prefix("[\"") {
            let end = inner.find("\"]").unwrap_or(inner.len());
            (&inner[..end], inner.get(end + 2..).unwrap_or(""))
        } else if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').unwrap_or(inner.len());
            (&inner[..end], inner.get(end + 1..).unwrap_or(""))
        } else {
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push('/');
        out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        rest = next;
    }
    out
}

/// Turns a JSON pointer into the dotted form authors and learners read: `spec.items[2].name`.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        // A key is the author's or learner's text: shown, never obeyed by the terminal.
        let segment =
            crate::text::clean(&raw.replace("~1", "/").replace("~0", "~")).replace('\n', "\\n");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else if segment.contains('.') || segment.contains('/') {
            out.push_str(&format!("[{segment:?}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            pos: pos_of(&spanned.referenced),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .or(Ok(Value::Float(v as f64)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .or(Ok(Value::Float(v as f64)))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .or(Ok(Value::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let name = match key.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => {
                    return Err(de::Error::custom(format!(
                        "line {}: a mapping key must be a plain value, not a list or mapping",
                        key.pos.line
                    )));
                }
            };
            let value = map.next_value::<Node>()?;
            entries.push((Key { pos: key.pos, name }, value));
        }
        Ok(Value::Map(entries))
    }
}

/// Which YAML conventions a file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Kubernetes manifests: read like kubectl reads them (YAML 1.1 booleans: `yes`, `on`, `y`
    /// are true), so a learner sees offline what the API server would see.
    Kubernetes,
    /// kubelab's own course files: YAML 1.2, where only `true` and `false` are booleans, so an
    /// author's `on:` key or `n` value stays a string.
    Course,
}

fn options(flavor: Flavor) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Course files and manifests are small; these limits stop alias bombs and deep nesting
    // long before they cost memory or time.
    budget.max_events = 500_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_recorded_anchor_bytes = 4 * 1024 * 1024;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.with_snippet = false;
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_alias_expansions_per_anchor = 1_000;
    opts.strict_booleans = flavor == Flavor::Course;
    opts
}

/// Parses every document of a YAML stream. Empty documents (`---` with nothing after) are skipped.
pub fn parse_documents(source: &Source) -> Result<Vec<Node>, Error> {
    parse_with(source, Flavor::Kubernetes)
}

pub fn parse_with(source: &Source, flavor: Flavor) -> Result<Vec<Node>, Error> {
    let docs: Vec<Node> = serde_saphyr::from_str_multiple_with_options::<Node, Vec<Node>>(
        &source.text,
        options(flavor),
    )
    .map_err(|e| Error::input(syntax_diagnostic(source, &e)))?;
    Ok(docs
        .into_iter()
        .filter(|d| d.value != Value::Null)
        .collect())
}

/// Parses a course file: exactly one document, YAML 1.2 booleans.
pub fn parse_single(source: &Source) -> Result<Node, Error> {
    let mut docs = parse_with(source, Flavor::Course)?;
    match docs.len() {
        0 => Err(Error::input(
            Diagnostic::file(&source.name, "is empty")
                .whole_file()
                .with_help("the file must hold one YAML mapping"),
        )),
        1 => Ok(docs.remove(0)),
        n => Err(Error::input(
            Diagnostic::file(
                &source.name,
                format!("holds {n} YAML documents; expected one"),
            )
            .at(docs[1].pos.line, docs[1].pos.column)
            .with_help("remove the extra `---` separated documents"),
        )),
    }
}

/// Resolves a path given by an author inside the course, refusing absolute paths and `..`
/// so a course file can never make kubelab read outside its own folder.
pub fn resolve_inside(base: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if rel.is_absolute()
        || rel.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    {
        return None;
    }
    Some(base.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_pointers_are_inverses() {
        for pointer in [
            "/assertions/1/expr",
            "/spec/template/spec/containers/0/name",
            "/metadata/labels/a.b~1c",
            "",
        ] {
            assert_eq!(
                path_to_pointer(&pointer_to_path(pointer)),
                pointer,
                "{pointer}"
            );
        }
        assert_eq!(
            pointer_to_path("/metadata/labels/a\u{1b}b"),
            "metadata.labels.a\\eb"
        );
    }

    #[test]
    fn positions_of_keys_and_values() {
        let src = Source::new("t.yaml", "a: 1\nb:\n  c: [x, z]\n");
        let doc = parse_single(&src).unwrap();
        assert_eq!(doc.locate("/b/c").line, 3);
        assert_eq!(doc.locate("/b/c").column, 3);
        assert_eq!(doc.locate("/b/c/1").column, 10);
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"a": 1, "b": {"c": ["x", "z"]}})
        );
    }

    #[test]
    fn a_duplicate_key_names_both_lines_and_what_kubernetes_does() {
        let src = Source::new(
            "t.yaml",
            "kind: Job\nmetadata:\n  name: a\n  labels: {x: y}\n  name: b\n",
        );
        let e = parse_documents(&src).unwrap_err().to_string();
        assert!(
            e.contains("the key `name` is written twice in one mapping (lines 3 and 5)"),
            "{e}"
        );
        assert!(e.contains("keep only the last one"), "{e}");
        assert!(!e.contains("DuplicateKeyPolicy"), "{e}");
        let list = Source::new("t.yaml", "c:\n  - name: a\n    image: x\n    name: b\n");
        let e = parse_documents(&list).unwrap_err().to_string();
        assert!(e.contains("(lines 2 and 4)"), "{e}");
    }

    #[test]
    fn many_empty_documents_are_not_called_an_alias_bomb() {
        let src = Source::new("t.yaml", "---\n".repeat(600_000));
        let e = parse_documents(&src).unwrap_err().to_string();
        assert!(e.contains("more documents or nodes"), "{e}");
        assert!(!e.contains("alias"), "{e}");
    }

    #[test]
    fn dotted_paths() {
        assert_eq!(
            pointer_to_path("/exercises/2/points"),
            "exercises[2].points"
        );
        assert_eq!(
            pointer_to_path("/metadata/labels/app.kubernetes.io~1name"),
            "metadata.labels[\"app.kubernetes.io/name\"]"
        );
    }

    #[test]
    fn refuses_escaping_paths() {
        assert!(resolve_inside(Path::new("/c"), "../x").is_none());
        assert!(resolve_inside(Path::new("/c"), "/etc/passwd").is_none());
        assert!(resolve_inside(Path::new("/c"), "a/b.yaml").is_some());
    }
}
