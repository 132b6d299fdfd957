//! Timelines of every recording: the terminal chart is snapshot-tested, the SVG must be
//! well-formed with one bar per pod.

mod common;

use common::recorded;
use kubelab::facts::job::derive;
use kubelab::timeline::{render_svg, render_terminal};

const RUNS: &[(&str, &str, &str)] = &[
    ("k8s-1.24", "u3-slow-sequential", "slow-sequential"),
    ("k8s-1.24", "u3-parallel-processing", "parallel-processing"),
    ("k8s-1.24", "u3-image-processor", "image-processor"),
    ("k8s-1.24", "u3-dynamic-workload", "dynamic-workload"),
    (
        "k8s-1.24",
        "u3-resource-aware-parallel",
        "resource-aware-parallel",
    ),
    (
        "k8s-1.24",
        "u3-unreliable-workers-fixed",
        "unreliable-workers",
    ),
    ("k8s-1.24", "u3-data-validation", "data-validation"),
    ("k8s-1.24", "race-idle/parallel", "parallel"),
    ("k8s-1.36", "u3-image-processor", "image-processor"),
    (
        "k8s-1.36",
        "u3-resource-aware-parallel-alone",
        "resource-aware-parallel",
    ),
    (
        "k8s-1.36",
        "u3-unreliable-workers-fixed",
        "unreliable-workers",
    ),
    ("k8s-1.36", "race-idle/parallel", "parallel"),
];

#[test]
fn terminal_timelines_of_every_recording() {
    for (version, run, job) in RUNS {
        let facts = derive(&recorded(version, run), job);
        assert!(facts.found, "{version} {run}");
        let chart = render_terminal(job, &facts, 60);
        let name = format!("{job}__{version}__{}", run.replace('/', "-"));
        insta::assert_snapshot!(name.clone(), chart);
        if facts.pods_failed > 0 {
            assert!(chart.contains('✗'), "{name}: failures are marked");
        }
        if let Some(cap) = facts.parallelism
            && facts.max_active >= cap as usize
        {
            assert!(
                chart
                    .lines()
                    .any(|l| l.contains("active") && l.contains('*')),
                "{name}: the cap is visible"
            );
        }
    }
}

#[test]
fn svg_timelines_are_well_formed_with_one_bar_per_pod() {
    for (version, run, job) in RUNS {
        let facts = derive(&recorded(version, run), job);
        let svg = render_svg(job, &facts);
        let doc =
            roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{version} {run}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let bars = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("pod"))
            .count();
        assert_eq!(bars, facts.runs.len(), "{version} {run}");
        let failed = doc
            .descendants()
            .filter(|n| {
                n.attribute("class") == Some("pod") && n.attribute("data-phase") == Some("Failed")
            })
            .count();
        assert_eq!(failed, facts.pods_failed, "{version} {run}");
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("cap"))
                .count(),
            usize::from(facts.parallelism.is_some())
        );
    }
}

#[test]
fn timeline_command_from_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("t.svg");
    let r = common::kubelab(&[
        "timeline",
        "image-processor",
        "--from",
        "units/03-parallel-processing/image-processor/sample.bundle.json",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("image-processor: 20 pods over 2m39s, parallelism cap 4"),
        "{}",
        r.stdout
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(roxmltree::Document::parse(&text).is_ok());
}
