//! The mdBook side: mdBook runs `kubelab book preprocess` with the book on stdin (the
//! `mdbook-preprocessor` protocol), and gets it back with a chapter per unit and per exercise
//! appended after the hand-written chapters of `SUMMARY.md`. The course folder is the book's
//! parent unless `[preprocessor.kubelab] course = "..."` says otherwise.

use std::path::PathBuf;

use mdbook_preprocessor::book::{Book, BookItem, Chapter, SectionNumber};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use super::Page;
use crate::course::Course;

pub struct Kubelab {
    /// Set to read the course from here instead of the book's configuration.
    pub course: Option<PathBuf>,
}

impl Kubelab {
    fn course_root(&self, ctx: &PreprocessorContext) -> PathBuf {
        if let Some(root) = &self.course {
            return root.clone();
        }
        let configured: Option<String> =
            ctx.config.get("preprocessor.kubelab.course").ok().flatten();
        ctx.root.join(configured.unwrap_or_else(|| "..".into()))
    }
}

impl Preprocessor for Kubelab {
    fn name(&self) -> &str {
        "kubelab"
    }

    fn run(
        &self,
        ctx: &PreprocessorContext,
        mut book: Book,
    ) -> mdbook_preprocessor::errors::Result<Book> {
        let root = self.course_root(ctx);
        let course = Course::load(&root).map_err(|e| anyhow_error(&e))?;
        let pages = super::pages(&course).map_err(|e| anyhow_error(&e))?;
        let mut next = book
            .items
            .iter()
            .filter(|i| matches!(i, BookItem::Chapter(c) if c.number.is_some()))
            .count() as u32;
        for page in pages {
            next += 1;
            book.push_item(chapter(page, vec![next], Vec::new()));
        }
        Ok(book)
    }
}

fn anyhow_error(e: &crate::Error) -> mdbook_preprocessor::errors::Error {
    mdbook_preprocessor::errors::Error::msg(crate::text::clean(&e.to_string()))
}

fn chapter(page: Page, number: Vec<u32>, parents: Vec<String>) -> Chapter {
    let mut c = Chapter::new(&page.title, page.markdown, page.path, parents.clone());
    // Generated: there is no file on disk for mdBook to watch or create.
    c.source_path = None;
    c.number = Some(SectionNumber::new(number.clone()));
    let mut below = parents;
    below.push(page.title);
    c.sub_items = page
        .children
        .into_iter()
        .enumerate()
        .map(|(i, child)| {
            let mut n = number.clone();
            n.push(i as u32 + 1);
            BookItem::Chapter(chapter(child, n, below.clone()))
        })
        .collect();
    c
}
