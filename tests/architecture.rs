//! The shape ARCHITECTURE.md promises, checked on the source: each top-level module imports
//! only modules of its own layer or below, there is no import cycle, no source file is over
//! 600 lines and no function over 80.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first (ARCHITECTURE.md, "Layers").
const LAYERS: &[&[&str]] = &[
    &[
        "error", "text", "model", "kinds", "selector", "target", "snapshot", "facts", "verdict",
        "yaml", "schema", "state",
    ],
    &["check", "report"],
    &["course"],
    &["manifest", "cluster", "bundle"],
    &[
        "offline",
        "live",
        "quiz",
        "wait",
        "follow",
        "clean",
        "timeline",
        "race",
        "confidence",
        "rbac",
    ],
    &[
        "run", "watch", "junit", "grade", "class", "board", "book", "show", "lint",
    ],
    &["cmd", "cli"],
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> (PathBuf, Vec<PathBuf>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    (root, files)
}

/// The top-level module a file belongs to (`check` for src/check/kinds/logs.rs).
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Source without its unit tests (they may reach anywhere).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i])
}

fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let (root, files) = src();
    let re = regex::Regex::new(r"crate::([a-z_]+)").expect("regex");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&root, &file);
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source");
        let edges = graph.entry(module.clone()).or_default();
        for c in re.captures_iter(without_tests(&text)) {
            if c[1] != *module {
                edges.insert(c[1].to_owned());
            }
        }
    }
    graph
}

#[test]
fn layers_point_down_only() {
    let rank = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    let mut wrong = Vec::new();
    for (module, deps) in imports() {
        let Some(mine) = rank(&module) else {
            wrong.push(format!(
                "{module} is in no layer: add it to LAYERS and ARCHITECTURE.md"
            ));
            continue;
        };
        for dep in deps {
            match rank(&dep) {
                Some(theirs) if theirs <= mine => {}
                _ => wrong.push(format!(
                    "{module} (layer {mine}) imports {dep}, a layer above"
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_import_cycle() {
    let graph = imports();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|p| *p == m) {
            let mut cycle = path[i..].to_vec();
            cycle.push(m);
            return Some(cycle.join(" -> "));
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for dep in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(dep, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {cycle}");
        }
    }
}

#[test]
fn no_source_file_over_600_lines() {
    let (_, files) = src();
    let long: Vec<String> = files
        .iter()
        .map(|f| {
            (
                f,
                std::fs::read_to_string(f).expect("source").lines().count(),
            )
        })
        .filter(|(_, n)| *n > 600)
        .map(|(f, n)| format!("{}: {n} lines", f.display()))
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}

/// Functions over 80 lines, by `file::name`: from the opening `fn` line to the closing brace at
/// the same indentation.
fn long_functions() -> Vec<(String, usize)> {
    let (root, files) = src();
    let re = regex::Regex::new(r"^(\s*)(pub(\([a-z]+\))? )?(async )?fn (\w+)").expect("regex");
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(c) = re.captures(line) else { continue };
            let indent = c[1].len();
            let Some(open) = (i..lines.len()).find(|&j| {
                lines[j].trim_end().ends_with('{') || lines[j].trim_end().ends_with(';')
            }) else {
                continue;
            };
            if lines[open].trim_end().ends_with(';') {
                continue;
            }
            let close = (open + 1..lines.len())
                .find(|&j| lines[j].starts_with(&format!("{}}}", " ".repeat(indent))))
                .unwrap_or(lines.len());
            let n = close - i + 1;
            if n > 80 {
                let rel = file
                    .strip_prefix(&root)
                    .expect("under src")
                    .display()
                    .to_string();
                out.push((format!("{rel}::{}", &c[5]), n));
            }
        }
    }
    out
}

#[test]
fn no_function_over_80_lines() {
    let long: Vec<String> = long_functions()
        .iter()
        .map(|(name, n)| format!("{name}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "split these into named steps:\n{}",
        long.join("\n")
    );
}
