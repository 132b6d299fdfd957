//! Judging the checks that read cluster state: counts, durations, concurrency, logs, Events,
//! deletions. They run only on live evidence (or a bundle of it).

use std::collections::BTreeMap;

use super::{Evidence, Kind};

pub(super) fn evaluate(
    kind: &Kind,
    _ev: &Evidence,
    _values: &mut BTreeMap<String, String>,
) -> Result<(bool, Vec<String>), String> {
    Err(format!(
        "{kind:?} needs live evidence, which this build cannot gather yet"
    ))
}
