//! A learner's manifest, checked offline: split into Kubernetes objects, validated against the
//! kind's schema and the API server's own rules, container scripts linted for busybox `sh`.

pub mod kube_schema;
mod pod_spec;
pub mod relations;
pub mod shell;

use serde_json::Value as Json;

use crate::error::{Diagnostic, Error};
use crate::yaml::{self, Node, Source};

/// One object of a manifest file.
#[derive(Debug, Clone)]
pub struct Object {
    /// 1-based document number in the file.
    pub document: usize,
    pub node: Node,
    pub json: Json,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
}

impl Object {
    /// `Job/image-processor`.
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.kind,
            self.name.as_deref().unwrap_or("(no name)")
        )
    }
}

/// Where a kind keeps its pod spec: `/spec` of a Pod, the template's of a Job or Deployment,
/// the Job template's of a CronJob.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Job" | "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            Some("/spec/template/spec")
        }
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// The values of a manifest's Secrets (`data`, base64, and `stringData`), to hide them
/// wherever they would be shown.
pub fn secret_values<'a>(objects: impl IntoIterator<Item = &'a Json>) -> crate::text::Redactor {
    use base64::Engine as _;
    let mut r = crate::text::Redactor::default();
    for o in objects {
        if o.get("kind").and_then(Json::as_str) != Some("Secret") {
            continue;
        }
        let name = o
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("");
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(map) = o.get(field).and_then(Json::as_object) else {
                continue;
            };
            for (k, v) in map {
                let Some(text) = v.as_str() else { continue };
                if encoded {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .unwrap_or_default();
                    r.add(&decoded, text, name, k);
                } else {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
                    r.add(text.as_bytes(), &b64, name, k);
                }
            }
        }
    }
    r
}

/// How serious a finding is: errors make the check fail; warnings are advice.
pub use crate::verdict::{Finding, Severity};

/// Parses a manifest file into objects. Malformed YAML, an empty file or a document that is not
/// a Kubernetes object is an input error: nothing can be judged.
pub fn parse(source: &Source) -> Result<Vec<Object>, Error> {
    refuse_directives(source)?;
    let docs = yaml::parse_documents(source)?;
    if docs.is_empty() {
        return Err(Error::input(
            Diagnostic::file(
                &source.name,
                "holds no Kubernetes object (the file is empty)",
            )
            .whole_file()
            .with_help("write the Job manifest into it, starting with `apiVersion: batch/v1`"),
        ));
    }
    let mut objects = Vec::new();
    let mut diags = Vec::new();
    for (i, node) in docs.into_iter().enumerate() {
        let document = i + 1;
        let not_object = |what: &str| {
            Diagnostic::file(
                &source.name,
                format!("document {document} is not a Kubernetes object: {what}"),
            )
            .at_pos(node.pos)
            .with_help("every document needs `apiVersion`, `kind` and `metadata.name`")
        };
        if !matches!(node.value, yaml::Value::Map(_)) {
            diags.push(not_object(&format!(
                "it is a {}, not a mapping",
                node.type_name()
            )));
            continue;
        }
        let api_version = node.get("apiVersion").and_then(Node::as_str);
        let kind = node.get("kind").and_then(Node::as_str);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            let missing: Vec<&str> = [("apiVersion", api_version), ("kind", kind)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            diags.push(not_object(&format!(
                "it has no `{}`",
                missing.join("` or `")
            )));
            continue;
        };
        let mut json = node.to_json();
        // `field: null` is the field left out, to the API server and so to every check.
        drop_nulls(&mut json);
        let name = json
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .map(str::to_owned);
        if kind == "List" {
            diags.push(
                Diagnostic::file(&source.name, "a `kind: List` is not supported here")
                    .at_pos(node.pos)
                    .with_help("write each object as its own document, separated by `---`"),
            );
            continue;
        }
        objects.push(Object {
            document,
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name,
            json,
            node,
        });
    }
    if !diags.is_empty() {
        return Err(Error::Input(diags));
    }
    Ok(objects)
}

