//! Safe file names for learner ids: an id is text the instructor (or a learner's bundle)
//! chose, so it never becomes a path unescaped. `../x`, `/etc/x`, control characters,
//! Windows-reserved names and ids that would clean to the same name all get a distinct, plain
//! name inside the output folder.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

const RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];
const MAX_STEM: usize = 60;

/// The plain part of a name: letters, digits, `-`, `_` and inner dots; never empty, never
/// hidden, never a reserved device name.
fn plain(id: &str) -> String {
    let mapped: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut stem: String = mapped
        .trim_matches(|c| c == '.' || c == '_')
        .chars()
        .take(MAX_STEM)
        .collect();
    if stem.is_empty() {
        stem = "learner".into();
    }
    let base = stem.split('.').next().unwrap_or("").to_ascii_lowercase();
    if RESERVED.contains(&base.as_str()) {
        stem.insert(0, '_');
    }
    stem
}

fn short_hash(id: &str) -> String {
    crate::text::hex(&Sha256::digest(id.as_bytes())[..4])
}

/// A file stem for each id, distinct even on case-insensitive file systems. An id that is
/// already plain and unique keeps its name; any other gets a short hash of the full id, so the
/// name does not depend on which other learners are in the class.
pub fn file_stems<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for id in &ids {
        *uses.entry(plain(id).to_ascii_lowercase()).or_default() += 1;
    }
    ids.iter()
        .map(|id| {
            let p = plain(id);
            let shared = uses[&p.to_ascii_lowercase()] > 1;
            let stem = if p == *id && !shared {
                p
            } else {
                format!("{p}-{}", short_hash(id))
            };
            ((*id).to_owned(), stem)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_tricks_become_plain_names() {
        let ids = [
            "alice",
            "../x",
            "/etc/x",
            "a\u{1b}[31mb",
            "CON",
            "con.txt",
            "",
            "..",
            "Alice",
            "x",
        ];
        let stems = file_stems(ids);
        for (id, stem) in &stems {
            assert!(
                !stem.contains('/') && !stem.contains('\\'),
                "{id:?} -> {stem}"
            );
            assert!(!stem.starts_with('.'), "{id:?} -> {stem}");
            assert!(
                stem.chars().all(|c| c.is_ascii_graphic()),
                "{id:?} -> {stem}"
            );
            assert!(
                !RESERVED.contains(
                    &stem
                        .split('.')
                        .next()
                        .unwrap()
                        .to_ascii_lowercase()
                        .as_str()
                ),
                "{id:?} -> {stem}"
            );
        }
        assert_eq!(
            stems["x"].len(),
            "x-".len() + 8,
            "x and ../x and /etc/x clash: {stems:?}"
        );
        assert_ne!(stems["../x"], stems["/etc/x"]);
        assert_ne!(stems["alice"].to_lowercase(), stems["Alice"].to_lowercase());
        assert!(stems["CON"].starts_with("_CON-"), "{stems:?}");
        let distinct: std::collections::BTreeSet<String> =
            stems.values().map(|s| s.to_ascii_lowercase()).collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn plain_unique_ids_keep_their_name_whoever_else_is_in_the_class() {
        assert_eq!(file_stems(["bob", "carol"])["bob"], "bob");
        let alone = file_stems(["../x"])["../x"].clone();
        assert_eq!(file_stems(["../x", "zed"])["../x"], alone);
    }
}
