//! "What happened", per target and by kind: a Job's pods and concurrency, a Pod's containers
//! and why they wait or restart, a Deployment's rollout and revisions, a CronJob's schedule and
//! runs, a Service's endpoints, who consumes a ConfigMap or Secret; each with what to do about
//! the common failures.

use std::fmt::Write as _;

use colored::Colorize;

use super::clean;
use crate::facts::{
    ConfigFacts, CronJobFacts, DeploymentFacts, JobFacts, PodFacts, ServiceFacts, TargetFacts,
};

/// One target's facts.
pub fn render(out: &mut String, key: &str, f: &TargetFacts) {
    match f {
        TargetFacts::Job(j) => job(out, key, j),
        TargetFacts::Pod(p) => {
            head(out, key, &p.state);
            if p.found {
                pod(out, p, "    ", true);
            }
        }
        TargetFacts::Deployment(d) => deployment(out, key, d),
        TargetFacts::CronJob(c) => cron_job(out, key, c),
        TargetFacts::Service(s) => service(out, key, s),
        TargetFacts::ConfigMap(c) | TargetFacts::Secret(c) => config(out, key, c),
        TargetFacts::Object(o) => head(out, key, &o.state),
        TargetFacts::Selection(s) => {
            head(out, key, &s.state);
            for item in &s.items {
                let mut inner = String::new();
                match item {
                    TargetFacts::Pod(p) => {
                        let _ = writeln!(inner, "    {}: {}", p.name.bold(), clean(&p.state));
                        pod(&mut inner, p, "      ", false);
                    }
                    other => render(&mut inner, "", other),
                }
                out.push_str(&inner);
            }
        }
    }
}

fn head(out: &mut String, key: &str, state: &str) {
    let _ = writeln!(out, "  {}: {}", key.bold(), clean(state));
}

use crate::text::list_more;

fn job(out: &mut String, name: &str, f: &JobFacts) {
    let after = f
        .duration_seconds
        .map(|d| {
            let word = if f.complete || f.failed {
                "after"
            } else {
                "for"
            };
            format!(" {word} {}", crate::text::format_seconds(d))
        })
        .unwrap_or_default();
    let _ = writeln!(out, "  {}: {}{after}", name.bold(), clean(&f.state));
    if !f.found {
        return;
    }
    let parallelism = f
        .parallelism
        .map_or(String::new(), |p| format!(" (parallelism {p})"));
    // The Job's own counts follow its pods by a moment: one story, saying which one lags.
    let lag = if (f.status_succeeded as usize) < f.pods_succeeded {
        format!(
            " (the Job's status says {} so far: it counts finished pods a moment after they finish)",
            f.status_succeeded
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "    pods: {} succeeded{lag}, {} failed, {} unfinished · at most {} active at once{parallelism}, {} running at once",
        f.pods_succeeded, f.pods_failed, f.pods_unfinished, f.max_active, f.max_running,
    );
    for m in f.scheduling_failures.iter().take(3) {
        let _ = writeln!(out, "    {} {}", "scheduling:".yellow(), clean(m));
    }
    create_failures(out, &f.create_failures);
    waiting(out, &f.waiting_reasons, "    ");
    failed_runs(out, f);
    gone(out, &f.gone_pods, f.failed);
}

/// Pods the Job created that are gone: a delete or an eviction the learner may not know of,
/// and why the run took longer or counted a failure without a failed pod to show.
fn gone(out: &mut String, gone: &[String], job_failed: bool) {
    if gone.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "    {} {}: created by the Job, since deleted or evicted",
        "gone:".yellow(),
        clean(&list_more(gone, 3))
    );
    let _ = writeln!(
        out,
        "      a pod deleted or evicted while it runs counts as failed, and the Job starts a replacement that does its work again from the start{}",
        if job_failed {
            " (a Job that fails also deletes the pods it still had running)"
        } else {
            ""
        }
    );
}

/// Pods the Job controller could not create, and what the common refusals mean.
fn create_failures(out: &mut String, failures: &[String]) {
    for m in failures.iter().take(3) {
        let _ = writeln!(out, "    {} {}", "cannot create pods:".red(), clean(m));
    }
    if let Some(quota) = failures.iter().find_map(|m| exceeded_quota(m)) {
        let _ = writeln!(
            out,
            "      the namespace's ResourceQuota `{quota}` refused them: the pods would use more than it allows. Ask for less (lower the requests, limits, parallelism or replicas), or ask your instructor for more: kubectl describe resourcequota {quota}"
        );
    } else if failures
        .iter()
        .any(|m| m.contains("LimitRange") || m.contains("must be less than or equal to"))
    {
        let _ = writeln!(
            out,
            "      the namespace's LimitRange refused them: a container's request is above its limit (a container that sets no limit gets the LimitRange's default): kubectl describe limitrange"
        );
    }
}

