//! `logs`: log lines of the target's pods: a pattern in every (or any) pod, counts, identities,
//! sequences, JSON fields; a failure says what a matching line is, with an example.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, cut, target};
use crate::check::{CompiledExpect, Evidence, PodLog};
use crate::model::Assertion;

use regex::Regex;

use crate::check::{err, regex_message};
use crate::model::PodQuantifier;
use crate::text::clean;

#[derive(Debug)]
pub struct Logs {
    pub object: String,
    pub pattern: Option<Regex>,
    pub quantifier: PodQuantifier,
    pub all_lines: bool,
    pub lines: Option<CompiledExpect>,
    pub unique: Option<String>,
    pub sequence: Option<String>,
    pub json_fields: Vec<String>,
    /// What a matching line is, for the learner: from the course, or said from the pattern.
    pub expects: Option<String>,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let l = a.logs.as_ref().expect("checked above");
    c.placeholders.extend(["pod".into(), "line".into()]);
    let object = c.target(&l.object, "/logs/object");
    let pattern = l.pattern.as_ref().and_then(|p| {
        Regex::new(p)
            .map_err(|e| c.errors.push(err("/logs/pattern", regex_message(&e))))
            .ok()
    });
    for (name, group) in [("unique", &l.unique), ("sequence", &l.sequence)] {
        if let Some(g) = group {
            let known = pattern
                .as_ref()
                .is_some_and(|p| p.capture_names().flatten().any(|n| n == g));
            if !known {
                c.errors.push(err(
                    &format!("/logs/{name}"),
                    format!("`pattern` has no named group `(?P<{g}>...)`"),
                ));
            }
        }
    }
    if pattern.is_none() && l.pattern.is_none() && l.json_fields.is_empty() && l.lines.is_none() {
        c.errors
            .push(err("/logs", "give `pattern`, `json_fields` or `lines`"));
    }
    let lines = l.lines.as_ref().map(|e| c.expect(e, "/logs/lines"));
    Some(Box::new(Logs {
        object,
        pattern,
        quantifier: l.quantifier,
        all_lines: l.all_lines,
        lines,
        unique: l.unique.clone(),
        sequence: l.sequence.clone(),
        json_fields: l.json_fields.clone(),
        expects: l.expects.clone(),
    }))
}

impl Check for Logs {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn reads_logs_of(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        values.insert("object".into(), self.object.clone());
        let t = target(ev, &self.object)?;
        // A Job's pods did their work when they succeeded; a Deployment's or a bare Pod's
        // run on: every pod that runs or ran.
        let did_work = |p: &&Json| match p.pointer("/status/phase").and_then(Json::as_str) {
            Some("Succeeded") => true,
            Some("Running") | Some("Failed") => !t.pods_complete,
            _ => false,
        };
        let succeeded: Vec<String> = t
            .pods
            .iter()
            .filter(did_work)
            .filter_map(|p| {
                p.pointer("/metadata/name")
                    .and_then(Json::as_str)
                    .map(str::to_owned)
            })
            .collect();
        let pods: Vec<&String> = match self.quantifier {
            PodQuantifier::Every => succeeded.iter().collect(),
            PodQuantifier::Any => t.logs.keys().collect(),
        };
        if pods.is_empty() {
            let none = if t.pods_complete {
                "no pod completed, so there are no logs to judge"
            } else {
                "no pod is running, so there are no logs to judge"
            };
            values.insert("value".into(), none.into());
            return Ok((false, Vec::new()));
        }
        let mut problems: Vec<Problem> = Vec::new();
        let mut identities: BTreeMap<String, String> = BTreeMap::new();
        let empty = PodLog::default();
        let good_pods = pods
            .iter()
            .filter(|pod| {
                let log = t.logs.get(**pod).unwrap_or(&empty);
                self.judge_pod(pod, log, &mut identities, &mut problems)
            })
            .count();
        let ok = match self.quantifier {
            PodQuantifier::Every => problems.is_empty(),
            PodQuantifier::Any => good_pods > 0,
        };
        let grouped = group_problems(&problems, self.expects.as_deref());
        let summary = if problems.is_empty() || (ok && self.quantifier == PodQuantifier::Any) {
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
}

/// A requirement of the check that a pod's log can miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requirement {
    /// `all_lines`: every line matches the pattern.
    EveryLineMatches,
    /// `json_fields`: matching lines are JSON objects...
    JsonObject,
    /// ...with these fields.
    JsonFields,
    /// Some line matches.
    SomeLineMatches,
    /// `lines`: as many matching lines as expected.
    LineCount,
    /// `unique`: no two pods give the same identity.
    UniqueIdentity,
    /// `sequence`: items 1, 2, 3... in order.
    InOrder,
}

/// (requirement, pod, what was seen): grouped into one message per requirement.
type Problem = (Requirement, String, String);

/// Reads two named groups of a pattern (the identity and the item number), line after line.
/// A match's groups depend only on its text and on the one character either side of it:
/// every look-around the regex crate has (`^`, `$`, `\b`, `\B` and their variants) looks one
/// character away at most. So a line whose match has the same text and surroundings as the
/// last one read reuses its groups, and only the match is searched for, which costs a
/// fraction of reading groups (benches/class_load.rs: a pod repeats its identity on every
/// line).
struct GroupReader<'r> {
    re: &'r Regex,
    /// The groups' indexes, by name; `None` for a name the pattern lacks or none was given.
    wanted: [Option<usize>; 2],
    slots: regex::CaptureLocations,
    last: Option<LastMatch>,
}

