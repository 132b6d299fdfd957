//! The class list: who is graded, and where their work is. Read from a roster CSV
//! (`learner,namespace[,context][,cluster]`) or built from labelled namespaces.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Diagnostic, Error};

/// The label on a learner's namespace whose value is the learner id (or, when the id is not a
/// valid label value, the namespace's name): what `grade --namespace-selector` reads and
/// `class up` writes.
pub const LEARNER_LABEL: &str = "kubelab.dev/learner";
/// The learner id in full, on namespaces `class up` made (a label value is limited to 63
/// plain characters; an id is any text).
pub const LEARNER_ID_ANNOTATION: &str = "kubelab.dev/learner-id";

/// Largest roster read: a MOOC's class list fits many times over.
pub const MAX_ROSTER_BYTES: u64 = 16 * 1024 * 1024;

const COLUMNS: [&str; 6] = [
    "learner",
    "namespace",
    "context",
    "cluster",
    "lms_id",
    "deadline",
];

/// One learner of the class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    /// The learner's id as the instructor knows it (any text; never used unescaped as a path).
    pub id: String,
    /// Their namespace on the shared cluster.
    pub namespace: Option<String>,
    /// The kubeconfig context of their cluster (default: the current one).
    pub context: Option<String>,
    /// The kube-system uid their bundles must come from.
    pub cluster: Option<String>,
    /// Their id in the school's LMS (Canvas's SIS User ID, Moodle's ID number), carried into
    /// `grade --lms` files.
    pub lms_id: Option<String>,
    /// Their own deadline (an extension): replaces `grade --deadline` for them. Any spelling
    /// `--deadline` takes.
    pub deadline: Option<String>,
    /// Where the learner was listed (`roster.csv:4`), for error messages.
    pub listed_at: String,
}

/// Reads and validates a roster: bounded size, known columns, no duplicate learner or
/// namespace (an error names both rows), namespaces that are valid Kubernetes names.
pub fn read(path: &Path) -> Result<Vec<Learner>, Error> {
    let bytes = crate::error::read_bounded(path, MAX_ROSTER_BYTES, "the roster")?;
    parse(&path.display().to_string(), &bytes)
}

/// Parses roster CSV text; `shown` names the file in errors.
pub fn parse(shown: &str, bytes: &[u8]) -> Result<Vec<Learner>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let headers = reader.headers().map_err(|e| csv_error(shown, &e))?.clone();
    check_header(shown, &headers)?;
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let Some(learner_col) = column("learner") else {
        return Err(Error::input(
            Diagnostic::file(shown, "the roster has no `learner` column")
                .at(1, 1)
                .with_help("start the file with the header line `learner,namespace`"),
        ));
    };
    let cols = [
        column("namespace"),
        column("context"),
        column("cluster"),
        column("lms_id"),
        column("deadline"),
    ];
    let mut learners = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(shown, &e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let Some(id) = cell(Some(learner_col)) else {
            return Err(Error::input(
                Diagnostic::file(shown, "a row has no learner id")
                    .at(line, 1)
                    .field("learner")
                    .with_help("give every row a learner id, or delete the row"),
            ));
        };
        let namespace = cell(cols[0]);
        if let Some(ns) = &namespace {
            check_namespace(shown, line, ns)?;
        }
        let deadline = cell(cols[4]);
        check_deadline(shown, line, deadline.as_deref())?;
        learners.push(Learner {
            id,
            namespace,
            context: cell(cols[1]),
            cluster: cell(cols[2]),
            lms_id: cell(cols[3]),
            deadline,
            listed_at: format!("{shown}:{line}"),
        });
    }
    if learners.is_empty() {
        return Err(Error::input(
            Diagnostic::file(shown, "the roster lists no learners")
                .whole_file()
                .with_help("add one line per learner under the header, `alice,u-alice`"),
        ));
    }
    no_duplicates(shown, &learners)?;
    Ok(learners)
}

/// Known columns, each once.
fn check_header(shown: &str, headers: &csv::StringRecord) -> Result<(), Error> {
    if let Some(unknown) = headers
        .iter()
        .find(|h| !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(h)))
    {
        return Err(Error::input(
            Diagnostic::file(
                shown,
                format!("unknown roster column `{}`", crate::text::clean(unknown)),
            )
                .at(1, 1)
                .with_help("the header is `learner,namespace` with optional `context`, `cluster`, `lms_id` and `deadline` columns"),
        ));
    }
    if let Some((_, twice)) = headers
        .iter()
        .enumerate()
        .find(|(i, h)| headers.iter().take(*i).any(|e| e.eq_ignore_ascii_case(h)))
    {
        return Err(Error::input(
            Diagnostic::file(
                shown,
                format!(
                    "the column `{}` is in the header twice",
                    crate::text::clean(twice)
                ),
            )
            .at(1, 1)
            .field(crate::text::clean(twice))
            .with_help("keep one column of each name: kubelab would not know which to read"),
        ));
    }
    Ok(())
}

/// A learner's own deadline must be a time `grade --deadline` would take.
fn check_deadline(shown: &str, line: usize, deadline: Option<&str>) -> Result<(), Error> {
    match deadline.map(super::parse_deadline) {
        Some(Err(e)) => Err(Error::input(
            Diagnostic::file(
                shown,
                e.to_string().replacen("--deadline", "the deadline", 1),
            )
            .at(line, 1)
            .field("deadline")
            .with_help("write the learner's own deadline as `grade --deadline` takes it, e.g. 2026-12-01T23:59:00Z, or leave the cell empty"),
        )),
        _ => Ok(()),
    }
}

