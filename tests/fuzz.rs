//! Fuzzing every parser on stable Rust: proptest generates mutations (bit flips, inserted
//! bytes and YAML/JSON/CSV tokens, deletions, duplications, truncations, splices between seeds)
//! of seed inputs taken from the repository's fixtures, and shrinks a failure to its smallest
//! form. Each target runs for `KUBELAB_FUZZ_SECONDS` (default 2; CI gives more) and fails on a
//! panic, an input that takes over a second, or one that allocates over 256 MiB at once. A
//! failure is written to target/tmp/fuzz-failures/; copied into
//! tests/fixtures/fuzz/TARGET/ it is replayed first by every later run (a regression test).
//! Each target writes its count to target/tmp/survival/ (CI prints them).

mod common;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use common::root;
use kubelab::course::Course;

// ---------------------------------------------------------------------------- memory bound

/// Counts what the current thread holds, so one input's peak can be bounded.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = HELD.try_with(|h| {
            let now = h.get() + layout.size() as isize;
            h.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        let _ = HELD.try_with(|h| h.set(h.get() - layout.size() as isize));
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// CPU seconds one input may take (a hang), and wall seconds (a wait that burns no CPU).
const MAX_SECONDS_PER_INPUT: f64 = 1.0;
const MAX_WALL_SECONDS_PER_INPUT: f64 = 10.0;
const MAX_BYTES_PER_INPUT: isize = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------- mutations

/// Bytes that change how YAML, JSON, CSV, CEL and templates are read.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "<<: *a",
    "---\n",
    "...\n",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "\t",
    "\r\n",
    "\u{feff}",
    "\0",
    "\x1b[31m",
    "\u{202e}",
    "!!binary ",
    "!tag ",
    "%YAML 1.2\n",
    "? ",
    "9999999999999999999999",
    "-1",
    "1e400",
    ".nan",
    "null",
    "~",
    "{value}",
    "{{",
    "}}",
    "=",
    "+",
    "@",
    ",",
    ";",
    "\\",
    "..",
    "/",
    "#",
    "|\n",
    ">-\n",
    "\"\\u0000\"",
    "size(",
    "))",
    "has(",
    "&&",
    "||",
    "in (",
    "!=",
    "worker=",
    "event=",
    "at=",
    "kubelab-part ",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Token {
        at: usize,
        token: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    Truncate {
        at: usize,
    },
    Splice {
        at: usize,
        seed: usize,
        from: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Token { at, token }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1usize..256).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<usize>(), any::<usize>(), 1usize..128).prop_map(
            |(at, seed, from, len)| Mutation::Splice {
                at,
                seed,
                from,
                len
            }
        ),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
    for m in mutations {
        match m {
            Mutation::Flip { at, bit } if !b.is_empty() => {
                let i = at % b.len();
                b[i] ^= 1 << bit;
            }
            Mutation::Flip { .. } => {}
            Mutation::Insert { at, bytes } => {
                let i = pos(*at, b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Token { at, token } => {
                let i = pos(*at, b.len());
                b.splice(i..i, TOKENS[*token].bytes());
            }
            Mutation::Delete { at, len } => {
                let i = pos(*at, b.len());
                let end = (i + len).min(b.len());
                b.drain(i..end);
            }
            Mutation::Duplicate { at, len } => {
                let i = pos(*at, b.len());
                let end = (i + len).min(b.len());
                let copy = b[i..end].to_vec();
                b.splice(end..end, copy);
            }
            Mutation::Truncate { at } => {
                let i = pos(*at, b.len());
                b.truncate(i);
            }
            Mutation::Splice {
                at,
                seed,
                from,
                len,
            } => {
                let other = &seeds[seed % seeds.len()];
                let start = pos(*from, other.len());
                let end = (start + len).min(other.len());
                let i = pos(*at, b.len());
                b.splice(i..i, other[start..end].iter().copied());
            }
        }
    }
    b
}

// ---------------------------------------------------------------------------- the runner

/// Why an input failed.
fn failure(target: &str, input: &[u8], property: &(dyn Fn(&[u8]) + Sync)) -> Option<String> {
    quiet_while_fuzzing();
    FUZZING.with(|f| f.set(true));
    let outcome = measure(input, property);
    FUZZING.with(|f| f.set(false));
    let (outcome, took, peak) = outcome;
    match outcome {
        Err(panic) => {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Some(format!("{target}: panicked: {text}"))
        }
        Ok(()) if took.cpu > MAX_SECONDS_PER_INPUT || took.wall > MAX_WALL_SECONDS_PER_INPUT => {
            Some(format!(
                "{target}: one input took {:.2} s of CPU, {:.2} s in all (a hang)",
                took.cpu, took.wall
            ))
        }
        Ok(()) if peak > MAX_BYTES_PER_INPUT => Some(format!(
            "{target}: one input held {} MiB at once",
            peak / (1024 * 1024)
        )),
        Ok(()) => None,
    }
}

type Outcome = Result<(), Box<dyn std::any::Any + Send>>;

struct Took {
    cpu: f64,
    wall: f64,
}

fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Runs the property once: its outcome, time and peak bytes held.
fn measure(input: &[u8], property: &(dyn Fn(&[u8]) + Sync)) -> (Outcome, Took, isize) {
    PEAK.with(|p| p.set(HELD.with(Cell::get)));
    let base = HELD.with(Cell::get);
    let (start, cpu) = (Instant::now(), thread_cpu_seconds());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(input)));
    let took = Took {
        cpu: thread_cpu_seconds() - cpu,
        wall: start.elapsed().as_secs_f64(),
    };
    (outcome, took, PEAK.with(Cell::get) - base)
}

