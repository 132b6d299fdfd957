//! Judging structured result records in pod logs by what they say: a record is a line that is
//! a JSON object or holds at least two `key=value` pairs, with field names the learner chose.
//! Items are found as the field whose values name every work item (by the number in them),
//! workers by their pod name, hostname or completion index, failures by what the values say.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, target};
use crate::check::{Evidence, LiveTarget, PodLog};
use crate::model::{Assertion, RecordsCheck};

use crate::check::err;
use crate::text::clean;

/// One structured line: its fields as text, and the pod that wrote it.
struct Record<'a> {
    pod: &'a str,
    line: &'a str,
    fields: BTreeMap<String, String>,
}

fn pair_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?:^|[\s,;{])([A-Za-z_][\w.\-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s,;}]+)"#)
            .expect("valid pattern")
    })
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The fields of a structured line, or None for prose.
fn parse(line: &str) -> Option<BTreeMap<String, String>> {
    let t = line.trim();
    if t.starts_with('{')
        && let Ok(Json::Object(m)) = serde_json::from_str::<Json>(t)
    {
        return Some(m.iter().map(|(k, v)| (k.clone(), text(v))).collect());
    }
    let pairs: BTreeMap<String, String> = pair_pattern()
        .captures_iter(t)
        .map(|c| {
            let v = c[2].trim_matches(|ch| ch == '"' || ch == '\'');
            (c[1].to_owned(), v.to_owned())
        })
        .collect();
    (pairs.len() >= 2).then_some(pairs)
}