/// The last match whose groups were read: its text, its surroundings, and the groups' spans
/// from its start.
struct LastMatch {
    text: String,
    before: Option<char>,
    after: Option<char>,
    spans: [Option<(usize, usize)>; 2],
}

impl<'r> GroupReader<'r> {
    fn new(re: &'r Regex, names: [&Option<String>; 2]) -> GroupReader<'r> {
        let index_of = |name: &Option<String>| {
            let name = name.as_deref()?;
            re.capture_names().position(|n| n == Some(name))
        };
        GroupReader {
            re,
            wanted: names.map(index_of),
            slots: re.capture_locations(),
            last: None,
        }
    }

    /// The wanted groups of the line's first match, or `None` when the line does not match.
    fn read<'l>(&mut self, line: &'l str) -> Option<[Option<&'l str>; 2]> {
        let found = self.re.find(line)?;
        let at = found.start();
        let before = line[..at].chars().next_back();
        let after = line[found.end()..].chars().next();
        let same = self.last.as_ref().filter(|last| {
            last.text == found.as_str() && last.before == before && last.after == after
        });
        let spans = match same {
            Some(last) => last.spans,
            None => {
                // From the match's start, the search finds that same match (no match starts
                // earlier), now with its groups.
                self.re.captures_read_at(&mut self.slots, line, at)?;
                let spans = self.wanted.map(|index| {
                    let (start, end) = self.slots.get(index?)?;
                    Some((start - at, end - at))
                });
                self.last = Some(LastMatch {
                    text: found.as_str().to_owned(),
                    before,
                    after,
                    spans,
                });
                spans
            }
        };
        Some(spans.map(|span| span.map(|(start, end)| &line[at + start..at + end])))
    }
}

