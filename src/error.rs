//! The one error type of kubelab: what went wrong, what the user should do, and which exit code
//! that means. Input problems carry [`Diagnostic`]s that name the file, line, column and field.

use std::fmt;

use serde::Serialize;

/// Exit codes, documented in the README.
pub mod exit {
    /// Every assertion passed.
    pub const PASSED: i32 = 0;
    /// The learner's work was judged and at least one assertion failed.
    pub const FAILED: i32 = 1;
    /// Usage or input error: a bad flag, an unreadable or invalid file, an unknown exercise.
    pub const INPUT: i32 = 2;
    /// The cluster could not be read: no kubeconfig, unreachable, forbidden, timed out.
    pub const CLUSTER: i32 = 3;
}

/// One precise complaint about a file (or an object, for cluster input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file as shown to the user (or `<object kind/name>` for cluster objects).
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The field in dotted form, `exercises[2].points`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The problem is the file as a whole (empty, too large, not text, not this kind of
    /// file): it has no line or field to point at.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub whole_file: bool,
}

impl Diagnostic {
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            help: None,
            whole_file: false,
        }
    }

    /// Marks a problem with the file as a whole (see [`Diagnostic::whole_file`]).
    pub fn whole_file(mut self) -> Self {
        self.whole_file = true;
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        if line > 0 {
            self.line = Some(line);
            self.column = Some(column.max(1));
        }
        self
    }

    pub fn at_pos(self, pos: Pos) -> Self {
        self.at(pos.line, pos.column)
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        let f = field.into();
        if !f.is_empty() {
            self.field = Some(f);
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, as far as known.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location())?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Where a node starts: 1-based line and column, and the byte offset when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub offset: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or flag the user gave is wrong; every problem found is listed.
    #[error("{}", list(.0))]
    Input(Vec<Diagnostic>),

    #[error("{0}")]
    Usage(String),

    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// The cluster could not be read; the message says what to do.
    #[error("{message}")]
    Cluster {
        message: String,
        help: Option<String>,
    },
}

fn list(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    pub fn input(d: Diagnostic) -> Self {
        Error::Input(vec![d])
    }

    pub fn io(file: &str, source: std::io::Error) -> Self {
        Error::Io {
            file: file.to_owned(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) | Error::Io { .. } => exit::INPUT,
            Error::Cluster { .. } => exit::CLUSTER,
        }
    }

    /// The diagnostics, for JSON output; other errors become one file-less diagnostic.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Error::Input(d) => d.clone(),
            Error::Cluster { message, help } => vec![Diagnostic {
                file: String::new(),
                line: None,
                column: None,
                field: None,
                message: message.clone(),
                help: help.clone(),
                whole_file: false,
            }],
            other => vec![Diagnostic {
                file: String::new(),
                line: None,
                column: None,
                field: None,
                message: other.to_string(),
                help: None,
                whole_file: false,
            }],
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads a whole file that comes from outside (a bundle, a roster), refusing it past `limit`
/// bytes without reading more than that; `what` names it in the error ("the roster").
pub fn read_bounded(path: &std::path::Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io(&shown, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&shown, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::input(
            Diagnostic::file(
                &shown,
                format!(
                    "{what} is larger than the {} MiB limit",
                    limit / (1024 * 1024)
                ),
            )
            .whole_file()
            .with_help(format!(
                "kubelab reads at most {} MiB of {what}: check that this is the right file",
                limit / (1024 * 1024)
            )),
        ));
    }
    Ok(bytes)
}

/// Writes a file whole or not at all: a temporary file of its own beside it (two writers never
/// share one), renamed into place. The one atomic writer of kubelab.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let shown = path.display().to_string();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(&shown, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(&shown, e))?;
    tmp.persist(path).map_err(|e| Error::io(&shown, e.error))?;
    Ok(())
}
