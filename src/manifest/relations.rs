//! Mistakes between the objects of one file, and the API server's rules for workloads, caught
//! before anything is applied: a Service whose selector matches no pod template in the file,
//! or whose `targetPort` no container exposes; an env or volume reference to a ConfigMap or
//! Secret key the file's object lacks; a probe on a port the container does not have; a
//! Deployment whose selector does not match its template (the API server refuses it); a
//! CronJob schedule the API server refuses, or one that never fires in the time a run waits.

use serde_json::Value as Json;

use super::{Finding, Object, Severity, pod_spec_pointer};
use crate::error::Diagnostic;
use crate::selector::Selector;
use crate::yaml::{self, Source};

/// A mistake between objects, or one the kubelet (not the API server) meets.
fn finding(
    source: &Source,
    obj: &Object,
    severity: Severity,
    pointer: &str,
    message: String,
    help: &str,
) -> Finding {
    Finding {
        category: "relation",
        ..refusal(source, obj, severity, pointer, message, help)
    }
}

/// What the API server itself refuses, in its words.
fn refusal(
    source: &Source,
    obj: &Object,
    severity: Severity,
    pointer: &str,
    message: String,
    help: &str,
) -> Finding {
    Finding {
        severity,
        category: "api-rule",
        diagnostic: Diagnostic::file(&source.name, message)
            .at_pos(obj.node.locate(pointer))
            .field(yaml::pointer_to_path(pointer))
            .with_help(help),
    }
}

