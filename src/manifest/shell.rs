//! A lint for container scripts run by `sh -c`: bash-only syntax that busybox `sh` (ash) or
//! dash do not understand. Arrays are fatal in busybox: the seed's `dynamic-workload` Job fails
//! in every pod with `sh: syntax error: unexpected "("` on a real cluster.

use serde_json::Value as Json;

use super::{Finding, Object, Severity};
use crate::error::Diagnostic;
use crate::yaml::{self, Source};

/// A bash-ism found in a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// 1-based line inside the script.
    pub line: usize,
    /// 1-based column inside that line.
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

/// Finds the scripts of every container and init container of a Pod, Job, CronJob or Deployment
/// and lints those run by a POSIX shell.
pub fn lint_object(source: &Source, obj: &Object) -> Vec<Finding> {
    let Some(pod_spec) = super::pod_spec_pointer(&obj.kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        let base = format!("{pod_spec}/{list}");
        let Some(containers) = obj.json.pointer(&base).and_then(Json::as_array) else {
            continue;
        };
        for (i, c) in containers.iter().enumerate() {
            let cbase = format!("{base}/{i}");
            let name = c.get("name").and_then(Json::as_str).unwrap_or("?");
            let image = c.get("image").and_then(Json::as_str).unwrap_or("");
            let Some((shell, pointer, script)) = script_of(c, &cbase) else {
                continue;
            };
            let busybox = is_busybox(image);
            if shell == "bash" {
                if busybox {
                    out.push(Finding {
                        severity: Severity::Error,
                        category: "shell",
                        diagnostic: Diagnostic::file(
                            &source.name,
                            format!("container `{name}` runs bash, but {image} has no bash: the pod fails with `exec: \"bash\": executable file not found`"),
                        )
                        .at_pos(obj.node.locate(&format!("{cbase}/command/0")))
                        .field(yaml::pointer_to_path(&format!("{cbase}/command/0")))
                        .with_help("run the script with `sh` and keep to POSIX sh syntax"),
                    });
                }
                continue;
            }
            for issue in lint_script(&script) {
                let (line, column) =
                    file_position(source, obj, &pointer, &script, issue.line, issue.column);
                let shell_name = if busybox { "busybox sh" } else { "sh" };
                out.push(Finding {
                    severity: issue.severity,
                    category: "shell",
                    diagnostic: Diagnostic::file(
                        &source.name,
                        format!(
                            "container `{name}`, script line {}: {}",
                            issue.line,
                            issue.message.replace("{sh}", shell_name)
                        ),
                    )
                    .at(line, column)
                    .field(yaml::pointer_to_path(&pointer)),
                });
            }
        }
    }
    out
}

fn is_busybox(image: &str) -> bool {
    let repo = image.rsplit('/').next().unwrap_or(image);
    repo.starts_with("busybox") || repo.starts_with("alpine")
}

/// The shell (`sh`, `bash`, ...), the JSON pointer of the script and the script itself, when the
/// container runs `SHELL -c SCRIPT` through `command` and/or `args`.
fn script_of(c: &Json, cbase: &str) -> Option<(String, String, String)> {
    let strings = |key: &str| -> Vec<String> {
        c.get(key)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let command = strings("command");
    let args = strings("args");
    let argv: Vec<(String, String)> = command
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("{cbase}/command/{i}"), s.clone()))
        .chain(
            args.iter()
                .enumerate()
                .map(|(i, s)| (format!("{cbase}/args/{i}"), s.clone())),
        )
        .collect();
    let first = command.first()?;
    let shell = first.rsplit('/').next().unwrap_or(first);
    if !matches!(shell, "sh" | "ash" | "dash" | "bash") {
        return None;
    }
    // `sh -c SCRIPT`, `sh -ec SCRIPT`, `sh -x -c SCRIPT`.
    let mut i = 1;
    while i < argv.len() && argv[i].1.starts_with('-') {
        if argv[i].1.contains('c') {
            let (pointer, script) = argv.get(i + 1)?.clone();
            return Some((shell.to_owned(), pointer, script));
        }
        i += 1;
    }
    None
}

