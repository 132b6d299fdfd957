//! What a wait says when its watches are interrupted: refused, the API server lost and back,
//! a watch expired.

use std::time::{Duration, Instant};

use kube::runtime::watcher;

use crate::error::Error;

/// The watch's interruptions, told once each: a refusal ends the wait with what is needed; a
/// lost API server (stopped, restarting, unreachable) is said once, with what goes on
/// meanwhile, and its return once, with how long it was away; an expired resource version
/// is the watcher listing again. The watcher itself reconnects with backoff; the wait's own
/// limit still bounds it.
pub(super) struct Outage {
    pub(super) since: Option<Instant>,
    /// What keeps running meanwhile: "Your Jobs".
    pub(super) what: String,
    /// When an expired watch was last said.
    pub(super) expiry_said: Option<Instant>,
}

impl Outage {
    pub(super) fn interrupted(&mut self, e: &watcher::Error, namespace: &str) -> Result<(), Error> {
        let (code, text) = crate::cluster::watch_status(e);
        if matches!(code, Some(401 | 403)) {
            // The server names what was refused: `cannot watch resource "jobs"`.
            let permission = crate::cluster::missing_permission(&text);
            let what = permission
                .as_deref()
                .and_then(|p| p.split_whitespace().nth(1))
                .and_then(|plural| {
                    crate::kinds::built_ins()
                        .find(|k| k.plural == plural)
                        .map(|k| format!("{}s", k.kind))
                })
                .unwrap_or_else(|| "the exercise's objects".to_owned());
            return Err(Error::Cluster {
                message: format!(
                    "watching {what} in {namespace} was refused ({}): {}",
                    code.unwrap_or_default(),
                    crate::text::clean(&text)
                ),
                help: Some(format!(
                    "the checker needs `{}` in {namespace} (deploy/kubelab-reader.yaml grants it); without it, run `kubelab check` again later without --wait",
                    permission.unwrap_or_else(|| "watch".into())
                )),
            });
        }
        if crate::cluster::watch_expired(e) {
            // Each kind's watch expires on its own: say it once for them all.
            if self
                .expiry_said
                .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
            {
                eprintln!(
                    "the watch expired ({}): the API server no longer keeps the changes since it was cut; listing again, so nothing that changed meanwhile is missed",
                    crate::text::clean(&text)
                );
                self.expiry_said = Some(Instant::now());
            }
            return Ok(());
        }
        if self.since.is_some() {
            return Ok(());
        }
        eprintln!(
            "lost the API server ({}); retrying until it answers. {} keep running on the cluster meanwhile, and the verdict reads their logs afresh at the end.",
            crate::text::clean(&text),
            self.what
        );
        self.since = Some(Instant::now());
        Ok(())
    }

    pub(super) fn over(&mut self) {
        if let Some(since) = self.since.take() {
            eprintln!(
                "the API server answers again (after {}s); watching on",
                since.elapsed().as_secs()
            );
        }
    }
}
