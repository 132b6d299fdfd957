//! YAML syntax errors in words a learner can act on: a duplicate key with both lines, an alias
//! bomb told from a file of many documents, and what to do about each parser complaint.

use super::Source;
use crate::error::Diagnostic;

pub(super) fn syntax_diagnostic(source: &Source, e: &serde_saphyr::Error) -> Diagnostic {
    let mut message = e.to_string();
    // serde-saphyr appends "at line X column Y"; we show the position in our own header.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    let message = message.trim().trim_end_matches('.').to_owned();
    let over_limits =
        message.contains("budget") || message.contains("alias") && message.contains("limit");
    let uses_aliases = source.text.contains('*') && source.text.contains('&');
    let duplicate = message.strip_prefix("duplicate mapping key: ").map(|rest| {
        rest.split(", set ")
            .next()
            .unwrap_or(rest)
            .trim()
            .to_owned()
    });
    let mut diag = if let Some(key) = duplicate {
        let at = e.location().map_or(0, |l| l.line() as usize);
        let column = e.location().map_or(0, |l| l.column() as usize);
        let first = first_occurrence(&source.text, &key, at, column)
            .map(|l| format!("lines {l} and {at}"))
            .unwrap_or_else(|| format!("line {at} and before it"));
        Diagnostic::file(
            &source.name,
            format!(
                "the key `{}` is written twice in one mapping ({first}); Kubernetes would silently keep only the last one",
                crate::text::clean(&key)
            ),
        )
        .with_help("keep one of them: delete the line you did not mean")
    } else if over_limits && uses_aliases {
        Diagnostic::file(
            &source.name,
            "the YAML's aliases expand beyond kubelab's limits (1,000 aliases, 100,000 replayed nodes)",
        )
        .with_help("a manifest needs no deep alias nesting; this looks like an alias bomb")
    } else if over_limits {
        Diagnostic::file(
            &source.name,
            "the YAML holds more documents or nodes than kubelab reads (500,000 parser events)",
        )
        .with_help(
            "a manifest holds a few objects: remove the empty `---` documents, or split the file",
        )
    } else {
        Diagnostic::file(&source.name, format!("invalid YAML: {message}"))
            .with_help(syntax_help(&message))
    };
    if let Some(loc) = e.location()
        && loc.line() > 0
    {
        diag = diag.at(loc.line() as usize, loc.column() as usize);
    }
    diag
}

/// What to do about a YAML syntax error, in the words of its cause.
fn syntax_help(message: &str) -> &'static str {
    let has = |s: &str| message.contains(s);
    if has("tab") {
        "indent with spaces: YAML does not allow tabs in indentation"
    } else if has("unknown anchor") {
        "define the anchor (`&name`) before the alias (`*name`) that uses it, or write the value out"
    } else if has("recursive") {
        "an anchor cannot contain an alias to itself: write the value out"
    } else if has("non-finite") {
        "`.inf` and `.nan` are not numbers Kubernetes accepts: write a whole number"
    } else if has("recursion limit") {
        "nesting this deep is no manifest: check the brackets and indentation"
    } else if has("YAML major version") || has("directive") {
        "remove the `%YAML` line (Kubernetes reads YAML 1.2)"
    } else if has("quoted scalar") || has("quote") {
        "close the quote on the same value, or drop the quotes"
    } else if has("flow") || has("','") || has("']'") || has("'}'") {
        "close every `[` and `{` in the order they were opened, with commas between items"
    } else if has("key") || has("mapping values") || has("':'") || has("indentation") {
        "each `key: value` needs a colon and a space, and items of one mapping the same indentation: compare this line with the one above"
    } else {
        "fix the YAML at this line and column (an editor with YAML support marks it)"
    }
}

/// The line where `key` was first written in the block mapping whose duplicate is at
/// (`line`, `column`), 1-based: the nearest line above at the same indentation, within the
/// mapping (a line indented less ends it).
fn first_occurrence(text: &str, key: &str, line: usize, column: usize) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = column.checked_sub(1)?;
    for i in (0..line.saturating_sub(1).min(lines.len())).rev() {
        let l = lines[i];
        let trimmed = l.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let this = l.len() - trimmed.len();
        let item = trimmed.strip_prefix("- ").map(str::trim_start);
        let (at, body) = match item {
            Some(rest) if this < indent => (l.len() - rest.len(), rest),
            _ => (this, trimmed),
        };
        if at == indent {
            let name = body
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\'']);
            if name == key {
                return Some(i + 1);
            }
        }
        if this < indent && item.is_none() || at < indent {
            return None;
        }
    }
    None
}