fn csv_error(shown: &str, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let what = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the roster is not UTF-8 text".to_owned(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("a row has {len} fields where the header has {expected_len}"),
        _ => format!("the roster is not valid CSV: {e}"),
    };
    Error::input(
        Diagnostic::file(shown, what)
            .at(line, 1)
            .with_help("save the roster as UTF-8 CSV with one learner per line"),
    )
}

/// A valid namespace name (an RFC 1123 label): lower-case letters, digits and '-', at most 63,
/// starting and ending with a letter or digit.
pub fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-')
}

/// The valid namespace name closest to an id: `Ana.Lopez@school` to `ana-lopez-school`.
pub fn namespace_for(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(63);
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "learner".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A namespace becomes part of API paths: only a valid Kubernetes name is accepted.
fn check_namespace(shown: &str, line: usize, ns: &str) -> Result<(), Error> {
    if valid_namespace(ns) {
        return Ok(());
    }
    Err(Error::input(
        Diagnostic::file(
            shown,
            format!("`{}` is not a valid namespace name", crate::text::clean(ns)),
        )
        .at(line, 1)
        .field("namespace")
        .with_help("namespaces are lower-case letters, digits and '-', at most 63 characters"),
    ))
}

/// Two rows for one learner, or two learners in one namespace of one cluster, would grade
/// someone's work twice or under the wrong name.
pub fn no_duplicates(shown: &str, learners: &[Learner]) -> Result<(), Error> {
    let mut ids: BTreeMap<&str, &Learner> = BTreeMap::new();
    let mut places: BTreeMap<(Option<&str>, &str), &Learner> = BTreeMap::new();
    let mut problems = Vec::new();
    // Where the second row is: `roster.csv:4` -> line 4.
    let line_of = |l: &Learner| {
        l.listed_at
            .rsplit(':')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    for l in learners {
        if let Some(first) = ids.insert(&l.id, l) {
            problems.push((
                line_of(l),
                format!(
                    "learner `{}` is listed twice: {} and {}",
                    crate::text::clean(&l.id),
                    first.listed_at,
                    l.listed_at
                ),
            ));
        }
        if let Some(ns) = &l.namespace
            && let Some(first) = places.insert((l.context.as_deref(), ns), l)
        {
            problems.push((
                line_of(l),
                format!(
                    "namespace `{ns}` is given to two learners: `{}` ({}) and `{}` ({})",
                    crate::text::clean(&first.id),
                    first.listed_at,
                    crate::text::clean(&l.id),
                    l.listed_at
                ),
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Input(
        problems
            .into_iter()
            .map(|(line, p)| {
                Diagnostic::file(shown, p)
                    .at(line, 1)
                    .with_help("each learner needs exactly one row and a namespace of their own")
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_optional_columns_and_comments() {
        let text = b"learner,namespace,context\n# a comment\nalice,u-alice,\nbob, u-bob ,east\n";
        let l = parse("r.csv", text).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].namespace.as_deref(), Some("u-bob"));
        assert_eq!(l[1].context.as_deref(), Some("east"));
        assert_eq!(l[0].context, None);
        assert_eq!(l[1].listed_at, "r.csv:4");
    }

    #[test]
    fn duplicates_name_both_rows() {
        let e = parse(
            "r.csv",
            b"learner,namespace\nalice,a\nbob,b\nalice,c\ncarol,b\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("learner `alice` is listed twice: r.csv:2 and r.csv:4"),
            "{e}"
        );
        assert!(
            e.contains(
                "namespace `b` is given to two learners: `bob` (r.csv:3) and `carol` (r.csv:5)"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_rows_are_located() {
        let e = parse("r.csv", b"learner,namespace\nalice,Bad/ns\n").unwrap_err();
        let d = &e.diagnostics()[0];
        assert_eq!((d.line, d.field.as_deref()), (Some(2), Some("namespace")));
        let e = parse("r.csv", b"learner,namespace\nalice\n").unwrap_err();
        assert!(
            e.to_string().contains("1 fields where the header has 2"),
            "{e}"
        );
        let e = parse("r.csv", b"student,namespace\n").unwrap_err();
        assert!(
            e.to_string().contains("unknown roster column `student`"),
            "{e}"
        );
        let e = parse("r.csv", b"learner,namespace\n# nobody yet\n").unwrap_err();
        assert!(e.to_string().contains("lists no learners"), "{e}");
        let e = parse("r.csv", b"learner,namespace\n,ns\n").unwrap_err();
        assert!(e.to_string().contains("no learner id"), "{e}");
        assert_eq!(namespace_for("Ana.Lopez@School"), "ana-lopez-school");
        let l = parse("r.csv", b"learner,lms_id,deadline\nana,S-1,2026-12-09\n").unwrap();
        assert_eq!(
            (l[0].lms_id.as_deref(), l[0].deadline.as_deref()),
            (Some("S-1"), Some("2026-12-09"))
        );
        let e = parse("r.csv", b"learner,deadline\nana,friday\n").unwrap_err();
        let d = &e.diagnostics()[0];
        assert_eq!((d.line, d.field.as_deref()), (Some(2), Some("deadline")));
        assert_eq!(namespace_for("--"), "learner");
        assert!(valid_namespace(&namespace_for(&"é".repeat(100))));
        let e = parse("r.csv", b"learner\n\xff\xfe\n").unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }
}
