//! `kubelab book`: build or preview the course site with mdBook (`build`, `serve`), and the
//! preprocessor mdBook calls back (`preprocess`) to write the course's pages from units/.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use clap::{Args, Subcommand};
use mdbook_preprocessor::Preprocessor;

use crate::book::preprocess::Kubelab;
use crate::course;
use crate::error::{Error, exit};

/// The mdBook version kubelab's preprocessor speaks (`cargo install mdbook --version ...`).
pub const MDBOOK_VERSION: &str = mdbook_preprocessor::MDBOOK_VERSION;

#[derive(Args, Debug)]
pub struct BookArgs {
    #[command(subcommand)]
    pub command: BookCommand,
}

#[derive(Subcommand, Debug)]
pub enum BookCommand {
    /// Build the site into book/site/ (or --dest) with mdBook, which must be on PATH (or in
    /// MDBOOK).
    Build {
        /// Where the HTML goes (default: book/site/ of the course).
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
    },
    /// Preview the site at http://localhost:3000, rebuilt when book/ changes.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// What mdBook runs (`[preprocessor.kubelab]` in book/book.toml): reads the book as JSON
    /// on stdin, writes it back with the course's pages. `supports RENDERER` answers mdBook's
    /// question.
    Preprocess {
        #[arg(num_args = 0..=2, value_name = "supports RENDERER")]
        supports: Vec<String>,
        /// The course folder (default: the book's parent folder).
        #[arg(long, value_name = "DIR")]
        course: Option<PathBuf>,
    },
}

pub fn book(args: BookArgs, course_flag: Option<&Path>) -> Result<i32, Error> {
    match args.command {
        BookCommand::Preprocess { supports, course } => preprocess(&supports, course),
        BookCommand::Build { dest } => {
            let root = course::discover(course_flag)?;
            let mut extra = vec!["build".to_owned()];
            if let Some(d) = dest {
                let d =
                    std::path::absolute(&d).map_err(|e| Error::io(&d.display().to_string(), e))?;
                extra.extend(["--dest-dir".to_owned(), d.display().to_string()]);
            }
            mdbook(&root, &extra)
        }
        BookCommand::Serve { port } => {
            let root = course::discover(course_flag)?;
            mdbook(&root, &["serve".into(), "--port".into(), port.to_string()])
        }
    }
}

fn preprocess(supports: &[String], course: Option<PathBuf>) -> Result<i32, Error> {
    if let [word, _renderer] = supports {
        if word != "supports" {
            return Err(Error::Usage(format!(
                "unknown argument `{word}`: mdBook asks `supports RENDERER`"
            )));
        }
        // Every renderer gets the same Markdown pages.
        return Ok(exit::PASSED);
    }
    if std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "mdBook runs this with the book on stdin; to build the site, run `kubelab book build`"
                .into(),
        ));
    }
    // Pages hold plain text: the verdicts shown on the site must not carry terminal colours.
    colored::control::set_override(false);
    let (ctx, book) = mdbook_preprocessor::parse_input(std::io::stdin().lock())
        .map_err(|e| Error::Usage(format!("mdBook's input could not be read: {e:#}")))?;
    if ctx.mdbook_version != MDBOOK_VERSION {
        eprintln!(
            "warning: kubelab's preprocessor was built for mdBook {MDBOOK_VERSION}, and mdBook {} runs it",
            ctx.mdbook_version
        );
    }
    let book = Kubelab { course }
        .run(&ctx, book)
        .map_err(|e| Error::Usage(format!("{e:#}")))?;
    serde_json::to_writer(std::io::stdout().lock(), &book)
        .map_err(|e| Error::Usage(format!("could not hand the book back to mdBook: {e}")))?;
    Ok(exit::PASSED)
}

/// Runs mdBook on the course's book/ with this very kubelab as its preprocessor.
fn mdbook(root: &Path, args: &[String]) -> Result<i32, Error> {
    let book_dir = root.join("book");
    if !book_dir.join("book.toml").is_file() {
        return Err(Error::Usage(format!(
            "{} has no book.toml: the course site is built from book/ of the course",
            book_dir.display()
        )));
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("kubelab's own path", e))?;
    let command = format!(
        "{} book preprocess --course {}",
        shell_quote(&exe.display().to_string()),
        shell_quote(&root.display().to_string())
    );
    let program = std::env::var_os("MDBOOK").unwrap_or_else(|| "mdbook".into());
    let status = Process::new(&program)
        .args(args)
        .arg(&book_dir)
        .env("MDBOOK_PREPROCESSOR__KUBELAB__COMMAND", command)
        .status()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Usage(format!(
                "mdbook is not installed: `cargo install mdbook --locked --version {MDBOOK_VERSION}` (or set MDBOOK to its path)"
            )),
            _ => Error::io("mdbook", e),
        })?;
    if status.success() {
        Ok(exit::PASSED)
    } else {
        Err(Error::Usage(format!(
            "mdbook {} failed ({status}); its messages are above",
            args.first().map(String::as_str).unwrap_or_default()
        )))
    }
}

/// Quotes for the shell-like split mdBook applies to a preprocessor's command.
fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
