//! Judging the checks that read cluster state: counts, durations, concurrency, logs, Events,
//! deletions. They run only on live evidence (or a bundle of it).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::expr::to_cel;
use super::{CountKind, Evidence, Kind, LiveTarget, format_duration, missing};
use crate::course::model::PodQuantifier;
use crate::report::clean;

type Outcome = Result<(bool, Vec<String>), String>;

fn target<'a>(ev: &'a Evidence, object: &str) -> Result<&'a LiveTarget, String> {
    if !ev.objects.contains_key(object) {
        return Err(missing(object));
    }
    ev.live.get(object).ok_or_else(|| missing(object))
}

fn fact<'a>(t: &'a LiveTarget, name: &str) -> Option<&'a Json> {
    t.facts.get(name).filter(|v| !v.is_null())
}

pub(super) fn evaluate(
    kind: &Kind,
    ev: &Evidence,
    values: &mut BTreeMap<String, String>,
) -> Outcome {
    match kind {
        Kind::Count {
            object,
            kind,
            filter,
            expect,
        } => {
            values.insert("object".into(), object.clone());
            values.insert("expected".into(), expect.describe());
            let items: Vec<&Json> = match kind {
                CountKind::Job => ev.jobs.iter().collect(),
                CountKind::Pod => target(ev, object)?.pods.iter().collect(),
                CountKind::Event => target(ev, object)?.events.iter().collect(),
            };
            let mut n = 0usize;
            for item in items {
                let keep = match filter {
                    None => true,
                    Some(f) => {
                        let mut vars = super::Vars::default();
                        vars.set("item", to_cel(item));
                        f.eval_bool(&vars)?
                    }
                };
                n += usize::from(keep);
            }
            values.insert("count".into(), n.to_string());
            values.insert("value".into(), n.to_string());
            Ok((expect.test(Some(&Json::from(n))), Vec::new()))
        }
        Kind::Duration {
            object,
            min,
            max,
            faster_than,
        } => {
            values.insert("object".into(), object.clone());
            let t = target(ev, object)?;
            let secs = fact(t, "duration_seconds")
                .and_then(Json::as_f64)
                .ok_or_else(|| format!("Job {object} has not started, so it has no duration"))?;
            let d = jiff::SignedDuration::from_secs_f64(secs);
            values.insert("value".into(), format_duration(d));
            let mut ok = true;
            let mut expected = Vec::new();
            if let Some(m) = min {
                ok &= d >= *m;
                expected.push(format!("at least {}", format_duration(*m)));
            }
            if let Some(m) = max {
                ok &= d <= *m;
                expected.push(format!("at most {}", format_duration(*m)));
            }
            if let Some(other) = faster_than {
                let o = target(ev, other)?;
                let osecs = fact(o, "duration_seconds")
                    .and_then(Json::as_f64)
                    .ok_or_else(|| format!("Job {other} has no duration to compare with"))?;
                values.insert(
                    "other".into(),
                    format_duration(jiff::SignedDuration::from_secs_f64(osecs)),
                );
                ok &= secs < osecs;
                expected.push(format!("faster than {other}"));
            }
            if !fact(t, "complete").and_then(Json::as_bool).unwrap_or(false) {
                // A duration of a Job that has not finished is only how long it has run so far.
                ok = ok && max.is_some() && min.is_none() && faster_than.is_none();
            }
            values.insert("expected".into(), expected.join(" and "));
            Ok((ok, Vec::new()))
        }
        Kind::Concurrency {
            object,
            max_active,
            min_active,
            min_running,
        } => {
            values.insert("object".into(), object.clone());
            let t = target(ev, object)?;
            let active = fact(t, "max_active").and_then(Json::as_u64).unwrap_or(0);
            let running = fact(t, "max_running").and_then(Json::as_u64).unwrap_or(0);
            values.insert("active".into(), active.to_string());
            values.insert("running".into(), running.to_string());
            values.insert("value".into(), active.to_string());
            let mut ok = true;
            let mut expected = Vec::new();
            if let Some(m) = max_active {
                ok &= active <= u64::from(*m);
                expected.push(format!("at most {m} active"));
            }
            if let Some(m) = min_active {
                ok &= active >= u64::from(*m);
                expected.push(format!("at least {m} active"));
            }
            if let Some(m) = min_running {
                ok &= running >= u64::from(*m);
                expected.push(format!("at least {m} running"));
            }
            values.insert("expected".into(), expected.join(" and "));
            Ok((ok, Vec::new()))
        }
        Kind::Records { object, check } => {
            values.insert("object".into(), object.clone());
            super::records::judge(target(ev, object)?, check, values)
        }
        Kind::Logs {
            object,
            pattern,
            quantifier,
            all_lines,
            lines,
            unique,
            sequence,
            json_fields,
        } => {
            values.insert("object".into(), object.clone());
            let t = target(ev, object)?;
            let succeeded: Vec<String> = t
                .pods
                .iter()
                .filter(|p| p.pointer("/status/phase").and_then(Json::as_str) == Some("Succeeded"))
                .filter_map(|p| {
                    p.pointer("/metadata/name")
                        .and_then(Json::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let pods: Vec<&String> = match quantifier {
                PodQuantifier::Every => succeeded.iter().collect(),
                PodQuantifier::Any => t.logs.keys().collect(),
            };
            if pods.is_empty() {
                values.insert(
                    "value".into(),
                    "no pod completed, so there are no logs to judge".into(),
                );
                return Ok((false, Vec::new()));
            }
            let mut problems: Vec<String> = Vec::new();
            let mut good_pods = 0;
            let mut identities: BTreeMap<String, String> = BTreeMap::new();
            for pod in &pods {
                let empty = Vec::new();
                let log = t.logs.get(*pod).unwrap_or(&empty);
                let mut pod_ok = true;
                let mut matched = 0usize;
                let mut seq: Vec<i64> = Vec::new();
                for line in log.iter().filter(|l| !l.trim().is_empty()) {
                    let caps = pattern.as_ref().map(|re| re.captures(line));
                    let is_match = match &caps {
                        None => true,
                        Some(c) => c.is_some(),
                    };
                    if !is_match {
                        if *all_lines {
                            pod_ok = false;
                            problems.push(format!(
                                "pod {pod}: line \"{}\" does not match",
                                clean(&cut(line))
                            ));
                        }
                        continue;
                    }
                    if !json_fields.is_empty() {
                        match serde_json::from_str::<Json>(line) {
                            Ok(Json::Object(m)) => {
                                let absent: Vec<&String> =
                                    json_fields.iter().filter(|f| !m.contains_key(*f)).collect();
                                if !absent.is_empty() {
                                    pod_ok = false;
                                    problems.push(format!(
                                        "pod {pod}: JSON line lacks {}",
                                        absent
                                            .iter()
                                            .map(|s| s.as_str())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ));
                                    continue;
                                }
                            }
                            _ => {
                                pod_ok = false;
                                problems.push(format!(
                                    "pod {pod}: line \"{}\" is not a JSON object",
                                    clean(&cut(line))
                                ));
                                continue;
                            }
                        }
                    }
                    matched += 1;
                    if let Some(Some(c)) = &caps {
                        if let Some(g) = unique.as_ref().and_then(|u| c.name(u)) {
                            let id = g.as_str().to_owned();
                            match identities.get(&id) {
                                Some(other) if other != *pod => {
                                    pod_ok = false;
                                    problems.push(format!(
                                        "pods {other} and {pod} both call themselves {}",
                                        clean(&id)
                                    ));
                                }
                                _ => {
                                    identities.insert(id, (*pod).clone());
                                }
                            }
                        }
                        if let Some(g) = sequence.as_ref().and_then(|s| c.name(s)) {
                            seq.push(g.as_str().parse().unwrap_or(-1));
                        }
                    }
                }
                if matched == 0 {
                    pod_ok = false;
                    problems.push(format!("pod {pod}: no matching line"));
                }
                if let Some(expect) = lines
                    && !expect.test(Some(&Json::from(matched)))
                {
                    pod_ok = false;
                    problems.push(format!(
                        "pod {pod}: {matched} matching lines, expected {}",
                        expect.describe()
                    ));
                }
                if sequence.is_some() {
                    let want: Vec<i64> = (1..=seq.len() as i64).collect();
                    if seq != want {
                        pod_ok = false;
                        problems.push(format!(
                            "pod {pod}: items came as {}, not 1..{} in order",
                            seq.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                            seq.len()
                        ));
                    }
                }
                good_pods += usize::from(pod_ok);
            }
            let ok = match quantifier {
                PodQuantifier::Every => problems.is_empty(),
                PodQuantifier::Any => good_pods > 0,
            };
            let summary = if problems.is_empty() || (ok && *quantifier == PodQuantifier::Any) {
                format!("{good_pods} of {} pods' logs as required", pods.len())
            } else {
                format!(
                    "{}{}",
                    problems[0],
                    if problems.len() > 1 {
                        format!(" (and {} more)", problems.len() - 1)
                    } else {
                        String::new()
                    }
                )
            };
            values.insert("value".into(), summary);
            values.insert(
                "pod".into(),
                pods.first().map(|p| p.to_string()).unwrap_or_default(),
            );
            // With `in: any`, other pods' misses do not matter once one pod matched.
            let details = if ok {
                Vec::new()
            } else {
                problems.into_iter().skip(1).take(5).collect()
            };
            Ok((ok, details))
        }
        Kind::Event {
            object,
            reason,
            message,
            present,
        } => {
            values.insert("object".into(), object.clone());
            let t = target(ev, object)?;
            let found = t.events.iter().find(|e| {
                e.get("reason").and_then(Json::as_str) == Some(reason.as_str())
                    && message.as_ref().is_none_or(|re| {
                        e.get("message")
                            .and_then(Json::as_str)
                            .is_some_and(|m| re.is_match(m))
                    })
            });
            let text = found
                .and_then(|e| e.get("message").and_then(Json::as_str))
                .map(|m| clean(&cut(m)))
                .unwrap_or_else(|| format!("no {reason} Event"));
            values.insert("message".into(), text.clone());
            values.insert("value".into(), text);
            values.insert(
                "expected".into(),
                format!("{}{reason} Event", if *present { "a " } else { "no " }),
            );
            Ok((found.is_some() == *present, Vec::new()))
        }
        Kind::Deleted {
            kind,
            selector,
            names,
        } => {
            let items: Vec<&Json> = match kind {
                CountKind::Job => ev.jobs.iter().collect(),
                CountKind::Pod => ev.live.values().flat_map(|t| t.pods.iter()).collect(),
                CountKind::Event => ev.live.values().flat_map(|t| t.events.iter()).collect(),
            };
            let remaining: Vec<String> = items
                .into_iter()
                .filter(|o| {
                    let name = o
                        .pointer("/metadata/name")
                        .and_then(Json::as_str)
                        .unwrap_or("");
                    let by_name = names.iter().any(|n| n == name);
                    let by_selector = selector.as_ref().is_some_and(|sel| {
                        sel.iter().all(|(k, v)| {
                            o.pointer("/metadata/labels")
                                .and_then(|l| l.get(k))
                                .and_then(Json::as_str)
                                == Some(v)
                        })
                    });
                    by_name || by_selector
                })
                .filter_map(|o| {
                    o.pointer("/metadata/name")
                        .and_then(Json::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let shown = if remaining.is_empty() {
                "none".to_owned()
            } else {
                remaining.join(", ")
            };
            values.insert("remaining".into(), shown.clone());
            values.insert("value".into(), shown);
            values.insert("expected".into(), "none".into());
            Ok((remaining.is_empty(), Vec::new()))
        }
        Kind::Field { .. } | Kind::Key { .. } | Kind::Expr { .. } => {
            unreachable!("judged in check::Compiled::evaluate")
        }
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(117).collect::<String>())
    } else {
        s.to_owned()
    }
}