/// The quota named in `exceeded quota: NAME, requested: ...`.
fn exceeded_quota(message: &str) -> Option<String> {
    let rest = message.split("exceeded quota: ").nth(1)?;
    let name = rest.split([',', ' ']).next()?;
    (!name.is_empty()).then(|| clean(name))
}

/// Why pods wait, with what to do about the common reasons.
fn waiting(out: &mut String, waiting: &[String], indent: &str) {
    if waiting.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{indent}{} {}",
        "waiting:".yellow(),
        clean(&waiting.join(", "))
    );
    let any = |names: &[&str]| waiting.iter().any(|w| names.contains(&w.as_str()));
    if any(&["ErrImagePull", "ImagePullBackOff", "InvalidImageName"]) {
        let _ = writeln!(
            out,
            "{indent}  the image cannot be pulled: check its name and tag (`kubectl describe pod` shows the registry's answer)"
        );
    }
    if any(&["CrashLoopBackOff"]) {
        let _ = writeln!(
            out,
            "{indent}  a container keeps failing and restarting: read its log with `kubectl logs --previous`"
        );
    }
    if any(&["CreateContainerConfigError"]) {
        let _ = writeln!(
            out,
            "{indent}  the container cannot be created from its configuration: a ConfigMap, Secret or key it names is missing, or its securityContext cannot be met"
        );
    }
}

/// The first failed pods, how they ended, and what an out-of-memory kill means.
fn failed_runs(out: &mut String, f: &JobFacts) {
    let failed: Vec<&crate::facts::Run> = f.runs.iter().filter(|r| r.phase == "Failed").collect();
    let oom = |r: &&crate::facts::Run| r.reason.as_deref() == Some("OOMKilled");
    for r in failed.iter().take(3) {
        let _ = writeln!(
            out,
            "    {} {} exit {}{}{}",
            "failed pod:".red(),
            r.pod,
            r.exit_code.map_or("?".to_owned(), |c| c.to_string()),
            if oom(r) { " (OOMKilled)" } else { "" },
            r.last_log_line
                .as_deref()
                .map(|l| format!(": {}", clean(l)))
                .unwrap_or_default()
        );
    }
    if failed.len() > 3 {
        let _ = writeln!(out, "    ... and {} more failed pods", failed.len() - 3);
    }
    if failed.iter().any(oom) {
        oom_advice(out, "      ");
    }
}

fn oom_advice(out: &mut String, indent: &str) {
    let _ = writeln!(
        out,
        "{indent}OOMKilled: the container used more memory than its limit (resources.limits.memory) and the kernel killed it (exit 137): raise the limit, or make its work smaller"
    );
}

/// A pod's containers, and why it waits or restarts. `whole`: a Pod target, shown in full; a
/// pod of a selection only says what is wrong with it.
fn pod(out: &mut String, p: &PodFacts, indent: &str, whole: bool) {
    let mut about = Vec::new();
    if let Some(q) = &p.qos_class {
        about.push(format!("QoS {q}"));
    }
    if let Some(sa) = &p.service_account {
        about.push(format!("service account {sa}"));
    }
    if whole && !about.is_empty() {
        let _ = writeln!(out, "{indent}{}", about.join(" · "));
    }
    let healthy = (p.ready || p.phase == "Succeeded") && p.restarts == 0;
    if healthy && !whole {
        return;
    }
    for c in p.init_containers.iter().chain(&p.containers) {
        let init = if p.init_containers.iter().any(|i| i.name == c.name) {
            "init container"
        } else {
            "container"
        };
        let restarts = match c.restarts {
            0 => String::new(),
            1 => ", restarted once".to_owned(),
            n => format!(", restarted {n} times"),
        };
        let _ = writeln!(
            out,
            "{indent}{init} {}: {}{restarts}",
            c.name,
            clean(&c.state)
        );
        if let Some(t) = c
            .last_termination
            .as_ref()
            .or(c.ended.as_ref())
            .filter(|t| t.exit_code != 0)
        {
            let why = t
                .cause
                .as_deref()
                .map_or_else(|| format!("{}, exit {}", t.reason, t.exit_code), clean);
            let _ = writeln!(out, "{indent}  last ended: {why}");
        }
        if let Some(l) = &c.last_log_line {
            let _ = writeln!(out, "{indent}  its last log line: {}", clean(l));
        }
    }
    waiting(out, &p.waiting_reasons, indent);
    for m in p.image_pull_failures.iter().take(1) {
        let _ = writeln!(out, "{indent}{} {}", "pull:".yellow(), clean(m));
    }
    for m in &p.config_errors {
        let _ = writeln!(out, "{indent}{} {}", "config:".yellow(), clean(m));
    }
    for m in p.unschedulable.iter().take(2) {
        let _ = writeln!(out, "{indent}{} {}", "scheduling:".yellow(), clean(m));
    }
    for m in p.probe_failures.iter().take(2) {
        let _ = writeln!(out, "{indent}{} {}", "probe:".yellow(), clean(m));
    }
    let oom = p.containers.iter().any(|c| {
        [&c.last_termination, &c.ended]
            .into_iter()
            .flatten()
            .any(|t| t.reason == "OOMKilled")
    });
    if oom {
        oom_advice(out, indent);
    }
}