/// Maps a position inside the script to the file: block scalars (`|`) start on the next line.
fn file_position(
    source: &Source,
    obj: &Object,
    pointer: &str,
    script: &str,
    line: usize,
    column: usize,
) -> (usize, usize) {
    let pos = obj.node.locate(pointer);
    let Some(offset) = pos.offset else {
        return (pos.line, pos.column);
    };
    // A block scalar (`|`, `>-`...) is positioned either at its indicator or at its first
    // content line, depending on the parser; find which.
    let at_indicator = source
        .text
        .get(offset..)
        .is_some_and(|rest| rest.starts_with('|') || rest.starts_with('>'));
    let after_indicator = source.text.get(..offset).is_some_and(|before| {
        let prev = before.trim_end_matches([' ', '\t']);
        let prev = prev.strip_suffix('\n').unwrap_or(prev);
        let last = prev.lines().last().unwrap_or("").trim_end();
        let token = last.rsplit([' ', ':', '-']).next().unwrap_or("");
        before.ends_with(['\n', ' ', '\t'])
            && (token.starts_with('|') || token.starts_with('>'))
            && token.len() <= 3
    });
    let first_content_line = if at_indicator {
        pos.line + 1
    } else if after_indicator {
        pos.line
    } else {
        return (pos.line, pos.column);
    };
    let file_line = first_content_line + line - 1;
    let script_line = script.lines().nth(line - 1).unwrap_or("");
    let indent = source
        .text
        .lines()
        .nth(file_line - 1)
        .map(|l| {
            if script_line.is_empty() {
                0
            } else {
                l.find(script_line).unwrap_or(0)
            }
        })
        .unwrap_or(0);
    (file_line, indent + column)
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Lints a POSIX shell script for bash-only syntax.
pub fn lint_script(script: &str) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut quote = Quote::None;
    for (ln, line) in script.lines().enumerate() {
        lint_line(ln, line, &mut quote, &mut issues);
    }
    issues
}

/// One line; a quote left open carries over to the next.
fn lint_line(ln: usize, line: &str, quote: &mut Quote, issues: &mut Vec<Issue>) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    // Start of a command word: line start, or after ; & | ( { ` or `then`/`do`...
    let mut word_start = true;
    let mut command_pos = true;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().collect();
        let mut issue =
            |col: usize, severity, message| issues.push(Issue::at(ln, col, severity, message));
        if *quote != Quote::None {
            i += in_quotes(quote, c, &rest, i, &mut issue);
            continue;
        }
        match c {
            '#' if word_start => break,
            '\\' => {
                i += 2;
                word_start = false;
                continue;
            }
            '\'' => {
                *quote = Quote::Single;
                word_start = false;
                command_pos = false;
            }
            '"' => {
                *quote = Quote::Double;
                word_start = false;
                command_pos = false;
            }
            ' ' | '\t' => {
                word_start = true;
            }
            ';' | '&' | '|' | '(' | '{' | '`' => {
                word_start = true;
                command_pos = true;
            }
            _ => {
                if let Some(found) = array_index(&rest) {
                    issue(i, Severity::Error, found);
                } else if rest.starts_with("${")
                    && let Some(m) = pattern_substitution(&rest)
                {
                    issue(i, Severity::Warning, m);
                }
                if rest.starts_with("<<<") {
                    issue(
                        i,
                        Severity::Warning,
                        "`<<<` (here-string) is bash syntax, not POSIX sh; use `echo \"$x\" | cmd` or a here-document".to_owned(),
                    );
                    i += 3;
                    continue;
                }
                if word_start && command_pos {
                    let word: String = chars[i..]
                        .iter()
                        .take_while(|c| !c.is_whitespace() && **c != ';')
                        .collect();
                    if let Some((severity, message)) = command_word_issue(&word) {
                        issue(i, severity, message);
                    }
                    command_pos = keeps_command_position(&word);
                    word_start = false;
                    i += 1;
                    continue;
                }
                word_start = false;
            }
        }
        i += 1;
    }
}

impl Issue {
    fn at(line: usize, column: usize, severity: Severity, message: String) -> Issue {
        Issue {
            line: line + 1,
            column: column + 1,
            severity,
            message,
        }
    }
}

/// Inside quotes: where the quote ends, and array indexing inside double quotes; returns how
/// many characters were consumed.
fn in_quotes(
    quote: &mut Quote,
    c: char,
    rest: &str,
    i: usize,
    issue: &mut impl FnMut(usize, Severity, String),
) -> usize {
    match quote {
        Quote::Single if c == '\'' => *quote = Quote::None,
        Quote::Double if c == '\\' => return 2,
        Quote::Double if c == '"' => *quote = Quote::None,
        Quote::Double => {
            if let Some(found) = array_index(rest) {
                issue(i, Severity::Error, found);
            }
        }
        _ => {}
    }
    1
}

