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
            // (requirement, pod, what was seen): grouped into one message per requirement.
            let mut problems: Vec<(&'static str, String, String)> = Vec::new();
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
                            problems.push((
                                "unmatched",
                                (*pod).clone(),
                                format!("\"{}\"", clean(&cut(line))),
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
                                    let names: Vec<&str> =
                                        absent.iter().map(|s| s.as_str()).collect();
                                    problems.push((
                                        "json-lacks",
                                        (*pod).clone(),
                                        format!(
                                            "\"{}\" lacks {}",
                                            clean(&cut(line)),
                                            names.join(", ")
                                        ),
                                    ));
                                    continue;
                                }
                            }
                            _ => {
                                pod_ok = false;
                                problems.push((
                                    "not-json",
                                    (*pod).clone(),
                                    format!("\"{}\"", clean(&cut(line))),
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
                                    problems.push((
                                        "duplicate",
                                        (*pod).clone(),
                                        format!(
                                            "pods {other} and {pod} both call themselves {}",
                                            clean(&id)
                                        ),
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
                let first_line = log.iter().find(|l| !l.trim().is_empty());
                if matched == 0 {
                    pod_ok = false;
                    let seen = first_line.map_or("an empty log".to_owned(), |l| {
                        format!("first line \"{}\"", clean(&cut(l)))
                    });
                    problems.push(("no-match", (*pod).clone(), seen));
                } else if let Some(expect) = lines
                    && !expect.test(Some(&Json::from(matched)))
                {
                    pod_ok = false;
                    problems.push((
                        "count",
                        (*pod).clone(),
                        format!("{matched} matching lines, expected {}", expect.describe()),
                    ));
                }
                if sequence.is_some() {
                    let want: Vec<i64> = (1..=seq.len() as i64).collect();
                    if seq != want {
                        pod_ok = false;
                        problems.push((
                            "sequence",
                            (*pod).clone(),
                            format!(
                                "items came as {}, not 1..{} in order",
                                seq.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                                seq.len()
                            ),
                        ));
                    }
                }
                good_pods += usize::from(pod_ok);
            }
            let ok = match quantifier {
                PodQuantifier::Every => problems.is_empty(),
                PodQuantifier::Any => good_pods > 0,
            };
            let grouped = group_problems(&problems);
            let summary = if problems.is_empty() || (ok && *quantifier == PodQuantifier::Any) {
                format!("{good_pods} of {} pods' logs as required", pods.len())
            } else {
                grouped[0].clone()
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
                grouped.into_iter().skip(1).collect()
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

/// One message per failed requirement: how many pods, which (the first few), and the first
/// thing seen, in the order the requirements first failed.
fn group_problems(problems: &[(&'static str, String, String)]) -> Vec<String> {
    let mut order: Vec<&str> = Vec::new();
    for (kind, _, _) in problems {
        if !order.contains(kind) {
            order.push(kind);
        }
    }
    order
        .into_iter()
        .map(|kind| {
            let mine: Vec<&(&str, String, String)> =
                problems.iter().filter(|p| p.0 == kind).collect();
            let mut pods: Vec<&str> = mine.iter().map(|p| p.1.as_str()).collect();
            pods.dedup();
            let what = match kind {
                "unmatched" => "have lines that do not match the expected form",
                "json-lacks" => "wrote JSON lines without the required fields",
                "not-json" => "wrote matching lines that are not JSON objects",
                "no-match" => "wrote no matching line",
                "count" => "wrote the wrong number of matching lines",
                "duplicate" => "share an identity with another pod",
                _ => "did not log the items in order",
            };
            let shown: Vec<&str> = pods.iter().take(3).copied().collect();
            let more = pods.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "{} pod(s) {what} ({}{more}); first: {}",
                pods.len(),
                shown.join(", "),
                mine[0].2
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::group_problems;

    #[test]
    fn one_message_per_failed_requirement() {
        let p = |kind, pod: &str, text: &str| (kind, pod.to_owned(), text.to_owned());
        let problems = vec![
            p("no-match", "w-1", "first line \"starting\""),
            p("no-match", "w-2", "first line \"hello\""),
            p(
                "duplicate",
                "w-3",
                "pods w-2 and w-3 both call themselves x",
            ),
            p("no-match", "w-4", "an empty log"),
            p("no-match", "w-5", "an empty log"),
        ];
        assert_eq!(
            group_problems(&problems),
            [
                "4 pod(s) wrote no matching line (w-1, w-2, w-4 and 1 more); first: first line \"starting\"",
                "1 pod(s) share an identity with another pod (w-3); first: pods w-2 and w-3 both call themselves x",
            ]
        );
    }
}
