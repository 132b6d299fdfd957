//! A CronJob's facts: its schedule (checked, and when it fires next), whether it is suspended,
//! when it last scheduled and last succeeded, and the Jobs it created with every fact kubelab
//! has about a Job.

use k8s_openapi::api::batch::v1::CronJob;
use serde::Serialize;

use super::cron;
use super::job::{self, JobFacts};
use super::relations::jobs_of;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Serialize)]
pub struct CronJobFacts {
    pub found: bool,
    pub name: String,
    /// One line: "2 runs, the last Complete; next at 2026-12-05T15:31:00Z".
    pub state: String,
    pub schedule: String,
    /// Why the schedule is invalid, in the API server's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_error: Option<String>,
    /// `spec.timeZone`, or UTC (the kit's controller runs in UTC; a cluster's controller
    /// uses its own local time zone when none is given).
    pub time_zone: String,
    /// The next times it fires, after the snapshot was taken.
    pub next_runs: Vec<String>,
    /// Seconds from the snapshot to the next run; absent when it never fires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_to_next_run: Option<f64>,
    pub suspended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_successful_time: Option<String>,
    /// Jobs running now (`status.active`).
    pub active: usize,
    /// The Jobs it created that are still there, oldest first.
    pub jobs: Vec<JobFacts>,
    pub jobs_succeeded: usize,
    pub jobs_failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successful_jobs_history_limit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_jobs_history_limit: Option<i32>,
}

/// The time zone a CronJob's schedule is read in.
fn zone(name: Option<&str>) -> jiff::tz::TimeZone {
    name.and_then(|n| jiff::tz::TimeZone::get(n).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

pub fn of(s: &Snapshot, c: &CronJob) -> CronJobFacts {
    let name = c.metadata.name.clone().unwrap_or_default();
    let uid = c.metadata.uid.clone().unwrap_or_default();
    let spec = c.spec.clone();
    let status = c.status.clone().unwrap_or_default();
    let now = s.taken_at();
    let parsed = cron::parse(&spec.schedule);
    let tz = zone(spec.time_zone.as_deref());
    let next: Vec<jiff::Timestamp> = parsed
        .as_ref()
        .map(|p| p.upcoming(now, &tz, 3))
        .unwrap_or_default();
    let mut jobs: Vec<JobFacts> = {
        let mut owned = jobs_of(s, &uid);
        owned.sort_by_key(|j| j.metadata.creation_timestamp.as_ref().map(|t| t.0));
        owned.into_iter().map(|j| job::of(s, j)).collect()
    };
    jobs.retain(|j| j.found);
    let suspended = spec.suspend.unwrap_or(false);
    let mut f = CronJobFacts {
        found: true,
        name,
        state: String::new(),
        schedule: spec.schedule.clone(),
        schedule_error: parsed.err(),
        time_zone: spec.time_zone.clone().unwrap_or_else(|| "UTC".into()),
        next_runs: next.iter().map(|t| t.to_string()).collect(),
        seconds_to_next_run: next
            .first()
            .map(|t| t.duration_since(now).as_secs_f64().round()),
        suspended,
        concurrency_policy: spec.concurrency_policy.clone(),
        last_schedule_time: status.last_schedule_time.as_ref().map(|t| t.0.to_string()),
        last_successful_time: status
            .last_successful_time
            .as_ref()
            .map(|t| t.0.to_string()),
        active: status.active.as_ref().map_or(0, Vec::len),
        jobs_succeeded: jobs.iter().filter(|j| j.complete).count(),
        jobs_failed: jobs.iter().filter(|j| j.failed).count(),
        jobs,
        successful_jobs_history_limit: spec.successful_jobs_history_limit,
        failed_jobs_history_limit: spec.failed_jobs_history_limit,
    };
    f.state = state_line(&f);
    f
}

fn state_line(f: &CronJobFacts) -> String {
    if let Some(e) = &f.schedule_error {
        return format!("schedule `{}` is invalid: {e}", f.schedule);
    }
    let runs = match f.jobs.last() {
        None => "no run yet".to_owned(),
        Some(last) => format!(
            "{} ({} succeeded, {} failed), the last {}",
            crate::text::count(f.jobs.len(), "run", "runs"),
            f.jobs_succeeded,
            f.jobs_failed,
            last.state
        ),
    };
    let next = if f.suspended {
        "suspended: it starts no Job until `suspend` is false".to_owned()
    } else {
        match f.next_runs.first() {
            Some(n) => {
                let when = f
                    .seconds_to_next_run
                    .map(|s| format!(", in {}", crate::text::format_seconds(s)))
                    .unwrap_or_default();
                format!("next at {n} ({}{when})", f.time_zone)
            }
            None => format!(
                "schedule `{}` never fires (no such date in the next five years)",
                f.schedule
            ),
        }
    };
    format!("{runs}; {next}")
}

pub fn not_found(name: &str) -> CronJobFacts {
    CronJobFacts {
        found: false,
        name: name.to_owned(),
        state: "not found".into(),
        schedule: String::new(),
        schedule_error: None,
        time_zone: "UTC".into(),
        next_runs: Vec::new(),
        seconds_to_next_run: None,
        suspended: false,
        concurrency_policy: None,
        last_schedule_time: None,
        last_successful_time: None,
        active: 0,
        jobs: Vec::new(),
        jobs_succeeded: 0,
        jobs_failed: 0,
        successful_jobs_history_limit: None,
        failed_jobs_history_limit: None,
    }
}
