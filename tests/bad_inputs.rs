//! The bad-input corpus (tests/fixtures/bad/, written by its make.py, plus huge inputs made
//! here): every file through the command that reads it, counting panics (a crash, exit 101 or
//! a signal), unclear errors (a diagnostic without the file, a position or field, or what to
//! do) and unsafe output (a terminal control or bidi character reaching the terminal). One
//! snapshot per group records each input's exit code and message.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, kubelab_env, root};

/// What one input did.
struct Seen {
    name: String,
    run: Run,
    /// The diagnostics of `-o json`, when the run was refused (exit 2 or 3).
    diagnostics: Vec<serde_json::Value>,
}

#[derive(Default)]
struct Tally {
    inputs: usize,
    panics: Vec<String>,
    unclear: Vec<String>,
    unsafe_output: Vec<String>,
}

/// A character that must never reach a terminal from untrusted input: C0 controls but
/// newline and tab, DEL, C1 controls, and the bidirectional overrides and isolates.
fn dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

impl Tally {
    fn add(&mut self, group: &str, seen: &Seen) {
        self.inputs += 1;
        let id = format!("{group}/{}", seen.name);
        let run = &seen.run;
        if run.code == 101 || run.code < 0 || run.stderr.contains("panicked at") {
            self.panics
                .push(format!("{id}: exit {}: {}", run.code, run.stderr));
        }
        if [&run.stdout, &run.stderr]
            .iter()
            .any(|t| t.chars().any(dangerous))
        {
            self.unsafe_output.push(id.clone());
        }
        if matches!(run.code, 2 | 3) {
            let clear = !seen.diagnostics.is_empty()
                && seen.diagnostics.iter().all(|d| {
                    let has = |k: &str| d[k].as_str().is_some_and(|s| !s.trim().is_empty());
                    has("file")
                        && (d["line"].is_u64() || has("field") || d["whole_file"] == true)
                        && has("help")
                });
            if !clear {
                self.unclear.push(format!(
                    "{id}: {}",
                    serde_json::Value::from(seen.diagnostics.clone())
                ));
            }
        }
    }
}