impl Logs {
    /// Judges one pod's log, adding its problems; true when it met every requirement.
    fn judge_pod(
        &self,
        pod: &str,
        log: &PodLog,
        identities: &mut BTreeMap<String, String>,
        problems: &mut Vec<Problem>,
    ) -> bool {
        let before = problems.len();
        let mut matched = 0usize;
        let mut seq: Vec<i64> = Vec::new();
        // Groups only where one is read: a class's logs are millions of lines, and reading
        // groups costs several times a plain match.
        let mut groups = self
            .pattern
            .as_ref()
            .filter(|_| self.unique.is_some() || self.sequence.is_some())
            .map(|re| GroupReader::new(re, [&self.unique, &self.sequence]));
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            let read = match (&self.pattern, &mut groups) {
                (_, Some(reader)) => reader.read(line),
                (Some(re), None) => re.is_match(line).then_some([None, None]),
                (None, None) => Some([None, None]),
            };
            let Some([unique, sequence]) = read else {
                if self.all_lines {
                    problems.push((
                        Requirement::EveryLineMatches,
                        pod.to_owned(),
                        format!("\"{}\"", clean(&cut(line))),
                    ));
                }
                continue;
            };
            if let Some((kind, seen)) = self.json_problem(line) {
                problems.push((kind, pod.to_owned(), seen));
                continue;
            }
            matched += 1;
            if let Some(id) = unique {
                match identities.get(id) {
                    Some(other) if other != pod => problems.push((
                        Requirement::UniqueIdentity,
                        pod.to_owned(),
                        format!("pods {other} and {pod} both call themselves {}", clean(id)),
                    )),
                    Some(_) => {}
                    None => {
                        identities.insert(id.to_owned(), pod.to_owned());
                    }
                }
            }
            if let Some(item) = sequence {
                seq.push(item.parse().unwrap_or(-1));
            }
        }
        self.totals(pod, log, matched, &seq, problems);
        problems.len() == before
    }

    /// A matching line that should be a JSON object with the required fields, and is not.
    fn json_problem(&self, line: &str) -> Option<(Requirement, String)> {
        if self.json_fields.is_empty() {
            return None;
        }
        match serde_json::from_str::<Json>(line) {
            Ok(Json::Object(m)) => {
                let absent: Vec<&str> = self
                    .json_fields
                    .iter()
                    .filter(|f| !m.contains_key(*f))
                    .map(String::as_str)
                    .collect();
                (!absent.is_empty()).then(|| {
                    (
                        Requirement::JsonFields,
                        format!("\"{}\" lacks {}", clean(&cut(line)), absent.join(", ")),
                    )
                })
            }
            _ => Some((
                Requirement::JsonObject,
                format!("\"{}\"", clean(&cut(line))),
            )),
        }
    }

    /// The pod's log as a whole: some line matched, as many as expected, items in order.
    fn totals(
        &self,
        pod: &str,
        log: &PodLog,
        matched: usize,
        seq: &[i64],
        problems: &mut Vec<Problem>,
    ) {
        if matched == 0 {
            let seen = log
                .lines()
                .find(|l| !l.trim().is_empty())
                .map_or("an empty log".to_owned(), |l| {
                    format!("first line \"{}\"", clean(&cut(l)))
                });
            problems.push((Requirement::SomeLineMatches, pod.to_owned(), seen));
        } else if let Some(expect) = &self.lines
            && !expect.test(Some(&Json::from(matched)))
        {
            problems.push((
                Requirement::LineCount,
                pod.to_owned(),
                format!("{matched} matching lines, expected {}", expect.describe()),
            ));
        }
        if self.sequence.is_some() {
            let want: Vec<i64> = (1..=seq.len() as i64).collect();
            if seq != want {
                problems.push((
                    Requirement::InOrder,
                    pod.to_owned(),
                    format!(
                        "items came as {}, not 1..{} in order",
                        seq.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                        seq.len()
                    ),
                ));
            }
        }
    }
}