thread_local! {
    static FUZZING: Cell<bool> = const { Cell::new(false) };
}

/// Panics caught while an input runs are counted, not printed; every other panic (a
/// target's own report) prints as usual.
fn quiet_while_fuzzing() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !FUZZING.with(Cell::get) {
                default(info);
            }
        }));
    });
}

fn budget() -> Duration {
    let secs = std::env::var("KUBELAB_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs.max(0.1))
}

/// Replays the target's regressions and seeds, then fuzzes for the budget; a failure is
/// shrunk, saved and reported.
fn fuzz(target: &str, seeds: Vec<Vec<u8>>, property: impl Fn(&[u8]) + Sync) {
    assert!(!seeds.is_empty(), "{target}: no seeds");
    let regressions = files_in(&root().join("tests/fixtures/fuzz").join(target), usize::MAX);
    for input in regressions.iter().chain(&seeds) {
        if let Some(why) = failure(target, input, &property) {
            panic!("{why} (a regression or seed input)");
        }
    }
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..8));
    let seed = std::env::var("KUBELAB_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id())
        });
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed),
    );
    let started = Instant::now();
    let mut inputs = 0usize;
    while started.elapsed() < budget() {
        let mut tree = strategy
            .new_tree(&mut runner)
            .expect("a strategy that always generates");
        let input = |(s, m): (usize, Vec<Mutation>)| apply(&seeds[s], &m, &seeds);
        inputs += 1;
        let Some(mut why) = failure(target, &input(tree.current()), &property) else {
            continue;
        };
        let mut smallest = input(tree.current());
        for _ in 0..500 {
            if !tree.simplify() {
                break;
            }
            while let Some(w) = failure(target, &input(tree.current()), &property) {
                (why, smallest) = (w, input(tree.current()));
                if !tree.simplify() {
                    break;
                }
            }
            if !tree.complicate() {
                break;
            }
        }
        let saved = save_failure(target, &smallest);
        panic!(
            "{why}\n  input ({} bytes, seed {seed}) saved to {}: copy it into tests/fixtures/fuzz/{target}/ as a regression",
            smallest.len(),
            saved.display()
        );
    }
    let line = format!(
        "{target}: {inputs} inputs in {:.0} s from {} seeds and {} regressions, 0 failures\n",
        started.elapsed().as_secs_f64(),
        seeds.len(),
        regressions.len()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("survival");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("fuzz-{target}.txt")), line).unwrap();
}

fn save_failure(target: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-{}.bin", input.len()));
    std::fs::write(&path, input).unwrap();
    path
}

/// The files of a folder (not recursive), at most `max_bytes` each, sorted.
fn files_in(dir: &Path, max_bytes: usize) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= max_bytes)
        .collect()
}

fn every_file(dir: &Path, name_ends: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            every_file(&path, name_ends, out);
        } else if path.to_string_lossy().ends_with(name_ends) {
            out.push(path);
        }
    }
}

fn course() -> &'static Course {
    static COURSE: OnceLock<Course> = OnceLock::new();
    COURSE.get_or_init(|| Course::load(&root()).expect("the course loads"))
}

const SMALL: usize = 64 * 1024;

