//! Grading from hand-ins: a folder of bundles learners made with `kubelab collect
//! --learner ID` and uploaded (`BUNDLES/<learner>/<exercise>.json` or
//! `BUNDLES/<learner>.<exercise>.json`). The learner id comes from the bundle; the file name
//! only has to agree with it, and is reported when it does not.

use std::path::{Path, PathBuf};

use crate::bundle::Bundle;
use crate::error::Error;

/// Most files a hand-in folder may hold.
pub const MAX_FILES: usize = 100_000;

/// One handed-in file.
pub struct HandIn {
    /// The file, relative to the folder.
    pub name: String,
    /// Whose it is: from the bundle, else from the file name.
    pub learner: String,
    /// What the file name says about it that the bundle contradicts.
    pub disagreement: Option<String>,
    /// The bundle, or why it could not be read.
    pub bundle: Result<Bundle, String>,
}

/// `*.json` files at the top of the folder and one level down, in name order. Symbolic links
/// are not followed: a hand-in cannot point the grader at another file.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let shown = dir.display().to_string();
    let mut out = Vec::new();
    let mut folders = vec![(dir.to_path_buf(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|e| Error::io(&shown, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&shown, e))?;
            let kind = entry.file_type().map_err(|e| Error::io(&shown, e))?;
            let path = entry.path();
            if kind.is_dir() && depth == 0 {
                folders.push((path, 1));
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
            if out.len() > MAX_FILES {
                return Err(Error::Usage(format!(
                    "{shown} holds more than {MAX_FILES} bundles: split the class with --shard or grade sub-folders"
                )));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The learner a file name suggests: its folder (`alice/race.json`) or the part of its name
/// before the first dot (`alice.race.json`).
fn named_learner(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    match parts.pop() {
        Some(folder) => folder,
        None => file.split('.').next().unwrap_or_default().to_owned(),
    }
}

/// Reads one hand-in; an unreadable one is kept (it will be flagged), not fatal.
pub fn read_one(dir: &Path, path: &Path) -> HandIn {
    {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        let from_name = named_learner(dir, path);
        let bundle = crate::bundle::read_bundle(path).map_err(|e| e.to_string());
        let claimed = bundle.as_ref().ok().and_then(|b| b.learner.clone());
        let (learner, disagreement) = match claimed {
            Some(id) if id == from_name => (id, None),
            Some(id) => {
                let said = format!(
                    "the file {} is named for `{}` but the bundle was collected by `{}`",
                    crate::text::clean(&name),
                    crate::text::clean(&from_name),
                    crate::text::clean(&id)
                );
                (id, Some(said))
            }
            None => (from_name, None),
        };
        HandIn {
            name,
            learner,
            disagreement,
            bundle,
        }
    }
}