fn string_map(v: Option<&Json>) -> std::collections::BTreeMap<String, String> {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn show_map(m: &std::collections::BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every finding between the objects, and the workload rules of each.
pub fn check(source: &Source, objects: &[Object]) -> Vec<Finding> {
    let mut out = Vec::new();
    for o in objects {
        match o.kind.as_str() {
            "Service" => out.extend(service(source, o, objects)),
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
                out.extend(selector_matches_template(source, o));
                out.extend(always_restart(source, o));
            }
            "CronJob" => out.extend(schedule(source, o)),
            _ => {}
        }
        if let Some(spec) = pod_spec_pointer(&o.kind) {
            out.extend(references(source, o, spec, objects));
            out.extend(probes(source, o, spec));
        }
    }
    out
}

/// The pod templates of the file: (object, its pod labels, its containers).
fn templates(objects: &[Object]) -> Vec<(&Object, &Json)> {
    objects
        .iter()
        .filter_map(|o| {
            let spec = pod_spec_pointer(&o.kind)?;
            let meta = spec.strip_suffix("/spec").unwrap_or("");
            let labels = if o.kind == "Pod" {
                o.json.pointer("/metadata/labels")
            } else {
                o.json.pointer(&format!("{meta}/metadata/labels"))
            };
            Some((o, labels.unwrap_or(&Json::Null)))
        })
        .collect()
}

fn containers(o: &Object) -> Vec<&Json> {
    pod_spec_pointer(&o.kind)
        .and_then(|p| o.json.pointer(&format!("{p}/containers")))
        .and_then(Json::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn service(source: &Source, svc: &Object, objects: &[Object]) -> Vec<Finding> {
    let mut out = Vec::new();
    let selector = string_map(svc.json.pointer("/spec/selector"));
    let templates = templates(objects);
    if selector.is_empty() || templates.is_empty() {
        return out;
    }
    let sel = Selector::from_map(&selector);
    let picked: Vec<&Object> = templates
        .iter()
        .filter(|(_, labels)| sel.matches_json(Some(labels)))
        .map(|(o, _)| *o)
        .collect();
    if picked.is_empty() {
        let have: Vec<String> = templates
            .iter()
            .map(|(o, l)| format!("{} has {}", o.label(), show_map(&string_map(Some(l)))))
            .collect();
        out.push(finding(
            source,
            svc,
            Severity::Error,
            "/spec/selector",
            format!(
                "the Service's selector {} matches no pod template in this file ({}): it would have no endpoints",
                show_map(&selector),
                have.join("; ")
            ),
            "a Service sends traffic to the pods whose labels include every key=value of its selector: make them agree",
        ));
        return out;
    }
    out.extend(target_ports(source, svc, &picked));
    out
}

/// Each Service port's `targetPort` against the ports of the pods it selects.
fn target_ports(source: &Source, svc: &Object, picked: &[&Object]) -> Vec<Finding> {
    let mut out = Vec::new();
    let ports: Vec<(Option<&str>, i64)> = picked
        .iter()
        .flat_map(|o| containers(o))
        .flat_map(|c| {
            c.get("ports")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
        })
        .map(|p| {
            (
                p.get("name").and_then(Json::as_str),
                p.get("containerPort").and_then(Json::as_i64).unwrap_or(-1),
            )
        })
        .collect();
    let svc_ports = svc.json.pointer("/spec/ports").and_then(Json::as_array);
    for (i, p) in svc_ports.into_iter().flatten().enumerate() {
        let port = p.get("port").and_then(Json::as_i64).unwrap_or(0);
        let pointer = format!("/spec/ports/{i}/targetPort");
        match p.get("targetPort") {
            Some(Json::String(name)) if !ports.iter().any(|(n, _)| *n == Some(name)) => {
                out.push(finding(
                    source,
                    svc,
                    Severity::Error,
                    &pointer,
                    format!(
                        "targetPort `{name}` names no container port of the pods it selects ({}): traffic to port {port} has nowhere to go",
                        picked.iter().map(|o| o.label()).collect::<Vec<_>>().join(", ")
                    ),
                    "name the container's port (`ports: [{name: http, containerPort: 8080}]`) or give its number",
                ))
            }
            Some(Json::Number(n)) if !ports.iter().any(|(_, c)| Some(*c) == n.as_i64()) => {
                out.push(finding(
                    source,
                    svc,
                    Severity::Warning,
                    &pointer,
                    format!(
                        "targetPort {n} is not a containerPort of the pods it selects: traffic reaches them only if the program listens there"
                    ),
                    "declare the port in the container (`ports: [{containerPort: N}]`) so the two are seen to agree",
                ))
            }
            _ => {}
        }
    }
    out
}

/// References from a pod template to the ConfigMaps and Secrets of its file.
struct Refs<'a> {
    source: &'a Source,
    o: &'a Object,
    objects: &'a [Object],
    out: Vec<Finding>,
}

impl Refs<'_> {
    /// The keys of the file's object of this kind and name, when the file has it.
    fn keys_of(&self, kind: &str, name: &str) -> Option<Vec<String>> {
        let obj = self
            .objects
            .iter()
            .find(|x| x.kind == kind && x.name.as_deref() == Some(name))?;
        let mut keys: Vec<String> = Vec::new();
        for field in ["data", "stringData", "binaryData"] {
            keys.extend(
                obj.json
                    .get(field)
                    .and_then(Json::as_object)
                    .into_iter()
                    .flat_map(|m| m.keys().cloned()),
            );
        }
        Some(keys)
    }

    /// One reference: to a key the file's object lacks (an error), or to an object of a kind
    /// the file has but not of this name (a warning).
    fn check(&mut self, pointer: String, kind: &str, r: &Json, name_key: &str, key: Option<&str>) {
        if r.get("optional").and_then(Json::as_bool).unwrap_or(false) {
            return;
        }
        let name = r.get(name_key).and_then(Json::as_str).unwrap_or("");
        let message = match (self.keys_of(kind, name), key) {
            (Some(keys), Some(k)) if !keys.iter().any(|x| x == k) => (
                Severity::Error,
                format!(
                    "{kind} `{name}` in this file has no key `{k}` (it has: {}): the container would not start (CreateContainerConfigError: couldn't find key {k} in {kind})",
                    if keys.is_empty() {
                        "no keys".to_owned()
                    } else {
                        keys.join(", ")
                    }
                ),
                "use one of its keys, or add this key to it",
            ),
            (None, _) if self.objects.iter().any(|x| x.kind == kind) => (
                Severity::Warning,
                format!(
                    "{kind} `{name}` is not in this file: it must exist in the namespace before the pod starts, or the container waits (CreateContainerConfigError)"
                ),
                "check the name against the file's own",
            ),
            _ => return,
        };
        let (severity, text, help) = message;
        self.out
            .push(finding(self.source, self.o, severity, &pointer, text, help));
    }

    fn containers(&mut self, spec: &str) {
        for list in ["initContainers", "containers"] {
            let base = format!("{spec}/{list}");
            let items = self.o.json.pointer(&base).and_then(Json::as_array).cloned();
            for (i, c) in items.into_iter().flatten().enumerate() {
                let env = c.get("env").and_then(Json::as_array).into_iter().flatten();
                for (j, e) in env.enumerate() {
                    for (field, kind) in
                        [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")]
                    {
                        if let Some(r) = e.pointer(&format!("/valueFrom/{field}")) {
                            let at = format!("{base}/{i}/env/{j}/valueFrom/{field}/key");
                            self.check(at, kind, r, "name", r.get("key").and_then(Json::as_str));
                        }
                    }
                }
                let from = c
                    .get("envFrom")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten();
                for (j, e) in from.enumerate() {
                    for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                        if let Some(r) = e.get(field) {
                            self.check(
                                format!("{base}/{i}/envFrom/{j}/{field}/name"),
                                kind,
                                r,
                                "name",
                                None,
                            );
                        }
                    }
                }
            }
        }
    }

    fn volumes(&mut self, spec: &str) {
        let volumes = self
            .o
            .json
            .pointer(&format!("{spec}/volumes"))
            .and_then(Json::as_array)
            .cloned();
        for (i, v) in volumes.into_iter().flatten().enumerate() {
            for (field, name_key, kind) in [
                ("configMap", "name", "ConfigMap"),
                ("secret", "secretName", "Secret"),
            ] {
                let Some(src) = v.get(field) else { continue };
                match src.get("items").and_then(Json::as_array) {
                    Some(items) => {
                        for (j, it) in items.iter().enumerate() {
                            let at = format!("{spec}/volumes/{i}/{field}/items/{j}/key");
                            self.check(
                                at,
                                kind,
                                src,
                                name_key,
                                it.get("key").and_then(Json::as_str),
                            );
                        }
                    }
                    None => self.check(
                        format!("{spec}/volumes/{i}/{field}/{name_key}"),
                        kind,
                        src,
                        name_key,
                        None,
                    ),
                }
            }
        }
    }
}

/// A reference from a pod template to a ConfigMap or Secret of this file that lacks the key.
fn references(source: &Source, o: &Object, spec: &str, objects: &[Object]) -> Vec<Finding> {
    let mut refs = Refs {
        source,
        o,
        objects,
        out: Vec::new(),
    };
    refs.containers(spec);
    refs.volumes(spec);
    refs.out
}

/// A probe on a named port the container does not have never succeeds.
fn probes(source: &Source, o: &Object, spec: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let base = format!("{spec}/containers");
    for (i, c) in o
        .json
        .pointer(&base)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let names: Vec<&str> = c
            .get("ports")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("name").and_then(Json::as_str))
            .collect();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            for how in ["httpGet", "tcpSocket", "grpc"] {
                let pointer = format!("{base}/{i}/{probe}/{how}/port");
                if let Some(Json::String(name)) = o.json.pointer(&pointer)
                    && !names.contains(&name.as_str())
                {
                    out.push(finding(
                        source,
                        o,
                        Severity::Error,
                        &pointer,
                        format!(
                            "the {probe} checks port `{name}`, which container `{}` does not name (it names: {}): the probe would fail every time",
                            c.get("name").and_then(Json::as_str).unwrap_or("?"),
                            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                        ),
                        "name the port under the container's `ports`, or give the probe its number",
                    ));
                }
            }
        }
    }
    out
}