/// kubectl cannot read a file with a YAML directive: neither can a learner's manifest be.
fn refuse_directives(source: &Source) -> Result<(), Error> {
    match directive_line(&source.text) {
        Some(line) => Err(Error::input(
            Diagnostic::file(
                &source.name,
                "starts a document with a `%` directive, which kubectl cannot read (it splits the file at `---` first and finds a document of only the directive)",
            )
            .at(line, 1)
            .with_help("delete the `%YAML`/`%TAG` line: Kubernetes manifests need none"),
        )),
        None => Ok(()),
    }
}

/// The line of a YAML directive (`%YAML 1.2`, `%TAG ...`): at the start of the file or
/// right after a document marker.
fn directive_line(text: &str) -> Option<usize> {
    let mut at_start = true;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t.starts_with('%') && at_start {
            return Some(i + 1);
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        at_start = t == "---" || t == "...";
    }
    None
}

fn drop_nulls(v: &mut Json) {
    match v {
        Json::Object(map) => {
            map.retain(|_, child| !child.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Json::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Schema, API rules and shell lint for every object.
pub fn validate(source: &Source, objects: &[Object]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for obj in objects {
        match kube_schema::schema_for(&obj.api_version, &obj.kind) {
            Some(schema) => {
                for d in schema.check(source, &obj.node, &obj.json) {
                    findings.push(Finding {
                        severity: Severity::Error,
                        category: "schema",
                        diagnostic: d,
                    });
                }
            }
            None => {
                let known = kube_schema::KINDS.iter().any(|(_, k)| *k == obj.kind);
                let message = if known {
                    let versions: Vec<&str> = kube_schema::KINDS
                        .iter()
                        .filter(|(_, k)| *k == obj.kind)
                        .map(|(v, _)| *v)
                        .collect();
                    format!(
                        "{} is not served as `{}`; use apiVersion {}",
                        obj.kind,
                        obj.api_version,
                        versions.join(" or ")
                    )
                } else {
                    format!(
                        "kubelab has no offline schema for {} {}; it is not validated",
                        obj.api_version, obj.kind
                    )
                };
                findings.push(Finding {
                    severity: if known {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    category: "schema",
                    diagnostic: Diagnostic::file(&source.name, message)
                        .at_pos(obj.node.locate(if known { "/apiVersion" } else { "/kind" }))
                        .field(if known { "apiVersion" } else { "kind" }),
                });
            }
        }
        findings.extend(rules(source, obj));
        findings.extend(shell::lint_object(source, obj));
    }
    findings
}

/// The API server's validation beyond the schema, with the server's own words, so the learner
/// sees offline what `kubectl apply` would answer.
fn rules(source: &Source, obj: &Object) -> Vec<Finding> {
    let mut out = name_and_labels(source, obj);
    out.extend(pod_spec::check(source, obj));
    if obj.api_version == "batch/v1" && obj.kind == "Job" {
        out.extend(restart_policy(source, obj, "/spec/template/spec"));
        out.extend(job_shape(source, obj, "/spec"));
    }
    if obj.api_version == "batch/v1" && obj.kind == "CronJob" {
        out.extend(restart_policy(
            source,
            obj,
            "/spec/jobTemplate/spec/template/spec",
        ));
        out.extend(job_shape(source, obj, "/spec/jobTemplate/spec"));
    }
    out
}

/// An error the API server would answer, at a field of the object.
fn api_rule(source: &Source, obj: &Object, pointer: &str, message: String, help: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        category: "api-rule",
        diagnostic: Diagnostic::file(&source.name, message)
            .at_pos(obj.node.locate(pointer))
            .field(yaml::pointer_to_path(pointer))
            .with_help(help),
    }
}

/// A valid name, and label values the API server accepts.
fn name_and_labels(source: &Source, obj: &Object) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |pointer: &str, message: String, help: &str| {
        out.push(api_rule(source, obj, pointer, message, help));
    };
    let j = &obj.json;
    match obj.name.as_deref() {
        None if j.pointer("/metadata/generateName").is_none() => push(
            "/metadata",
            "missing `name`: the API server refuses objects without a name".to_owned(),
            "add `metadata.name`",
        ),
        Some(name) if !is_dns_subdomain(name) => push(
            "/metadata/name",
            format!(
                "`{name}` is not a valid name: use lower-case letters, digits and `-`, starting and ending with a letter or digit"
            ),
            "for example `image-processor`",
        ),
        _ => {}
    }
    for meta in [
        "/metadata/labels",
        "/spec/template/metadata/labels",
        "/spec/jobTemplate/spec/template/metadata/labels",
    ] {
        if let Some(labels) = j.pointer(meta).and_then(Json::as_object) {
            for (key, value) in labels {
                let pointer = format!("{meta}/{}", key.replace('~', "~0").replace('/', "~1"));
                match value.as_str() {
                    Some(v) if is_label_value(v) => {}
                    Some(_) => push(
                        &pointer,
                        "invalid label value: at most 63 characters, letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit".to_owned(),
                        "for example `parallel-batch`",
                    ),
                    None => push(
                        &pointer,
                        format!("label values are strings; found {}", value),
                        "quote the value: `\"true\"`, `\"4\"`",
                    ),
                }
            }
        }
    }
    out
}

/// A Job's pods must be allowed to finish (`pod_spec`: where its pod spec is).
fn restart_policy(source: &Source, obj: &Object, pod_spec: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |pointer: &str, message: String, help: &str| {
        out.push(api_rule(source, obj, pointer, message, help));
    };
    let j = &obj.json;
    let at = format!("{pod_spec}/restartPolicy");
    let policy = j.pointer(&at).and_then(Json::as_str);
    match policy {
        Some("OnFailure") | Some("Never") => {}
        Some("Always") => push(
            &at,
            "Required value: valid values: \"OnFailure\", \"Never\" (the API server refuses `Always` in a Job)"
                .to_owned(),
            "a Job's pods must be allowed to finish: use `Never` (a failed pod is replaced) or `OnFailure` (the container restarts in place)",
        ),
        Some(_) => {} // not one of the enum: the schema already says so
        None => push(
            pod_spec,
            "restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"".to_owned(),
            "a Pod's default restartPolicy is Always, which a Job refuses: add `restartPolicy: Never`",
        ),
    }
    out
}

/// Indexed Jobs need completions; parallelism above completions is only a warning
/// (`spec`: where the Job spec is).
fn job_shape(source: &Source, obj: &Object, spec: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |pointer: &str, message: String, help: &str| {
        out.push(api_rule(source, obj, pointer, message, help));
    };
    let j = &obj.json;
    let at = |f: &str| format!("{spec}/{f}");
    if j.pointer(&at("completionMode")).and_then(Json::as_str) == Some("Indexed")
        && j.pointer(&at("completions")).is_none()
    {
        push(
            &at("completionMode"),
            "completions is required when completionMode is Indexed".to_owned(),
            "an Indexed Job needs `completions`: one index per work item",
        );
    }
    if let (Some(p), Some(c)) = (
        j.pointer(&at("parallelism")).and_then(Json::as_i64),
        j.pointer(&at("completions")).and_then(Json::as_i64),
    ) && p > c
        && c > 0
    {
        out.push(Finding {
                severity: Severity::Warning,
                category: "api-rule",
                diagnostic: Diagnostic::file(
                    &source.name,
                    format!("parallelism {p} is above completions {c}: the Job never runs more than {c} pods at once"),
                )
                .at_pos(obj.node.locate(&at("parallelism")))
                .field(yaml::pointer_to_path(&at("parallelism"))),
            });
    }
    out
}

fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && v.as_bytes()[0].is_ascii_alphanumeric()
            && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric())
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

/// The objects an exercise's own files create (its reference and given manifests), for what
/// is derived from the course: the learner's permissions and the class quota. A file that does
/// not parse is skipped here: `kubelab lint` reports it.
pub fn exercise_objects(
    course_root: &std::path::Path,
    ex: &crate::course::Exercise,
) -> Vec<Object> {
    let mut out = Vec::new();
    for rel in ex.file.reference.iter().chain(&ex.file.given) {
        let Some((shown, full)) = ex.file_path(course_root, rel) else {
            continue;
        };
        if let Ok(objects) = Source::read(&full, shown).and_then(|s| parse(&s)) {
            out.extend(objects);
        }
    }
    out
}