fn deployment(out: &mut String, key: &str, d: &DeploymentFacts) {
    head(out, key, &d.state);
    if !d.found {
        return;
    }
    let revisions: Vec<String> = d
        .revisions
        .iter()
        .map(|r| {
            format!(
                "{} {} ({} pod{}{})",
                r.revision,
                r.images.join(", "),
                r.replicas,
                if r.replicas == 1 { "" } else { "s" },
                if r.current { ", current" } else { "" }
            )
        })
        .collect();
    if !revisions.is_empty() {
        let _ = writeln!(out, "    revisions: {}", clean(&revisions.join("; ")));
    }
    let s = &d.pods_summary;
    let terminating = if s.terminating > 0 {
        format!(", {} terminating", s.terminating)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "    pods: {} ready of {}, {} pending, {} restarts{terminating}",
        s.ready, s.total, s.pending, s.restarts
    );
    for p in s.problems.iter().take(3) {
        let _ = writeln!(out, "    {} {}", "problem:".yellow(), clean(p));
    }
    create_failures(out, &d.create_failures);
    if d.rollout_stuck {
        let (serving, undo) = if d.revisions.len() > 1 {
            (
                "; the previous revision's pods keep serving",
                format!(
                    " (`kubectl rollout undo deployment/{}` goes back one revision)",
                    d.name
                ),
            )
        } else {
            ("", String::new())
        };
        let _ = writeln!(
            out,
            "      the rollout gave up after progressDeadlineSeconds{serving}. Fix the template{undo}"
        );
    }
}

fn cron_job(out: &mut String, key: &str, c: &CronJobFacts) {
    head(out, key, &c.state);
    if !c.found {
        return;
    }
    if c.schedule_error.is_none() {
        let next = if c.next_runs.is_empty() {
            "never".to_owned()
        } else {
            c.next_runs.join(", ")
        };
        let _ = writeln!(
            out,
            "    schedule `{}` ({}): next {next}",
            clean(&c.schedule),
            c.time_zone
        );
    }
    for j in c.jobs.iter().rev().take(3) {
        let _ = writeln!(out, "    run {}: {}", j.name, clean(&j.state));
    }
    if let Some(last) = c.jobs.last() {
        failed_runs(out, last);
    }
}

fn service(out: &mut String, key: &str, s: &ServiceFacts) {
    head(out, key, &s.state);
    if !s.found {
        return;
    }
    let ports: Vec<String> = s
        .ports
        .iter()
        .map(|p| format!("{} -> {} ({})", p.port, p.target_port, p.protocol))
        .collect();
    let _ = writeln!(
        out,
        "    {} {} · ports {}",
        s.type_,
        s.cluster_ip.as_deref().unwrap_or(""),
        clean(&ports.join(", "))
    );
    for u in s.unexposed_ports.iter().skip(1) {
        let _ = writeln!(out, "    {} {}", "port:".yellow(), clean(u));
    }
}

fn config(out: &mut String, key: &str, c: &ConfigFacts) {
    head(out, key, &c.state);
    for consumer in c.consumers.iter().take(3) {
        let owner = consumer
            .owner
            .as_deref()
            .map_or(String::new(), |o| format!(" (of {o})"));
        let missing = if consumer.missing.is_empty() {
            String::new()
        } else {
            format!("; missing key {}", consumer.missing.join(", "))
        };
        let _ = writeln!(
            out,
            "    used by {}{owner}: {}{missing}",
            consumer.object,
            clean(&consumer.how.join(", "))
        );
    }
    if c.consumers.len() > 3 {
        let _ = writeln!(out, "    ... and {} more pods", c.consumers.len() - 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_story_when_the_job_status_lags_its_pods() {
        let mut f = crate::facts::job::derive(&crate::snapshot::Snapshot::default(), "job");
        f.found = true;
        f.state = "still running: 16 of 20 succeeded, 2 active, 0 failed".into();
        (f.status_succeeded, f.pods_succeeded, f.pods_unfinished) = (16, 18, 2);
        (f.max_active, f.max_running) = (4, 4);
        let mut out = String::new();
        job(&mut out, "job", &f);
        assert!(
            out.contains("pods: 18 succeeded (the Job's status says 16 so far: it counts finished pods a moment after they finish)"),
            "{out}"
        );
    }

    #[test]
    fn waiting_reasons_come_with_advice() {
        let mut out = String::new();
        waiting(
            &mut out,
            &["ErrImagePull".into(), "ImagePullBackOff".into()],
            "    ",
        );
        assert!(
            out.contains("waiting: ErrImagePull, ImagePullBackOff"),
            "{out}"
        );
        assert!(
            out.contains("the image cannot be pulled: check its name and tag"),
            "{out}"
        );
    }
}
