//! The learner's progress: last verdict per exercise and how many hints were revealed, in a
//! small JSON file (`.kubelab/state.json` in the course folder, or `KUBELAB_STATE`). Written
//! atomically; a damaged file is set aside, never silently overwritten. Changes go through
//! [`Store::update`], which holds a lock on the file for the read-change-write, so ten checks at
//! once lose no one's verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub exercises: BTreeMap<String, Progress>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    /// `passed` or `failed`, and how it was judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<LastVerdict>,
    /// The last live (cluster or bundle) verdict: the strongest evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_live: Option<LastVerdict>,
    /// Hints revealed so far.
    #[serde(default)]
    pub hints_shown: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LastVerdict {
    pub passed: bool,
    /// How it was judged: `offline` or `live`.
    pub mode: crate::verdict::Mode,
    pub earned: f64,
    pub possible: f64,
    /// RFC 3339 time of the check.
    pub at: String,
}

pub struct Store {
    path: PathBuf,
    /// A warning to show once (e.g. the file was damaged and set aside).
    pub warning: Option<String>,
}

impl Store {
    pub fn for_course(course_root: &Path) -> Store {
        let path = std::env::var_os("KUBELAB_STATE")
            .map(PathBuf::from)
            .unwrap_or_else(|| course_root.join(".kubelab").join("state.json"));
        Store {
            path,
            warning: None,
        }
    }

    pub fn at(path: PathBuf) -> Store {
        Store {
            path,
            warning: None,
        }
    }

    pub fn load(&mut self) -> State {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(_) => return State::default(),
        };
        match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                let aside = self.path.with_extension("json.damaged");
                let _ = std::fs::rename(&self.path, &aside);
                self.warning = Some(format!(
                    "progress file {} was damaged ({e}); moved it to {} and started afresh",
                    self.path.display(),
                    aside.display()
                ));
                State::default()
            }
        }
    }

    /// Reads the progress, changes it and writes it back while holding an exclusive lock on
    /// `state.json.lock` beside it: another kubelab changing it at the same time waits.
    pub fn update<T>(&mut self, change: impl FnOnce(&mut State) -> T) -> Result<T, Error> {
        let shown = self.path.display().to_string();
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(&shown, e))?;
        }
        let lock_path = self.path.with_extension("json.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path.display().to_string(), e))?;
        lock.lock()
            .map_err(|e| Error::io(&lock_path.display().to_string(), e))?;
        let mut state = self.load();
        let out = change(&mut state);
        let saved = self.save(&state);
        let _ = lock.unlock();
        saved.map(|()| out)
    }

    /// Writes to a temporary file of its own and renames it over the old one, so a crash
    /// never leaves a half-written state.
    fn save(&self, state: &State) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(state).expect("state serialises");
        crate::error::write_atomically(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        let mut store = Store::at(path.clone());
        let state = store.load();
        assert!(state.exercises.is_empty());
        assert!(store.warning.is_some());
        assert!(dir.path().join("state.json.damaged").exists());
        let mut s = State::default();
        s.exercises.insert(
            "x".into(),
            Progress {
                last: None,
                last_live: None,
                hints_shown: 2,
            },
        );
        store.save(&s).unwrap();
        assert_eq!(Store::at(path).load().exercises["x"].hints_shown, 2);
    }
}
