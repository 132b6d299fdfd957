//! `duration`: how long a Job ran, absolutely or against another Job.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Check, Compiling, Outcome, fact, target};
use crate::check::Evidence;
use crate::model::Assertion;

use crate::check::{CompileError, err, parse_duration};
use crate::text::format_duration;

#[derive(Debug)]
pub struct Duration {
    pub object: String,
    pub min: Option<jiff::SignedDuration>,
    pub max: Option<jiff::SignedDuration>,
    pub faster_than: Option<String>,
}

pub(super) fn compile(a: &Assertion, c: &mut Compiling) -> Option<Box<dyn Check>> {
    let d = a.duration.as_ref().expect("checked above");
    let object = c.target(&d.object, "/duration/object");
    let parse = |s: &Option<String>, p: &str, errors: &mut Vec<CompileError>| {
        s.as_ref()
            .and_then(|s| parse_duration(s).map_err(|m| errors.push(err(p, m))).ok())
    };
    let min = parse(&d.min, "/duration/min", &mut c.errors);
    let max = parse(&d.max, "/duration/max", &mut c.errors);
    if let Some(other) = &d.faster_than {
        c.target(&Some(other.clone()), "/duration/faster_than");
        c.placeholders.push("other".into());
    }
    if d.min.is_none() && d.max.is_none() && d.faster_than.is_none() {
        c.errors
            .push(err("/duration", "give `min`, `max` or `faster_than`"));
    }
    Some(Box::new(Duration {
        object,
        min,
        max,
        faster_than: d.faster_than.clone(),
    }))
}

impl Check for Duration {
    fn object(&self) -> Option<&str> {
        Some(&self.object)
    }

    fn judge(&self, ev: &Evidence, values: &mut BTreeMap<String, String>) -> Outcome {
        let Duration {
            object,
            min,
            max,
            faster_than,
        } = self;
        values.insert("object".into(), object.clone());
        let t = target(ev, object)?;
        let secs = fact(t, "duration_seconds")
            .and_then(Json::as_f64)
            .ok_or_else(|| format!("Job {object} has not started, so it has no duration"))?;
        let d = jiff::SignedDuration::try_from_secs_f64(secs)
            .map_err(|_| format!("Job {object}'s duration ({secs} s) is out of any range"))?;
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
            values.insert("other".into(), crate::text::format_seconds(osecs));
            ok &= secs < osecs;
            expected.push(format!("faster than {other}"));
        }
        if !fact(t, "complete").and_then(Json::as_bool).unwrap_or(false) {
            // A duration of a Job that has not finished is only how long it has run so far:
            // say so, or "took 1m2s; cannot take less than 60 s" reads as nonsense.
            ok = ok && max.is_some() && min.is_none() && faster_than.is_none();
            values.insert(
                "value".into(),
                format!("{} so far (it has not completed)", format_duration(d)),
            );
        }
        values.insert("expected".into(), expected.join(" and "));
        Ok((ok, Vec::new()))
    }
}