// ---------------------------------------------------------------------------- targets

/// A learner's manifest through the whole offline check of exercises of every kind, and a
/// quiz's answer file through the quiz check.
#[test]
fn fuzz_manifest_offline_check() {
    let mut seeds = files_in(&root().join("tests/fixtures/manifests"), SMALL);
    seeds.extend(files_in(&root().join("tests/fixtures/bad/yaml"), SMALL));
    let mut refs = Vec::new();
    every_file(&root().join("units"), "reference.yaml", &mut refs);
    seeds.extend(refs.iter().filter_map(|p| std::fs::read(p).ok()));
    let exercises: Vec<_> = course().exercises().collect();
    fuzz("manifest", seeds, |bytes| {
        let Ok(source) = kubelab::yaml::Source::from_bytes("fuzz.yaml".into(), bytes.to_vec())
        else {
            return;
        };
        let ex = exercises[bytes.len() % exercises.len()];
        if ex.file.kind == kubelab::model::ExerciseKind::Quiz {
            let _ = kubelab::quiz::check(ex, &source);
        } else {
            let _ = kubelab::offline::check(ex, &source);
        }
    });
}

/// A bundle through `check --from` (parse, judge) and `grade --bundles` (read a hand-in).
#[test]
fn fuzz_bundle() {
    let mut seeds = files_in(&root().join("tests/fixtures/bad/bundle"), SMALL);
    seeds.retain(|s| s.len() > 200);
    let dir = tempfile::tempdir().unwrap();
    fuzz("bundle", seeds, |bytes| {
        if let Ok(bundle) = kubelab::bundle::parse_bundle(bytes.to_vec(), "fuzz.json")
            && let Ok(ex) = course().exercise(&bundle.exercise)
        {
            let _ = kubelab::live::judge(ex, &bundle.snapshot, "fuzz".into());
        }
        let path = dir
            .path()
            .join(format!("{:?}.json", std::thread::current().id()));
        std::fs::write(&path, bytes).unwrap();
        let _ = kubelab::grade::bundles::read_one(dir.path(), &path);
    });
}

/// A roster as `grade` and `class up` read it.
#[test]
fn fuzz_roster() {
    let seeds = files_in(&root().join("tests/fixtures/bad/roster"), SMALL);
    fuzz("roster", seeds, |bytes| {
        let _ = kubelab::grade::roster::parse("roster.csv", bytes);
    });
}

/// A pod log through the `logs` judge (image-processor) and the `records` judges
/// (log-analysis, data-validation).
#[test]
fn fuzz_pod_log() {
    let mut seeds = files_in(&root().join("tests/fixtures/bad/log"), SMALL);
    let mut logs = Vec::new();
    every_file(&root().join("tests/fixtures/k8s-1.36"), ".log", &mut logs);
    seeds.extend(logs.iter().take(40).filter_map(|p| std::fs::read(p).ok()));
    let base = std::fs::read(root().join("tests/fixtures/bad/bundle/small-good.json")).unwrap();
    let bundle: kubelab::bundle::Bundle = serde_json::from_slice(&base).unwrap();
    let judged: Vec<_> = ["image-processor", "log-analysis", "data-validation"]
        .iter()
        .map(|id| course().exercise(id).unwrap())
        .collect();
    fuzz("log", seeds, |bytes| {
        let mut snapshot = bundle.snapshot.clone();
        let text = String::from_utf8_lossy(bytes).into_owned();
        for containers in snapshot.logs.values_mut() {
            for log in containers.values_mut() {
                log.text = text.clone().into();
            }
        }
        for ex in &judged {
            let _ = kubelab::live::judge(ex, &snapshot, "fuzz".into());
        }
    });
}

/// A course file (exercise, unit or check) in place of the good fixture course's own.
#[test]
fn fuzz_course_files() {
    let mut files = Vec::new();
    every_file(&root().join("units"), ".yaml", &mut files);
    every_file(&root().join("checks"), ".yaml", &mut files);
    files.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        name == "exercise.yaml" || p.starts_with(root().join("checks"))
    });
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= SMALL)
        .collect();
    let good = root().join("tests/fixtures/courses/good");
    fuzz("course", seeds, |bytes| {
        let dir = tempfile::tempdir().unwrap();
        for (from, to) in [
            ("units/01-u/unit.yaml", "units/01-u/unit.yaml"),
            (
                "units/01-u/ex-a/reference.yaml",
                "units/01-u/ex-a/reference.yaml",
            ),
            ("checks/job-completed.yaml", "checks/job-completed.yaml"),
        ] {
            let dest = dir.path().join(to);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(good.join(from), dest).unwrap();
        }
        let target = if bytes.starts_with(b"id: ") && !bytes.windows(6).any(|w| w == b"title:") {
            "checks/job-completed.yaml"
        } else {
            "units/01-u/ex-a/exercise.yaml"
        };
        std::fs::write(dir.path().join(target), bytes).unwrap();
        let _ = Course::load(dir.path());
    });
}