/// One message per failed requirement: how many pods, which (the first few), and the first
/// thing seen, in the order the requirements first failed.
fn group_problems(problems: &[Problem], expects: Option<&str>) -> Vec<String> {
    let mut order: Vec<Requirement> = Vec::new();
    for &(kind, _, _) in problems {
        if !order.contains(&kind) {
            order.push(kind);
        }
    }
    order
        .into_iter()
        .map(|kind| {
            let mine: Vec<&Problem> = problems.iter().filter(|p| p.0 == kind).collect();
            let mut pods: Vec<&str> = mine.iter().map(|p| p.1.as_str()).collect();
            pods.dedup();
            let no_match = match expects {
                Some(e) => format!("wrote no {e}"),
                None => "wrote no matching line".to_owned(),
            };
            let what = match kind {
                Requirement::EveryLineMatches => "have lines that do not match the expected form",
                Requirement::JsonFields => "wrote JSON lines without the required fields",
                Requirement::JsonObject => "wrote matching lines that are not JSON objects",
                Requirement::SomeLineMatches => no_match.as_str(),
                Requirement::LineCount => "wrote the wrong number of matching lines",
                Requirement::UniqueIdentity => "share an identity with another pod",
                Requirement::InOrder => "did not log the items in order",
            };
            let shown: Vec<&str> = pods.iter().take(3).copied().collect();
            let more = pods.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let what = match (pods.len(), what) {
                (1, w) if w.starts_with("have ") => w.replacen("have ", "has ", 1),
                (1, w) if w.starts_with("share ") => w.replacen("share ", "shares ", 1),
                (_, w) => w.to_owned(),
            };
            format!(
                "{} {what} ({}{more}); found: {}",
                crate::text::count(pods.len(), "pod", "pods"),
                shown.join(", "),
                mine[0].2
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Logs, Requirement, group_problems};
    use crate::check::PodLog;
    use std::collections::BTreeMap;

    fn logs_check(pattern: &str, unique: Option<&str>, sequence: Option<&str>) -> Logs {
        Logs {
            object: "job".into(),
            pattern: Some(regex::Regex::new(pattern).unwrap()),
            quantifier: crate::model::PodQuantifier::Every,
            all_lines: false,
            lines: None,
            unique: unique.map(str::to_owned),
            sequence: sequence.map(str::to_owned),
            json_fields: Vec::new(),
            expects: None,
        }
    }

    /// Groups are read by name: a sequence alone never makes pods' lines identities, and an
    /// identity repeated by one pod is no duplicate, but by two pods it is.
    #[test]
    fn groups_are_read_by_name_only() {
        let log = |text: &str| PodLog::new([std::sync::Arc::<str>::from(text)]);
        let sequence = logs_check(r"Completed item (?P<item>\d+)", None, Some("item"));
        let (mut ids, mut problems) = (BTreeMap::new(), Vec::new());
        for pod in ["w-1", "w-2"] {
            let both = log("Completed item 1\nCompleted item 2\n");
            assert!(sequence.judge_pod(pod, &both, &mut ids, &mut problems));
        }
        assert!(
            problems.is_empty() && ids.is_empty(),
            "{problems:?} {ids:?}"
        );
        let unique = logs_check(r"worker=(?P<worker>\S+)", Some("worker"), None);
        let mut problems = Vec::new();
        let mine = log("worker=a step\nworker=a step\n");
        assert!(unique.judge_pod("w-1", &mine, &mut ids, &mut problems));
        assert!(!unique.judge_pod("w-2", &mine, &mut ids, &mut problems));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.0 == Requirement::UniqueIdentity));
    }

    /// Reading groups through the last match gives what reading every line afresh gives,
    /// whatever the lines and whatever the patterns' look-arounds see around a repeated match.
    #[test]
    fn reused_groups_are_those_read_afresh() {
        use proptest::prelude::*;
        let patterns = [
            r"(?i)\b(?:worker|id)\b\s*(?:[=:]\s*|\s+)(?P<a>[a-z0-9-]*[0-9-][a-z0-9-]*)",
            r"^(?P<a>w=\d*)(?P<b>\d)?$",
            r"(?P<a>\Bw)=?(?P<b>\d+)?\b",
            r"(?m)(?P<a>\d)$|(?P<b>x)",
            r"\b{start}(?P<a>\w)(?P<b>\w*)\b{end}",
            r"(?P<a>é?)1",
            // The same text, matched by different groups in different surroundings.
            r"(?P<a>\bw)|(?P<b>w)",
            r"(?P<a>1\b)|(?P<b>1)",
            r"(?P<a>^x)|(?P<b>x)",
            r"(?P<a>-$)|(?P<b>-)",
        ];
        let line = proptest::string::string_regex("[wWid=: 1-3xé-]{0,12}").unwrap();
        proptest!(|(lines in proptest::collection::vec(line, 1..12))| {
            for pattern in patterns {
                let re = regex::Regex::new(pattern).unwrap();
                let (a, b) = (Some("a".to_owned()), Some("b".to_owned()));
                let mut reader = super::GroupReader::new(&re, [&a, &b]);
                for line in &lines {
                    let afresh = re
                        .captures(line)
                        .map(|c| ["a", "b"].map(|g| c.name(g).map(|m| m.as_str())));
                    prop_assert_eq!(reader.read(line), afresh, "{} on {:?}", pattern, line);
                }
            }
        });
    }

    #[test]
    fn one_message_per_failed_requirement() {
        let p = |kind, pod: &str, text: &str| (kind, pod.to_owned(), text.to_owned());
        let problems = vec![
            p(
                Requirement::SomeLineMatches,
                "w-1",
                "first line \"starting\"",
            ),
            p(Requirement::SomeLineMatches, "w-2", "first line \"hello\""),
            p(
                Requirement::UniqueIdentity,
                "w-3",
                "pods w-2 and w-3 both call themselves x",
            ),
            p(Requirement::SomeLineMatches, "w-4", "an empty log"),
            p(Requirement::SomeLineMatches, "w-5", "an empty log"),
        ];
        assert_eq!(
            group_problems(
                &problems,
                Some("line that names the worker, e.g. `worker=w-1`")
            ),
            [
                "4 pods wrote no line that names the worker, e.g. `worker=w-1` (w-1, w-2, w-4 and 1 more); found: first line \"starting\"",
                "1 pod shares an identity with another pod (w-3); found: pods w-2 and w-3 both call themselves x",
            ]
        );
    }
}