/// One line per input for the group's snapshot: exit code and what the user was told.
fn summary(seen: &[Seen]) -> String {
    let mut out = String::new();
    for s in seen {
        let told = if s.diagnostics.is_empty() {
            let last = s
                .run
                .stdout
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            format!("judged: {last}")
        } else {
            s.diagnostics
                .iter()
                .map(|d| {
                    format!(
                        "{} | help: {}",
                        d["message"].as_str().unwrap_or(""),
                        d["help"].as_str().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join(" // ")
        };
        // Escapes and bidi controls in the messages are shown, not obeyed, in the snapshot too.
        let told = kubelab::text::clean(&told);
        out.push_str(&format!("{}: exit {}: {told}\n", s.name, s.run.code));
    }
    out
}

/// Runs `args` (with FILE replaced by the input's path) in `dir`, and again with `-o json`
/// when it was refused, to read the diagnostics.
fn run_input(dir: &Path, args: &[&str], file: &str) -> (Run, Vec<serde_json::Value>) {
    let course = root().display().to_string();
    let mut args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "FILE" { file } else { a })
        .collect();
    if !args.contains(&"--course") {
        args.splice(0..0, ["--course", course.as_str()]);
    }
    let mut human = vec!["--color", "never"];
    human.extend(&args);
    let run = kubelab_env(dir, &human, None, &[]);
    let mut diagnostics = Vec::new();
    if matches!(run.code, 2 | 3) {
        let mut json = args.clone();
        json.extend(["-o", "json"]);
        let out = kubelab_env(dir, &json, None, &[]);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&out.stdout) {
            diagnostics = v["error"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
    }
    (run, diagnostics)
}

/// Every file of a group, sorted.
fn inputs(group: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/bad").join(group))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Runs `each` over the inputs on a few threads, keeping their order.
fn par<T: Sync>(items: &[T], each: impl Fn(&T) -> Seen + Sync) -> Vec<Seen> {
    let chunk = items.len().div_ceil(4).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let each = &each;
                s.spawn(move || part.iter().map(each).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// A bundle with a fresh digest, when it parses as one (so its fault is judged, not just
/// called tampered); as it is otherwise, and always for `digest-*`.
fn resealed(bytes: &[u8], name: &str) -> Vec<u8> {
    if name.starts_with("digest-") {
        return bytes.to_vec();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()) {
        return [b"\xef\xbb\xbf".as_slice(), &resealed(rest, name)].concat();
    }
    let (Ok(mut raw), Ok(typed)) = (
        serde_json::from_slice::<serde_json::Value>(bytes),
        serde_json::from_slice::<kubelab::bundle::Bundle>(bytes),
    ) else {
        return bytes.to_vec();
    };
    raw["digest"] = kubelab::bundle::bundle_digest(&typed).into();
    serde_json::to_vec_pretty(&raw).unwrap()
}

/// The small image-processor bundle of the corpus with every pod's log replaced.
fn with_logs(log: &[u8]) -> Vec<u8> {
    with_logs_in(log, usize::MAX)
}

/// The same with the logs of the first `pods` pods replaced.
fn with_logs_in(log: &[u8], pods: usize) -> Vec<u8> {
    let base = std::fs::read(root().join("tests/fixtures/bad/bundle/small-good.json")).unwrap();
    let mut bundle: kubelab::bundle::Bundle = serde_json::from_slice(&base).unwrap();
    let text = String::from_utf8_lossy(log).into_owned();
    for containers in bundle.snapshot.logs.values_mut().take(pods) {
        for entry in containers.values_mut() {
            entry.text = text.clone().into();
        }
    }
    bundle.digest = kubelab::bundle::bundle_digest(&bundle);
    serde_json::to_vec(&bundle).unwrap()
}

fn group_yaml() -> Vec<Seen> {
    let dir = root().join("tests/fixtures/bad/yaml");
    par(&inputs("yaml"), |p| {
        let name = name_of(p);
        let (run, diagnostics) =
            run_input(&dir, &["check", "image-processor", "-f", "FILE"], &name);
        Seen {
            name,
            run,
            diagnostics,
        }
    })
}

/// Bundles and logs: written (resealed, or wrapped) into a folder and checked from there.
fn group_bundles(group: &str, make: fn(&[u8], &str) -> Vec<u8>) -> Vec<Seen> {
    let tmp = tempfile::tempdir().unwrap();
    par(&inputs(group), |p| {
        let name = name_of(p);
        let file = format!("{name}.bundle");
        std::fs::write(
            tmp.path().join(&file),
            make(&std::fs::read(p).unwrap(), &name),
        )
        .unwrap();
        let (run, diagnostics) = run_input(
            tmp.path(),
            &["check", "image-processor", "--from", "FILE"],
            &file,
        );
        Seen {
            name,
            run,
            diagnostics,
        }
    })
}

/// Rosters: graded against an empty hand-in folder; whatever the ids, every file written
/// stays inside --out.
fn group_roster() -> Vec<Seen> {
    let dir = root().join("tests/fixtures/bad/roster");
    par(&inputs("roster"), |p| {
        let name = name_of(p);
        let tmp = tempfile::tempdir().unwrap();
        let (hand_ins, out) = (tmp.path().join("hand-ins"), tmp.path().join("out"));
        std::fs::create_dir(&hand_ins).unwrap();
        let (h, o) = (hand_ins.display().to_string(), out.display().to_string());
        let (run, diagnostics) = run_input(
            &dir,
            &["grade", "--bundles", &h, "--roster", "FILE", "--out", &o],
            &name,
        );
        let mut run = run;
        run.stdout = run.stdout.replace(&o, "OUT");
        let mut around: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| name_of(&e.unwrap().path()))
            .collect();
        around.sort();
        assert!(
            around == ["hand-ins"] || around == ["hand-ins", "out"],
            "{name} wrote beside --out: {around:?}"
        );
        Seen {
            name,
            run,
            diagnostics,
        }
    })
}

/// Course files: each in place of one file of a copy of the good fixture course, linted.
fn group_course() -> Vec<Seen> {
    let good = root().join("tests/fixtures/courses/good");
    par(&inputs("course"), |p| {
        let name = name_of(p);
        let tmp = tempfile::tempdir().unwrap();
        common::copy_tree(&good, tmp.path());
        let target = match name.split('-').next() {
            Some("exercise") => "units/01-u/ex-a/exercise.yaml",
            Some("unit") => "units/01-u/unit.yaml",
            Some("check") => "checks/job-completed.yaml",
            other => panic!("{name}: no place for {other:?}"),
        };
        std::fs::copy(p, tmp.path().join(target)).unwrap();
        let (run, diagnostics) = run_input(tmp.path(), &["--course", ".", "lint"], "");
        Seen {
            name,
            run,
            diagnostics,
        }
    })
}

/// Inputs too big to commit, made here: 100 MB files, a million documents, a 50 MB log line.
fn group_generated() -> Vec<Seen> {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(tmp.path().join(name), bytes).unwrap();
    let hundred_mb = |line: &[u8]| line.repeat(100 * 1024 * 1024 / line.len());
    write(
        "100mb.yaml",
        &hundred_mb(b"# a comment line, again and again\n"),
    );
    write("million-documents.yaml", &b"a: 1\n---\n".repeat(1_000_000));
    write("100mb.json", &hundred_mb(b"[1,2,3,4,5,6,7,8,9]\n"));
    write(
        "100mb-roster.csv",
        &[b"learner\n".as_slice(), &hundred_mb(b"ana\n")].concat(),
    );
    write(
        "50mb-log-line.bundle",
        &with_logs_in(&b"worker=a event=start ".repeat(50 * 1024 * 1024 / 21), 1),
    );
    let hand_ins = tmp.path().join("hand-ins");
    std::fs::create_dir(&hand_ins).unwrap();
    let h = hand_ins.display().to_string();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("100mb.yaml", vec!["check", "image-processor", "-f", "FILE"]),
        (
            "million-documents.yaml",
            vec!["check", "image-processor", "-f", "FILE"],
        ),
        (
            "100mb.json",
            vec!["check", "image-processor", "--from", "FILE"],
        ),
        (
            "100mb-roster.csv",
            vec!["grade", "--bundles", &h, "--roster", "FILE", "--out", "out"],
        ),
        (
            "50mb-log-line.bundle",
            vec!["check", "image-processor", "--from", "FILE"],
        ),
    ];
    par(&cases, |(name, args)| {
        let (run, diagnostics) = run_input(tmp.path(), args, name);
        Seen {
            name: (*name).to_owned(),
            run,
            diagnostics,
        }
    })
}

/// Where kubelab's offline check deliberately answers otherwise than the API server
/// (server-1.36.tsv, recorded from a real 1.36 cluster by record-server.sh), and why.
const UNLIKE_THE_SERVER: &[(&str, &str)] = &[
    (
        "duplicate-key-labels.yaml",
        "Kubernetes silently keeps the last of two keys; kubelab says so and refuses",
    ),
    (
        "duplicate-key-spec.yaml",
        "Kubernetes silently keeps the last of two keys; kubelab says so and refuses",
    ),
    (
        "invalid-utf8-line-10.yaml",
        "the stray byte is in a comment kubectl skips; kubelab reads only UTF-8 files",
    ),
    (
        "kind-list.yaml",
        "kubelab judges each object as its own document and says a List is not read",
    ),
    (
        "two-jobs-same-name.yaml",
        "the second Job silently replaces the first; kubelab asks for one",
    ),
];

/// Each manifest's fate offline (refused: exit 2, or a manifest error) against the API
/// server's recorded answer: the differences are exactly [`UNLIKE_THE_SERVER`].
fn differences_from_the_server(seen: &[Seen]) -> Vec<String> {
    let recorded =
        std::fs::read_to_string(root().join("tests/fixtures/bad/server-1.36.tsv")).unwrap();
    let mut out = Vec::new();
    for line in recorded.lines().filter(|l| !l.starts_with('#')) {
        let mut cols = line.split('\t');
        let (Some(file), Some(verdict)) = (cols.next(), cols.next()) else {
            continue;
        };
        let Some(s) = seen.iter().find(|s| s.name == file) else {
            out.push(format!("{file}: recorded but not in the corpus"));
            continue;
        };
        let refused = s.run.code == 2 || s.run.stdout.contains("manifest error");
        let deliberate = UNLIKE_THE_SERVER.iter().any(|(f, _)| *f == file);
        if (refused != (verdict == "refused")) != deliberate {
            out.push(format!(
                "{file}: the API server {verdict} it, kubelab {}",
                if refused { "refused" } else { "accepted" }
            ));
        }
    }
    out
}

#[test]
fn the_bad_input_corpus_gives_no_panic_and_no_unclear_message() {
    let groups: Vec<(&str, Vec<Seen>)> = vec![
        ("yaml", group_yaml()),
        ("bundle", group_bundles("bundle", resealed)),
        ("log", group_bundles("log", |log, _| with_logs(log))),
        ("roster", group_roster()),
        ("course", group_course()),
        ("generated", group_generated()),
    ];
    let mut tally = Tally::default();
    for (group, seen) in &groups {
        for s in seen {
            tally.add(group, s);
        }
        insta::assert_snapshot!(format!("bad_{group}"), summary(seen));
    }
    let committed: usize = groups
        .iter()
        .filter(|(g, _)| *g != "generated")
        .map(|(_, s)| s.len())
        .sum();
    let unlike = differences_from_the_server(&groups[0].1);
    let line = format!(
        "{} inputs ({committed} committed), {} panics, {} unclear, {} unsafe; manifests judged as a 1.36 API server answers them but {} deliberate differences",
        tally.inputs,
        tally.panics.len(),
        tally.unclear.len(),
        tally.unsafe_output.len(),
        UNLIKE_THE_SERVER.len()
    );
    eprintln!("{line}");
    // CI prints this file: the figure in the README's "What kubelab survives".
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("survival");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad-inputs.txt"), format!("{line}\n")).unwrap();
    assert!(
        unlike.is_empty(),
        "unlike the API server:\n{}",
        unlike.join("\n")
    );
    assert!(committed >= 200, "the corpus holds {committed} files");
    assert!(
        tally.panics.is_empty(),
        "panics:\n{}",
        tally.panics.join("\n")
    );
    assert!(
        tally.unclear.is_empty(),
        "unclear:\n{}",
        tally.unclear.join("\n")
    );
    assert!(
        tally.unsafe_output.is_empty(),
        "unsafe output: {:?}",
        tally.unsafe_output
    );
}