fn pod_name(p: &Json) -> &str {
    p.pointer("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("")
}

fn succeeded(p: &Json) -> bool {
    p.pointer("/status/phase").and_then(Json::as_str) == Some("Succeeded")
}

/// The item number a value names: the value itself, or the last number in it (`app-3.log`).
fn item_number(v: &str) -> Option<u64> {
    let digits: String = {
        let end = v.rfind(|c: char| c.is_ascii_digit())?;
        let start = v[..=end]
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        v[start..=end].to_owned()
    };
    digits.parse().ok()
}

/// The field that names the items: every value carries a number in 0..=n, and it names the
/// most distinct items (a name such as app-3.log reads better than a bare index on a tie).
fn item_field(records: &[Record], n: u64) -> Option<(String, BTreeSet<u64>)> {
    let keys: BTreeSet<&String> = records.iter().flat_map(|r| r.fields.keys()).collect();
    let mut found: Vec<(usize, bool, &String, BTreeSet<u64>)> = Vec::new();
    for key in keys {
        let numbers: Option<BTreeSet<u64>> = records
            .iter()
            .map(|r| {
                r.fields
                    .get(key)
                    .and_then(|v| item_number(v))
                    .filter(|x| *x <= n)
            })
            .collect();
        let Some(numbers) = numbers else { continue };
        let bare = records
            .iter()
            .all(|r| r.fields[key].chars().all(|c| c.is_ascii_digit()));
        found.push((usize::MAX - numbers.len(), bare, key, numbers));
    }
    found.sort();
    found
        .into_iter()
        .next()
        .map(|(_, _, k, numbers)| (k.clone(), numbers))
}

fn first_few(names: &[String]) -> String {
    crate::text::list_more(names, 3)
}

fn cut(line: &str) -> String {
    let c: String = line.chars().take(120).collect();
    clean(if c.len() < line.len() { &c } else { line })
}

fn judge_items(records: &[Record], n: u32, values: &mut BTreeMap<String, String>) -> Outcome {
    let Some((key, numbers)) = item_field(records, u64::from(n)) else {
        values.insert(
            "value".into(),
            format!("no field of the records names the {n} items (by a name with a number, like app-3.log, or the index)"),
        );
        return Ok((false, Vec::new()));
    };
    let from_zero: BTreeSet<u64> = (0..u64::from(n)).collect();
    let from_one: BTreeSet<u64> = (1..=u64::from(n)).collect();
    if numbers != from_zero && numbers != from_one {
        let overlap = |r: &BTreeSet<u64>| r.intersection(&numbers).count();
        let range = if overlap(&from_zero) > overlap(&from_one)
            || (overlap(&from_zero) == overlap(&from_one) && !numbers.contains(&u64::from(n)))
        {
            &from_zero
        } else {
            &from_one
        };
        let missing: Vec<String> = range.difference(&numbers).map(u64::to_string).collect();
        values.insert(
            "value".into(),
            format!(
                "the records (field `{key}`) name {} of the {n} items; never named: item {}",
                numbers.len(),
                first_few(&missing)
            ),
        );
        let (_, problems) = judge_items_counts(records, &key);
        return Ok((false, problems));
    }
    let (k, problems) = judge_items_counts(records, &key);
    values.insert("field".into(), key.clone());
    if !problems.is_empty() {
        values.insert(
            "value".into(),
            format!(
                "the items (field `{key}`) were not each done the same number of times: most {k} times, but {}",
                first_few(&problems)
            ),
        );
        return Ok((false, problems));
    }
    let each = if k == 1 {
        "once".to_owned()
    } else {
        format!("{k} times (once per role)")
    };
    values.insert(
        "value".into(),
        format!("all {n} items (field `{key}`) were done, each {each}"),
    );
    Ok((true, Vec::new()))
}

/// How many times most items were done, and what breaks the pattern: an item a pod named
/// twice, or an item done more or fewer times than the others.
fn judge_items_counts(records: &[Record], key: &str) -> (usize, Vec<String>) {
    let mut times: BTreeMap<u64, (usize, String)> = BTreeMap::new();
    let mut per_pod: BTreeSet<(&str, u64)> = BTreeSet::new();
    let mut repeated = Vec::new();
    for r in records {
        let v = &r.fields[key];
        let num = item_number(v).expect("item field values carry numbers");
        let e = times.entry(num).or_insert((0, v.clone()));
        e.0 += 1;
        if !per_pod.insert((r.pod, num)) {
            repeated.push(format!("pod {} named {} twice", r.pod, clean(v)));
        }
    }
    // The usual count: most items are done this many times.
    let mut freq: BTreeMap<usize, usize> = BTreeMap::new();
    for (c, _) in times.values() {
        *freq.entry(*c).or_default() += 1;
    }
    let k = freq
        .iter()
        .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
        .map_or(0, |(c, _)| *c);
    let uneven = times
        .values()
        .filter(|(c, _)| *c != k)
        .map(|(c, v)| format!("{} {c} times", clean(v)));
    let mut problems = repeated;
    problems.extend(uneven);
    (k, problems)
}

/// What a pod may call itself: its name (also its hostname), `JOB-INDEX` and its index.
fn identities(pod: &Json) -> (Vec<String>, Option<String>) {
    let name = pod_name(pod).to_owned();
    let mut names = vec![name];
    if let Some(h) = pod.pointer("/spec/hostname").and_then(Json::as_str) {
        names.push(h.to_owned());
    }
    let index = pod
        .pointer("/metadata/annotations/batch.kubernetes.io~1job-completion-index")
        .and_then(Json::as_str)
        .map(str::to_owned);
    (names, index)
}

fn names_worker(r: &Record, names: &[String], index: Option<&str>) -> bool {
    r.fields.iter().any(|(k, v)| {
        names
            .iter()
            .any(|n| !n.is_empty() && v.contains(n.as_str()))
            || index.is_some_and(|i| {
                let k = k.to_ascii_lowercase();
                v == i
                    && [
                        "worker",
                        "index",
                        "pod",
                        "host",
                        "shard",
                        "id",
                        "completion",
                    ]
                    .iter()
                    .any(|w| k.contains(w))
            })
    })
}

fn judge_workers(
    t: &LiveTarget,
    records: &[Record],
    values: &mut BTreeMap<String, String>,
) -> Outcome {
    let mut anonymous: Vec<String> = Vec::new();
    let mut example = None;
    for pod in &t.pods {
        let (names, index) = identities(pod);
        let mine: Vec<&Record> = records.iter().filter(|r| r.pod == pod_name(pod)).collect();
        if let Some(bad) = mine
            .iter()
            .find(|r| !names_worker(r, &names, index.as_deref()))
        {
            anonymous.push(pod_name(pod).to_owned());
            example.get_or_insert_with(|| cut(bad.line));
        }
    }
    if anonymous.is_empty() {
        values.insert(
            "value".into(),
            "every record names the worker that wrote it".into(),
        );
        return Ok((true, Vec::new()));
    }
    values.insert(
        "value".into(),
        format!(
            "{} pod(s) wrote records that do not say which worker they are ({}), e.g. \"{}\"",
            anonymous.len(),
            first_few(&anonymous),
            example.unwrap_or_default()
        ),
    );
    Ok((false, Vec::new()))
}

const LEVELS: [&str; 7] = [
    "error", "warn", "info", "debug", "fatal", "critical", "trace",
];

fn judge_levels(records: &[Record], n: u32, values: &mut BTreeMap<String, String>) -> Outcome {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        for (k, v) in &r.fields {
            let (k, v) = (k.to_ascii_lowercase(), v.to_ascii_lowercase());
            for level in LEVELS {
                if k.contains(level)
                    || v == level
                    || v == format!("{level}s")
                    || (level == "warn" && v == "warning")
                {
                    seen.insert(level);
                }
            }
        }
    }
    let list: Vec<&str> = seen.iter().copied().collect();
    values.insert(
        "value".into(),
        if list.is_empty() {
            "none".into()
        } else {
            list.join(", ")
        },
    );
    Ok((seen.len() >= n as usize, Vec::new()))
}