/// Every CEL expression of the course and its checks, compiled and evaluated on a real Job.
#[test]
fn fuzz_cel_expressions() {
    let mut files = Vec::new();
    every_file(&root().join("units"), ".yaml", &mut files);
    every_file(&root().join("checks"), ".yaml", &mut files);
    let expr =
        regex::Regex::new(r#"(?m)^\s*-?\s*(?:expr|value|filter|where): "(.*)"\s*$"#).unwrap();
    let mut seeds: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| {
            expr.captures_iter(&t)
                .map(|c| c[1].replace("\\\"", "\"").into_bytes())
                .collect::<Vec<_>>()
        })
        .collect();
    seeds.sort();
    seeds.dedup();
    let base = std::fs::read(root().join("tests/fixtures/bad/bundle/small-good.json")).unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(&base).unwrap();
    let job = kubelab::check::expr::to_cel(&bundle["snapshot"]["jobs"][0]);
    fuzz("cel", seeds, |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(e) = kubelab::check::expr::Expr::compile(text, &["item"]) {
            let mut vars = kubelab::check::expr::Vars(Vec::new());
            for name in ["object", "item", "facts", "objects", "params"] {
                vars.set(name, job.clone());
            }
            let _ = e.eval(&vars);
        }
    });
}

/// Message templates (`pass`, `fail`, `hint`) as an assertion renders them.
#[test]
fn fuzz_message_templates() {
    let mut files = Vec::new();
    every_file(&root().join("units"), "exercise.yaml", &mut files);
    let line = regex::Regex::new(r#"(?m)^\s*(?:pass|fail|hint): "(.*)"\s*$"#).unwrap();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| {
            line.captures_iter(&t)
                .map(|c| c[1].as_bytes().to_vec())
                .collect::<Vec<_>>()
        })
        .take(400)
        .collect();
    let values: std::collections::BTreeMap<String, String> = [
        ("value", "4"),
        ("expected", "at most 4"),
        ("object", "Job/image-processor"),
        ("path", "spec.parallelism"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    fuzz("template", seeds, |bytes| {
        let _ = kubelab::check::render(&String::from_utf8_lossy(bytes), &values);
    });
}

/// Durations (`--timeout`, `--predict`, exercise limits) and label selectors.
#[test]
fn fuzz_durations_and_selectors() {
    let seeds: Vec<Vec<u8>> = [
        "60s",
        "1m30s",
        "2m",
        "90",
        "0.5",
        "1h",
        "10m",
        "-5s",
        "P1D",
        "a=b",
        "a=b,c!=d",
        "e in (x,y),f,!g",
        "app.kubernetes.io/name=web",
        "tier notin (cache)",
        "x==y",
        "kubelab.dev/class=kl-day-1",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("duration-selector", seeds, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let _ = kubelab::check::parse_duration(&text);
        if let Ok(sel) = kubelab::check::parse_selector(&text) {
            let labels = serde_json::json!({"app": "web", "tier": "front"});
            let _ = sel.matches_json(Some(&labels));
        }
    });
}

/// A shard's gradebook part as `grade merge --job` finds it in a pod's log.
#[test]
fn fuzz_gradebook_part() {
    let book = std::fs::read(root().join("tests/fixtures/bad/bundle/small-good.json")).unwrap();
    let shard = kubelab::grade::Shard::parse("1/4").unwrap();
    let framed = kubelab::grade::parts::encode(&book[..2000], shard);
    let seeds = vec![
        framed.clone().into_bytes(),
        format!("graded 3 learners\n{framed}note: done\n").into_bytes(),
    ];
    fuzz("gradebook-part", seeds, |bytes| {
        if let Ok(part) = kubelab::grade::parts::decode(&String::from_utf8_lossy(bytes)) {
            let _ = kubelab::grade::gradebook::parse(&part.json, "pod");
        }
    });
}