fn selector_matches_template(source: &Source, o: &Object) -> Vec<Finding> {
    let Some(sel) = o.json.pointer("/spec/selector/matchLabels") else {
        return Vec::new();
    };
    let wanted = string_map(Some(sel));
    let labels = o.json.pointer("/spec/template/metadata/labels");
    if Selector::from_map(&wanted).matches_json(labels) {
        return Vec::new();
    }
    // The API server's words (recorded on 1.36 with `kubectl apply --dry-run=server`).
    let have = serde_json::to_string(labels.unwrap_or(&Json::Object(Default::default())))
        .unwrap_or_default();
    vec![refusal(
        source,
        o,
        Severity::Error,
        "/spec/template/metadata/labels",
        format!("Invalid value: {have}: `selector` does not match template `labels`"),
        "the pod template's labels must include every matchLabels key=value, so that the controller finds its own pods",
    )]
}

fn always_restart(source: &Source, o: &Object) -> Vec<Finding> {
    let pointer = "/spec/template/spec/restartPolicy";
    match o.json.pointer(pointer).and_then(Json::as_str) {
        Some(p) if p != "Always" => vec![refusal(
            source,
            o,
            Severity::Error,
            pointer,
            format!("Unsupported value: \"{p}\": supported values: \"Always\""),
            "a Deployment's pods run until replaced: leave restartPolicy out (it is Always); a Job is for work that finishes",
        )],
        _ => Vec::new(),
    }
}

/// The schedule as the API server validates it, and when it fires.
fn schedule(source: &Source, o: &Object) -> Vec<Finding> {
    let Some(spec) = o.json.pointer("/spec/schedule").and_then(Json::as_str) else {
        return Vec::new();
    };
    let parsed = match crate::facts::cron::parse(spec) {
        Ok(p) => p,
        Err(m) => {
            return vec![refusal(
                source,
                o,
                Severity::Error,
                "/spec/schedule",
                format!("Invalid value: \"{spec}\": {m}"),
                "five fields: minute hour day-of-month month day-of-week, e.g. `*/1 * * * *` for every minute",
            )];
        }
    };
    let tz_name = o.json.pointer("/spec/timeZone").and_then(Json::as_str);
    let tz = match tz_name {
        Some(name) => match jiff::tz::TimeZone::get(name) {
            Ok(tz) => tz,
            Err(_) => {
                return vec![refusal(
                    source,
                    o,
                    Severity::Error,
                    "/spec/timeZone",
                    format!("Invalid value: \"{name}\": unknown time zone {name}"),
                    "an IANA time zone name such as `Europe/Paris` or `Etc/UTC`",
                )];
            }
        },
        None => jiff::tz::TimeZone::UTC,
    };
    let now = jiff::Timestamp::now();
    let warn = |message: String| {
        vec![finding(
            source,
            o,
            Severity::Warning,
            "/spec/schedule",
            message,
            "for the exercise, a schedule such as `*/1 * * * *` runs within the minute",
        )]
    };
    match parsed.next(now, &tz) {
        None => warn(format!(
            "`{spec}` is valid but never fires (no such date in the next five years): the CronJob would never create a Job"
        )),
        Some(next) if next.duration_since(now) > jiff::SignedDuration::from_mins(10) => {
            warn(format!(
                "`{spec}` fires next at {next} ({}): `kubelab run` waits 10 minutes by default, so no Job would run in that time",
                crate::text::format_duration(next.duration_since(now))
            ))
        }
        Some(_) => Vec::new(),
    }
}
