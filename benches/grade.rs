//! Grading at class scale: `cargo bench --bench grade`.
//!
//! 1. 500 handed-in bundles (the recorded 1.36 image-processor run: 20 pods with their logs),
//!    graded in one process: read, digest-checked, judged, gradebook and feedback written.
//! 2. 60 learner namespaces of 20 pods each, served by the test API server (the recording in
//!    every namespace) over local HTTP: API calls and wall time when cluster-wide LIST is
//!    allowed (one LIST per kind) and when it is forbidden (per-namespace fall-back).

// The allocator of the kubelab binary (src/main.rs), so the figures are the binary's.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::apiserver::{ApiServer, Scenario};
use kubelab::course::Course;
use kubelab::grade::{Request, Source, grade, outputs};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn request(source: Source, kubeconfig: Option<std::path::PathBuf>) -> Request {
    Request {
        exercises: vec!["image-processor".into()],
        unit: None,
        source,
        deadline: Some("2026-12-01".into()),
        shard: None,
        expect_cluster: None,
        target: kubelab::cluster::Target {
            kubeconfig,
            request_timeout: Some(Duration::from_secs(30)),
            ..Default::default()
        },
    }
}

fn bundles(course: &Course, runtime: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let ex = course.exercise("image-processor").unwrap();
    let mut snap = common::recorded("k8s-1.36", "u3-image-processor");
    snap.targets = ex.target_keys();
    for i in 0..500 {
        let b = kubelab::bundle::bundle(ex, Some(format!("learner-{i:03}")), snap.clone());
        let path = dir
            .path()
            .join(format!("learner-{i:03}/image-processor.json"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_vec(&b).unwrap()).unwrap();
    }
    let bytes: u64 = walk_size(dir.path());
    let one = dir.path().join("learner-000/image-processor.json");
    let phase = |what: &str, f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..50 {
            f();
        }
        println!("  one bundle, {what}: {:?}", t.elapsed() / 50);
    };
    let read = kubelab::bundle::read_bundle(&one).unwrap();
    phase("read and parse", &|| {
        drop(kubelab::bundle::read_bundle(&one).unwrap())
    });
    phase("digest check", &|| assert!(kubelab::bundle::intact(&read)));
    phase("  of which serialising", &|| {
        drop(serde_json::to_vec(&read.snapshot).unwrap())
    });
    phase("judge", &|| {
        drop(kubelab::live::judge(ex, &read.snapshot, String::new()))
    });
    let out = tempfile::tempdir().unwrap();
    let mut times = Vec::new();
    let mut learners = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let req = request(
            Source::Bundles {
                dir: dir.path().to_path_buf(),
                roster: None,
            },
            None,
        );
        let outcome = runtime
            .block_on(grade(course, &req, &indicatif::ProgressBar::hidden()))
            .unwrap();
        let graded = t.elapsed();
        outputs::write_all(&outcome.book, out.path(), None).unwrap();
        if times.is_empty() {
            println!(
                "  graded in {graded:?}, files written in {:?}",
                t.elapsed() - graded
            );
        }
        learners = outcome.book.learners.len();
        times.push(t.elapsed());
    }
    println!(
        "500 bundles ({} MiB, 20 pods each): {learners} learners graded and written in {:?} (median of 5)",
        bytes / (1024 * 1024),
        median(times)
    );
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

fn class(course: &Course, runtime: &tokio::runtime::Runtime, forbid: bool) {
    let namespaces: HashMap<String, String> = (0..60)
        .map(|i| (format!("learner-{i:02}"), "u3-image-processor".to_owned()))
        .collect();
    let server = ApiServer::start(Scenario {
        version: "k8s-1.36".into(),
        namespaces,
        kube_system_uid: Some("uid".into()),
        forbid_cluster_wide: forbid,
        ..Scenario::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "default", "t");
    let roster = dir.path().join("roster.csv");
    let rows: String = (0..60)
        .map(|i| format!("l{i:02},learner-{i:02}\n"))
        .collect();
    std::fs::write(&roster, format!("learner,namespace\n{rows}")).unwrap();
    let mut times = Vec::new();
    let mut calls = 0;
    for _ in 0..3 {
        let before = server.requests().len();
        let t = Instant::now();
        let req = request(Source::Roster(roster.clone()), Some(kc.clone()));
        let outcome = runtime
            .block_on(grade(course, &req, &indicatif::ProgressBar::hidden()))
            .unwrap();
        times.push(t.elapsed());
        assert_eq!(outcome.book.learners.len(), 60);
        assert!(
            outcome.book.learners.iter().all(|l| l.total == 20),
            "every learner passes"
        );
        calls = server.requests().len() - before;
    }
    println!(
        "60 namespaces x 20 pods, {}: {calls} API calls, {:?} (median of 3)",
        if forbid {
            "per namespace (cluster-wide LIST forbidden)"
        } else {
            "cluster-wide LIST"
        },
        median(times)
    );
}

fn main() {
    let course = Course::load(&common::root()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    bundles(&course, &runtime);
    class(&course, &runtime, false);
    class(&course, &runtime, true);
}