const FAILURE_WORDS: [&str; 9] = [
    "invalid", "fail", "failed", "failure", "error", "false", "rejected", "bad", "ko",
];

fn judge_failures(
    t: &LiveTarget,
    records: &[Record],
    values: &mut BTreeMap<String, String>,
) -> Outcome {
    let reported = records.iter().find(|r| {
        r.fields
            .values()
            .any(|v| FAILURE_WORDS.contains(&v.to_ascii_lowercase().as_str()))
    });
    if let Some(r) = reported {
        values.insert(
            "value".into(),
            format!("a failed item is reported: \"{}\"", cut(r.line)),
        );
        return Ok((true, Vec::new()));
    }
    let failed = t
        .pods
        .iter()
        .filter(|p| p.pointer("/status/phase").and_then(Json::as_str) == Some("Failed"))
        .count();
    let complete = t
        .facts
        .get("complete")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    if failed > 0 && complete {
        values.insert(
            "value".into(),
            format!("{failed} pod(s) failed and were retried until the Job completed"),
        );
        return Ok((true, Vec::new()));
    }
    values.insert(
        "value".into(),
        "no record reports a failed item (a value such as invalid, failed or false) and no pod failed and was retried".into(),
    );
    Ok((false, Vec::new()))
}

/// Judges the records of a target's pods.
fn judge_records(
    t: &LiveTarget,
    check: &RecordsCheck,
    values: &mut BTreeMap<String, String>,
) -> Outcome {
    let mut records = Vec::new();
    let mut silent = Vec::new();
    for pod in t.pods.iter().filter(|p| succeeded(p)) {
        let name = pod_name(pod);
        let before = records.len();
        for line in t.logs.get(name).into_iter().flat_map(PodLog::lines) {
            if let Some(fields) = parse(line) {
                records.push(Record {
                    pod: name,
                    line,
                    fields,
                });
            }
        }
        if records.len() == before {
            silent.push(name.to_owned());
        }
    }
    values.insert("records".into(), records.len().to_string());
    if records.is_empty() {
        values.insert(
            "value".into(),
            "no pod wrote a structured record (a JSON object, or key=value pairs)".into(),
        );
        return Ok((false, Vec::new()));
    }
    if !silent.is_empty() && (check.items.is_some() || check.worker) {
        values.insert(
            "value".into(),
            format!(
                "{} succeeded pod(s) wrote no structured record (a JSON object, or key=value pairs): {}",
                silent.len(),
                first_few(&silent)
            ),
        );
        return Ok((false, Vec::new()));
    }
    if let Some(n) = check.items {
        return judge_items(&records, n, values);
    }
    if check.worker {
        return judge_workers(t, &records, values);
    }
    if let Some(n) = check.levels {
        return judge_levels(&records, n, values);
    }
    judge_failures(t, &records, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_or_key_value_pairs() {
        assert_eq!(
            parse(r#"{"file":"app-3.log","errors":4}"#).unwrap()["errors"],
            "4"
        );
        let kv = parse("file=app-3.log worker=\"log-analysis-0-abc\" errors=4").unwrap();
        assert_eq!(kv["worker"], "log-analysis-0-abc");
        assert!(parse("Processed app-3.log: 4 errors").is_none());
        assert!(
            parse("starting worker=3").is_none(),
            "one pair is not a record"
        );
    }

    #[test]
    fn item_numbers() {
        assert_eq!(item_number("app-11.log"), Some(11));
        assert_eq!(item_number("dataset-03"), Some(3));
        assert_eq!(item_number("7"), Some(7));
        assert_eq!(item_number("none"), None);
    }
}
/// The compiled `records` assertion.
#[derive(Debug)]
pub struct Records {
    pub object: String,
    pub check: RecordsCheck,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let r = a.records.as_ref().expect("checked above");
    c.placeholders.extend(["records".into(), "field".into()]);
    let object = c.target(&r.object, "/records/object");
    if r.items.is_none() && !r.worker && r.levels.is_none() && !r.failures {
        c.errors.push(err(
            "/records",
            "give at least one of `items`, `worker`, `levels`, `failures`",
        ));
    }
    Some(Box::new(Records {
        object,
        check: r.clone(),
    }))
}

impl Check for Records {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn reads_logs_of(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Records { object, check } = self;
        values.insert("object".into(), object.clone());
        judge_records(target(ev, object)?, check, values)
    }
}