/// What is wrong with a word in command position under busybox `sh`, if anything.
fn command_word_issue(word: &str) -> Option<(Severity, String)> {
    if let Some(name) = array_assignment(word) {
        return Some((
            Severity::Error,
            format!(
                "`{name}=(...)` is a bash array; {{sh}} has no arrays and stops with `sh: syntax error: unexpected \"(\"` before running anything. Use `set -- a b c` with `$1`..., or a `case` on a number"
            ),
        ));
    }
    let warning = if word == "[[" {
        "`[[ ... ]]` is bash syntax, not POSIX sh (dash rejects it); use `[ ... ]`".to_owned()
    } else if word == "function" {
        "`function name` is bash syntax; POSIX sh declares functions as `name() { ... }`".to_owned()
    } else if word == "source" {
        "`source` is bash; POSIX sh uses `. file`".to_owned()
    } else if word.starts_with("((") {
        "`(( ... ))` is bash arithmetic; POSIX sh uses `i=$((i + 1))` or `[ \"$i\" -lt 3 ]`"
            .to_owned()
    } else if matches!(word, "declare" | "typeset" | "readarray" | "mapfile") {
        format!("`{word}` is a bash builtin; {{sh}} may not have it")
    } else {
        return None;
    };
    Some((Severity::Warning, warning))
}

/// Words that keep the next word in command position (`then echo`, `FOO=1 cmd`).
fn keeps_command_position(word: &str) -> bool {
    matches!(
        word,
        "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "time"
    ) || word.contains('=') && !word.starts_with('=')
}

/// `NAME=(` at the start of a word.
fn array_assignment(word: &str) -> Option<String> {
    let (name, rest) = word.split_once('=')?;
    let name = name.strip_suffix('+').unwrap_or(name);
    if rest.starts_with('(')
        && !rest.starts_with("((")
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        Some(name.to_owned())
    } else {
        None
    }
}

/// `${NAME[...]}` or `${#NAME[@]}`.
fn array_index(rest: &str) -> Option<String> {
    let inner = rest.strip_prefix("${")?;
    let inner = inner.strip_prefix('#').unwrap_or(inner);
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() || !inner[name.len()..].starts_with('[') {
        return None;
    }
    Some(format!(
        "`${{{name}[...]}}` indexes a bash array; {{sh}} has no arrays (`bad substitution`)"
    ))
}

/// `${x/a/b}` and `${x//a/b}`.
fn pattern_substitution(rest: &str) -> Option<String> {
    let inner = rest.strip_prefix("${")?;
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() || !inner[name.len()..].starts_with('/') {
        return None;
    }
    Some(format!(
        "`${{{name}/.../...}}` substitution is bash syntax, not POSIX sh (dash rejects it; busybox has it only with bash compatibility); use `echo \"${name}\" | sed 's/a/b/g'`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(script: &str) -> Vec<(usize, Severity)> {
        lint_script(script)
            .into_iter()
            .map(|i| (i.line, i.severity))
            .collect()
    }

    #[test]
    fn finds_the_seed_array() {
        let script = "WORKER=$(hostname)\n\n# comment with X=(a)\nWORK_TYPES=(\"quick\" \"slow\")\nWORK_TYPE=${WORK_TYPES[$((RANDOM % 4))]}\n";
        let issues = lint_script(script);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert_eq!((issues[0].line, issues[0].column), (4, 1));
        assert!(issues[0].message.contains("unexpected \"(\""));
        assert_eq!(issues[1].line, 5);
        assert_eq!(issues[0].severity, Severity::Error);
    }

    #[test]
    fn bashisms_are_warnings() {
        assert_eq!(
            kinds("if [[ -f x ]]; then echo y; fi"),
            vec![(1, Severity::Warning)]
        );
        assert_eq!(kinds("function f { :; }"), vec![(1, Severity::Warning)]);
        assert_eq!(kinds("echo ${x//a/b}"), vec![(1, Severity::Warning)]);
        assert_eq!(kinds("cat <<< \"$x\""), vec![(1, Severity::Warning)]);
        assert_eq!(kinds("source ./env"), vec![(1, Severity::Warning)]);
    }

    #[test]
    fn posix_is_clean() {
        let script = "case $((RANDOM % 4)) in\n  0) T=quick; D=3 ;;\n  *) T=slow; D=25 ;;\nesac\necho \"x=(not an array)\" '${A[1]}'\nf() { echo \"$1\"; }\nN=$((N + 1))\nfor i in $(seq 1 10); do echo $i; done\n";
        assert!(lint_script(script).is_empty(), "{:?}", lint_script(script));
    }
}
