//! A class on a shared cluster: for each learner of a roster, a namespace of their own holding a
//! ServiceAccount, a Role that lets them write exactly what the course has them write there, a
//! ResourceQuota and a LimitRange sized from the course's reference runs (`budget`), and a
//! kubeconfig with a short-lived token (`kubeconfig`). `up` writes (server-side apply, field
//! manager `kubelab`, every object labelled with the class), `status` only reads, `down`
//! deletes only what `up` labelled for that class.

pub mod budget;
pub mod down;
mod kubeconfig;
mod objects;
pub mod status;
pub mod up;

use std::collections::BTreeMap;

use crate::error::{Diagnostic, Error};
use crate::grade::roster::{self, Learner};

/// On everything `class up` makes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubelab");
/// The class a namespace (and what is in it) was made for.
pub const CLASS_LABEL: &str = "kubelab.dev/class";
/// On a namespace that existed before `class up --adopt`: `down` removes only kubelab's objects
/// from it, never the namespace.
pub const ADOPTED_ANNOTATION: &str = "kubelab.dev/adopted";
/// When the learner's kubeconfig token expires (RFC 3339), on their ServiceAccount.
pub const TOKEN_EXPIRES_ANNOTATION: &str = "kubelab.dev/token-expires";
/// The names of what `up` puts in each namespace.
pub const SERVICE_ACCOUNT: &str = "learner";
pub const ROLE: &str = "kubelab-learner";
pub const QUOTA: &str = "kubelab-quota";
pub const LIMIT_RANGE: &str = "kubelab-defaults";

/// One learner's place in the class.
#[derive(Debug, Clone)]
pub struct Seat {
    pub learner: Learner,
    pub namespace: String,
    /// The learner label's value: the id when it is a valid label value, else the namespace.
    pub label: String,
}

/// Namespaces Kubernetes keeps for itself: a learner is never seated in one.
fn reserved(ns: &str) -> bool {
    ns == "default" || ns.starts_with("kube-")
}

/// A valid label value: at most 63 letters, digits, `-`, `_` or `.`, starting and ending with
/// a letter or digit.
pub fn valid_label_value(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The class's name as a label value: given, or from the roster's file name.
pub fn class_name(given: Option<&str>, roster: Option<&std::path::Path>) -> Result<String, Error> {
    let name = match (given, roster) {
        (Some(name), _) => name.to_owned(),
        (None, Some(path)) => roster::namespace_for(
            &path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        (None, None) => {
            return Err(Error::Usage(
                "say which class: --roster CSV (the class is named after the file) or --class NAME"
                    .into(),
            ));
        }
    };
    if valid_label_value(&name) {
        Ok(name)
    } else {
        Err(Error::Usage(format!(
            "`{}` cannot name a class: use at most 63 letters, digits, '-', '_' or '.', for example --class {}",
            crate::text::clean(&name),
            roster::namespace_for(&name)
        )))
    }
}

/// Where each learner of the roster sits: the roster's namespace, else the id when it is a
/// valid namespace name. An id that is not is an error naming the name kubelab would use.
pub fn seats(shown: &str, learners: &[Learner]) -> Result<Vec<Seat>, Error> {
    let mut seats = Vec::new();
    let mut problems = Vec::new();
    for l in learners {
        let namespace = match &l.namespace {
            Some(ns) => ns.clone(),
            None if roster::valid_namespace(&l.id) => l.id.clone(),
            None => {
                problems.push(
                    Diagnostic::file(
                        shown,
                        format!(
                            "learner `{}` ({}) has no namespace, and the id is not a valid namespace name",
                            crate::text::clean(&l.id),
                            l.listed_at
                        ),
                    )
                    .field("namespace")
                    .with_help(format!(
                        "kubelab would use `{}`: add a `namespace` column and write it (or another valid name) on this learner's row",
                        roster::namespace_for(&l.id)
                    )),
                );
                continue;
            }
        };
        if reserved(&namespace) {
            problems.push(
                Diagnostic::file(
                    shown,
                    format!(
                        "learner `{}` ({}) would work in `{namespace}`, a namespace Kubernetes keeps for itself",
                        crate::text::clean(&l.id),
                        l.listed_at
                    ),
                )
                .field("namespace")
                .with_help("give this learner a namespace of their own in the `namespace` column"),
            );
            continue;
        }
        let label = if valid_label_value(&l.id) {
            l.id.clone()
        } else {
            namespace.clone()
        };
        let mut learner = l.clone();
        learner.namespace = Some(namespace.clone());
        seats.push(Seat {
            learner,
            namespace,
            label,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Input(problems));
    }
    // Two ids may lead to one namespace once defaults are filled in.
    let placed: Vec<Learner> = seats.iter().map(|s| s.learner.clone()).collect();
    roster::no_duplicates(shown, &placed)?;
    Ok(seats)
}

/// The labels of everything `up` makes for a class (the learner's on their namespace too).
pub fn labels(class: &str, learner: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
        (CLASS_LABEL.to_owned(), class.to_owned()),
    ]);
    if let Some(l) = learner {
        labels.insert(roster::LEARNER_LABEL.to_owned(), l.to_owned());
    }
    labels
}

/// The selector for everything of a class.
pub fn selector(class: &str) -> String {
    format!("{}={},{CLASS_LABEL}={class}", MANAGED_BY.0, MANAGED_BY.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learners(text: &str) -> Vec<Learner> {
        roster::parse("r.csv", text.as_bytes()).unwrap()
    }

    #[test]
    fn a_seat_is_the_roster_namespace_or_a_valid_id() {
        let s = seats("r.csv", &learners("learner,namespace\nana,\nbo,u-bo\n")).unwrap();
        assert_eq!(
            (s[0].namespace.as_str(), s[0].label.as_str()),
            ("ana", "ana")
        );
        assert_eq!(s[1].namespace, "u-bo");
    }

    #[test]
    fn an_id_that_is_no_namespace_says_what_kubelab_would_use() {
        let e = seats("r.csv", &learners("learner\nAna.Lopez@School\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("learner `Ana.Lopez@School` (r.csv:2) has no namespace"),
            "{e}"
        );
        assert!(e.contains("kubelab would use `ana-lopez-school`"), "{e}");
    }

    #[test]
    fn reserved_namespaces_and_duplicates_are_refused() {
        let e = seats("r.csv", &learners("learner,namespace\nana,kube-system\n")).unwrap_err();
        assert!(e.to_string().contains("Kubernetes keeps for itself"), "{e}");
        let e = seats("r.csv", &learners("learner,namespace\nana,\nbo,ana\n")).unwrap_err();
        assert!(
            e.to_string()
                .contains("namespace `ana` is given to two learners"),
            "{e}"
        );
    }

    #[test]
    fn a_long_or_odd_id_is_labelled_by_its_namespace() {
        let s = seats("r.csv", &learners("learner,namespace\nAna Lopez,u-ana\n")).unwrap();
        assert_eq!(s[0].label, "u-ana");
        assert!(class_name(None, Some(std::path::Path::new("CS 101.csv"))).unwrap() == "cs-101");
        assert!(class_name(Some("a b"), None).is_err());
    }
}
