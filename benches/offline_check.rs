//! Offline check speed: `cargo bench --bench offline_check`.
//!
//! 1. One manifest as a whole process (what a learner waits for): the release binary run N times.
//! 2. 1,000 manifests in one process (an instructor grading a class offline): the library API
//!    with the course loaded once.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kubelab::course::Course;
use kubelab::yaml::Source;

const REFERENCE: &str = "units/03-parallel-processing/image-processor/reference.yaml";

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    (median, p90, mean)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = env!("CARGO_BIN_EXE_kubelab");
    let state = tempfile_path();

    // Whole process, cold start every time.
    let runs = 50;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(exe)
            .current_dir(root)
            .env("KUBELAB_STATE", &state)
            .args([
                "--color",
                "never",
                "check",
                "image-processor",
                "--file",
                REFERENCE,
            ])
            .output()
            .expect("kubelab runs");
        samples.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (median, p90, mean) = stats(samples);
    println!(
        "one manifest, whole process ({runs} runs): median {}, p90 {}, mean {}",
        ms(median),
        ms(p90),
        ms(mean)
    );

    // In process: course loaded once, 1,000 manifests checked.
    let start = Instant::now();
    let course = Course::load(root).expect("course loads");
    let load = start.elapsed();
    let exercise = course.exercise("image-processor").expect("exercise");
    let text = std::fs::read_to_string(root.join(REFERENCE)).expect("reference");
    let n = 1000;
    // Several rounds: one round is a fraction of a second, and this machine's noise is larger
    // than the differences worth seeing. The median round is the figure.
    let rounds = 9;
    let mut totals = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let mut passed = 0;
        for i in 0..n {
            // Distinct sources, as a class's files would be.
            let source = Source::new(format!("learner-{i}.yaml"), text.clone());
            let report = kubelab::offline::check(exercise, &source).expect("checks");
            passed += usize::from(report.passed);
        }
        totals.push(start.elapsed());
        assert_eq!(passed, n);
    }
    let fastest = *totals.iter().min().expect("rounds");
    let (median, p90, _) = stats(totals);
    println!(
        "1000 manifests in one process ({rounds} rounds): median {} ({} per manifest), fastest {}, p90 {} (course load {})",
        ms(median),
        ms(median / n as u32),
        ms(fastest),
        ms(p90),
        ms(load)
    );
    let _ = std::fs::remove_file(&state);
}

fn tempfile_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kubelab-bench-state-{}.json", std::process::id()))
}
