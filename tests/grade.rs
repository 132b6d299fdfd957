//! `kubelab grade` end to end: the real binary grading a class served by the test API server
//! (recordings from a real 1.36 cluster, one namespace per learner) and a folder of bundles.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::apiserver::{ApiServer, Scenario};
use common::{Run, kubelab_env, recorded, root};

const TOKEN: &str = "instructor-token";
const EXERCISES: [&str; 2] = ["unreliable-workers", "dynamic-workload"];

/// Five learners: a pass, a partial, a fail, a namespace that does not exist and an empty one;
/// two of them with ids that would be path tricks as file names.
fn class(forbid_cluster_wide: bool) -> Scenario {
    let runs = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Scenario {
        version: "k8s-1.36".into(),
        merged: HashMap::from([
            (
                "u-alice".into(),
                runs(&["u3-unreliable-workers-fixed", "u3-dynamic-workload-fixed"]),
            ),
            (
                "u-bob".into(),
                runs(&["u3-unreliable-workers-fixed", "u3-dynamic-workload"]),
            ),
            (
                "u-carol".into(),
                runs(&["u3-unreliable-workers", "u3-dynamic-workload"]),
            ),
            ("u-con".into(), runs(&["u3-slow-sequential"])),
        ]),
        namespace_labels: HashMap::from([
            (
                "u-alice".into(),
                vec![("kubelab.dev/learner".into(), "alice".into())],
            ),
            (
                "u-bob".into(),
                vec![("kubelab.dev/learner".into(), "bob".into())],
            ),
            (
                "u-carol".into(),
                vec![("kubelab.dev/learner".into(), "carol".into())],
            ),
        ]),
        token: Some(TOKEN.into()),
        kube_system_uid: Some("uid-of-k8s-1.36".into()),
        forbid_cluster_wide,
        ..Scenario::default()
    }
}

const ROSTER: &str =
    "learner,namespace\nalice,u-alice\nbob,u-bob\ncarol,u-carol\n../dave,u-dave\nCON,u-con\n";

struct Graded {
    run: Run,
    out: PathBuf,
    requests: Vec<String>,
    _dir: tempfile::TempDir,
}

/// Runs `kubelab grade EXERCISES --out DIR ARGS` against the scenario, with the roster.
fn grade(scenario: Scenario, args: &[&str]) -> Graded {
    grade_listed(scenario, ROSTER, args)
}

/// [`grade`] with a roster of one's own (`ROSTER` in `args` is its path).
fn grade_listed(scenario: Scenario, roster: &str, args: &[&str]) -> Graded {
    grade_these(scenario, &EXERCISES, roster, args)
}

/// `kubelab grade EXERCISES` against the scenario, with this roster.
fn grade_these(scenario: Scenario, exercises: &[&str], roster: &str, args: &[&str]) -> Graded {
    let server = ApiServer::start(scenario);
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "default", TOKEN);
    std::fs::write(dir.path().join("roster.csv"), roster).unwrap();
    let out = dir.path().join("grades");
    let mut all: Vec<String> = vec!["grade".into()];
    all.extend(exercises.iter().map(|e| (*e).to_owned()));
    all.extend(["--kubeconfig".into(), kc.display().to_string()]);
    all.extend(["--out".into(), out.display().to_string()]);
    for a in args {
        all.push(a.replace(
            "ROSTER",
            &dir.path().join("roster.csv").display().to_string(),
        ));
    }
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let run = kubelab_env(&root(), &refs, None, &[]);
    Graded {
        run,
        out,
        requests: server.requests(),
        _dir: dir,
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every output file, by relative path.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ["gradebook.csv", "gradebook.json", "junit.xml"] {
        out.push((f.to_owned(), read(dir, f)));
    }
    let mut feedback: Vec<_> = std::fs::read_dir(dir.join("feedback"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    feedback.sort();
    for f in feedback {
        out.push((format!("feedback/{f}"), read(dir, &format!("feedback/{f}"))));
    }
    out
}

#[test]
fn a_class_on_a_shared_cluster_is_graded_from_one_list_per_kind() {
    let g = grade(class(false), &["--roster", "ROSTER", "-v"]);
    assert_eq!(g.run.code, 0, "{}{}", g.run.stdout, g.run.stderr);
    insta::assert_snapshot!("class_csv", read(&g.out, "gradebook.csv"));
    let shown_out = g.out.display().to_string();
    insta::assert_snapshot!("class_summary", g.run.stdout.replace(&shown_out, "OUT"));
    assert!(
        g.requests.iter().all(|r| r.starts_with("GET ")),
        "{:?}",
        g.requests
    );
    for kind in [
        "/apis/batch/v1/jobs",
        "/api/v1/pods",
        "/api/v1/events",
        "/api/v1/namespaces?",
    ] {
        let n = g.requests.iter().filter(|r| r.contains(kind)).count();
        assert_eq!(n, 1, "one cluster-wide LIST of {kind}: {:?}", g.requests);
    }
    assert!(
        !g.requests
            .iter()
            .any(|r| r.contains("/namespaces/u-") && !r.contains("/log")),
        "no per-namespace LIST: {:?}",
        g.requests
    );
    let calls = g
        .run
        .stderr
        .lines()
        .find(|l| l.ends_with("API calls"))
        .unwrap();
    assert_eq!(
        calls,
        format!("{} API calls", g.requests.len()),
        "{}",
        g.run.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&read(&g.out, "gradebook.json")).unwrap();
    let dave = &json["learners"][0];
    assert_eq!(dave["learner"], "../dave");
    assert_eq!(
        dave["exercises"][0]["reasons"][0],
        "namespace u-dave does not exist"
    );
    let con = json["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["learner"] == "CON")
        .unwrap();
    assert_eq!(con["flags"], serde_json::json!(["missing"]));
    assert_eq!(
        con["exercises"][1]["reasons"][0],
        "no Job named dynamic-workload in namespace u-con"
    );
}

/// The LMS import files carry the roster's LMS ids, one column per exercise with its points,
/// and a learner's own deadline (an extension) replaces the class's for them only.
#[test]
fn gradebooks_an_lms_imports_carry_the_roster_ids_and_extensions() {
    let roster = "learner,namespace,lms_id,deadline\nalice,u-alice,S-100,2030-01-01\nbob,u-bob,=cmd|' /C calc'!A0,\ncarol,u-carol,S-300,\n";
    let late = ["--roster", "ROSTER", "--deadline", "2026-01-01"];
    let canvas = grade_listed(
        class(false),
        roster,
        &[&late[..], &["--lms", "canvas"]].concat(),
    );
    assert_eq!(
        canvas.run.code, 0,
        "{}{}",
        canvas.run.stdout, canvas.run.stderr
    );
    let text = read(&canvas.out, "canvas-import.csv");
    let mut lines = text.lines();
    // Canvas's documented import layout: the five identity columns, then assignments, then
    // a Points Possible row.
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("Student,ID,SIS User ID,SIS Login ID,Section,"),
        "{text}"
    );
    assert!(header.ends_with(",Final Score"), "{text}");
    assert!(
        lines.next().unwrap().starts_with("Points Possible,,,,,"),
        "{text}"
    );
    insta::assert_snapshot!("lms_canvas", text);
    let json: serde_json::Value =
        serde_json::from_str(&read(&canvas.out, "gradebook.json")).unwrap();
    let flags = |who: &str| {
        json["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["learner"] == who)
            .unwrap()["flags"]
            .clone()
    };
    assert_eq!(
        flags("alice"),
        serde_json::Value::Null,
        "alice's extension runs to 2030: no flags"
    );
    assert_eq!(
        flags("carol"),
        serde_json::json!(["late"]),
        "carol keeps the class deadline"
    );
    let moodle = grade_listed(
        class(false),
        roster,
        &["--roster", "ROSTER", "--lms", "moodle"],
    );
    assert_eq!(moodle.run.code, 0, "{}", moodle.run.stderr);
    let text = read(&moodle.out, "moodle-import.csv");
    assert!(
        text.starts_with("Username,ID number,Email address,"),
        "{text}"
    );
    assert!(
        text.lines().next().unwrap().ends_with(",Course total"),
        "{text}"
    );
    assert!(
        moodle.run.stdout.contains("moodle-import.csv"),
        "{}",
        moodle.run.stdout
    );
    insta::assert_snapshot!("lms_moodle", text);
}

#[test]
fn junit_and_feedback_say_the_same_as_the_gradebook() {
    let g = grade(class(false), &["--roster", "ROSTER"]);
    let xml = read(&g.out, "junit.xml");
    insta::assert_snapshot!("class_junit", xml);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read(&g.out, "gradebook.json")).unwrap();
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 5);
    for (suite, learner) in suites.iter().zip(json["learners"].as_array().unwrap()) {
        assert_eq!(suite.attribute("name"), learner["learner"].as_str());
        let failed_assertions: usize = learner["exercises"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| match e["assertions"].as_array() {
                Some(a) => a.iter().filter(|a| a["status"] == "fail").count(),
                None => 1, // an exercise with no work is one failed case
            })
            .sum();
        assert_eq!(
            suite.attribute("failures"),
            Some(failed_assertions.to_string().as_str()),
            "{learner}"
        );
    }
    let names: Vec<String> = files(&g.out)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("feedback/"))
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.contains(&"feedback/alice.md".to_owned()), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.contains("..") && n.matches('/').count() == 1),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("feedback/dave-")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("feedback/_CON-")),
        "{names:?}"
    );
    let bob = read(&g.out, "feedback/bob.md");
    assert!(
        bob.contains("## ") && bob.contains("FAILED") && bob.contains("Next step:"),
        "{bob}"
    );
}

#[test]
fn forbidden_cluster_wide_lists_fall_back_to_namespaces_with_the_same_grades() {
    let wide = grade(class(false), &["--roster", "ROSTER"]);
    let narrow = grade(class(true), &["--roster", "ROSTER", "-v"]);
    assert_eq!(narrow.run.code, 0, "{}", narrow.run.stderr);
    for (w, n) in files(&wide.out).iter().zip(files(&narrow.out)) {
        assert_eq!(*w, n, "cluster-wide and per-namespace differ");
    }
    assert_eq!(files(&wide.out).len(), files(&narrow.out).len());
    assert_eq!(
        narrow
            .run
            .stderr
            .matches("cluster-wide LIST is forbidden")
            .count(),
        1,
        "{}",
        narrow.run.stderr
    );
    assert!(
        narrow.run.stderr.contains("deploy/kubelab-grader.yaml"),
        "{}",
        narrow.run.stderr
    );
    for ns in ["u-alice", "u-bob", "u-carol", "u-con"] {
        let jobs = format!("/apis/batch/v1/namespaces/{ns}/jobs");
        assert_eq!(
            narrow.requests.iter().filter(|r| r.contains(&jobs)).count(),
            1,
            "{:?}",
            narrow.requests
        );
    }
}

#[test]
fn the_union_of_shards_is_the_whole_class_exactly() {
    let whole = grade(class(false), &["--roster", "ROSTER"]);
    let parts: Vec<Graded> = (0..3)
        .map(|i| {
            grade(
                class(false),
                &["--roster", "ROSTER", "--shard", &format!("{i}/3")],
            )
        })
        .collect();
    let sizes: Vec<usize> = parts
        .iter()
        .map(|p| read(&p.out, "gradebook.csv").lines().count() - 1)
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 5, "{sizes:?}");
    let merged = tempfile::tempdir().unwrap();
    let mut args = vec!["grade".to_owned(), "merge".into()];
    args.extend(parts.iter().map(|p| p.out.display().to_string()));
    args.extend(["--out".into(), merged.path().display().to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let m = kubelab_env(&root(), &refs, None, &[]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert_eq!(files(&whole.out), files(merged.path()));
    // The same part twice is refused: a learner would be counted twice.
    let twice = kubelab_env(
        &root(),
        &[
            "grade",
            "merge",
            parts[0].out.to_str().unwrap(),
            parts[0].out.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(twice.code, 2, "{}", twice.stderr);
}

#[test]
fn labelled_namespaces_are_the_class() {
    let g = grade(
        class(false),
        &["--namespace-selector", "kubelab.dev/learner"],
    );
    assert_eq!(g.run.code, 0, "{}", g.run.stderr);
    let csv = read(&g.out, "gradebook.csv");
    let learners: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(learners, ["alice", "bob", "carol"]);
    assert!(
        g.requests
            .iter()
            .any(|r| r.contains("labelSelector=kubelab.dev%2Flearner")),
        "{:?}",
        g.requests
    );
}

#[test]
fn roster_mistakes_name_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("r.csv");
    std::fs::write(
        &roster,
        "learner,namespace\nalice,u-a\nbob,u-a\nalice,u-c\n",
    )
    .unwrap();
    let r = kubelab_env(
        &root(),
        &["grade", "--roster", roster.to_str().unwrap()],
        None,
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("learner `alice` is listed twice")
            && r.stderr.contains("r.csv:2 and")
            && r.stderr.contains("r.csv:4"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("namespace `u-a` is given to two learners"),
        "{}",
        r.stderr
    );
}

/// A bundle of the recorded run, sealed for `learner` as `kubelab collect --learner` does.
fn bundle_of(
    run: &str,
    exercise: &str,
    learner: Option<&str>,
    gathered_at: &str,
) -> kubelab::bundle::Bundle {
    let course = kubelab::course::Course::load(&root()).unwrap();
    let ex = course.exercise(exercise).unwrap();
    let mut snap = recorded("k8s-1.36", run);
    snap.gathered_at = gathered_at.into();
    snap.cluster.kube_system_uid = Some("uid-of-k8s-1.36".into());
    kubelab::bundle::bundle(ex, learner.map(str::to_owned), snap)
}

fn hand_in(dir: &Path, name: &str, b: &kubelab::bundle::Bundle) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(b).unwrap()).unwrap();
}

#[test]
fn handed_in_bundles_are_graded_and_checked_for_integrity() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bundles");
    let (on_time, late) = ("2026-11-23T12:00:00Z", "2026-11-25T09:30:00Z");
    hand_in(
        &b,
        "alice/unreliable-workers.json",
        &bundle_of(
            "u3-unreliable-workers-fixed",
            "unreliable-workers",
            Some("alice"),
            on_time,
        ),
    );
    hand_in(
        &b,
        "alice/dynamic-workload.json",
        &bundle_of(
            "u3-dynamic-workload-fixed",
            "dynamic-workload",
            Some("alice"),
            late,
        ),
    );
    hand_in(
        &b,
        "bob.unreliable-workers.json",
        &bundle_of(
            "u3-unreliable-workers",
            "unreliable-workers",
            Some("bob"),
            on_time,
        ),
    );
    // Edited after collection: the verdict-relevant status rewritten.
    let mut edited = bundle_of(
        "u3-dynamic-workload",
        "dynamic-workload",
        Some("bob"),
        on_time,
    );
    edited.snapshot.jobs[0].status.as_mut().unwrap().succeeded = Some(99);
    hand_in(&b, "bob.dynamic-workload.json", &edited);
    // Made for another version of the exercise, and handed in under another learner's name.
    let mut old = bundle_of(
        "u3-unreliable-workers-fixed",
        "unreliable-workers",
        Some("carol"),
        on_time,
    );
    old.course_version = Some("0123456789abcdef".into());
    old.digest = kubelab::bundle::bundle_digest(&old);
    hand_in(&b, "mallory/unreliable-workers.json", &old);
    // From another cluster than the roster says.
    let mut other = bundle_of(
        "u3-dynamic-workload-fixed",
        "dynamic-workload",
        Some("carol"),
        on_time,
    );
    other.snapshot.cluster.kube_system_uid = Some("uid-of-another-cluster".into());
    other.digest = kubelab::bundle::bundle_digest(&other);
    hand_in(&b, "carol/dynamic-workload.json", &other);
    std::fs::write(b.join("carol/notes.json"), "{not json").unwrap();
    // A bundle of one exercise handed in under another exercise's name.
    hand_in(
        &b,
        "dave/unreliable-workers.json",
        &bundle_of(
            "u3-dynamic-workload-fixed",
            "dynamic-workload",
            Some("dave"),
            on_time,
        ),
    );
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, "learner,cluster\nalice,uid-of-k8s-1.36\nbob,uid-of-k8s-1.36\ncarol,uid-of-k8s-1.36\ndave,\n").unwrap();
    let out = dir.path().join("out");
    let mut args = vec!["grade"];
    args.extend(EXERCISES);
    let (b_s, r_s, o_s) = (
        b.display().to_string(),
        roster.display().to_string(),
        out.display().to_string(),
    );
    args.extend([
        "--bundles",
        &b_s,
        "--roster",
        &r_s,
        "--out",
        &o_s,
        "--deadline",
        "2026-11-24",
    ]);
    let r = kubelab_env(&root(), &args, None, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    insta::assert_snapshot!("bundles_csv", read(&out, "gradebook.csv"));
    assert!(
        r.stderr
            .contains("ignored carol/notes.json: it is not a readable bundle"),
        "{}",
        r.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&read(&out, "gradebook.json")).unwrap();
    let reasons = |learner: usize, ex: usize| {
        json["learners"][learner]["exercises"][ex]["reasons"].to_string()
    };
    for (learner, exercise, says) in [
        (0, 1, "after the deadline"),
        (1, 1, "edited after it was collected"),
        (2, 0, "another version of this exercise"),
        (2, 0, "named for `mallory`"),
        (2, 1, "uid-of-another-cluster"),
        (
            3,
            0,
            "named for `unreliable-workers` but holds a bundle of `dynamic-workload`",
        ),
        (3, 1, "no bundle was handed in"),
    ] {
        let r = reasons(learner, exercise);
        assert!(r.contains(says), "{says}: {r}");
    }
    // Re-running gives the same bytes.
    let first = files(&out);
    let again = kubelab_env(&root(), &args, None, &[]);
    assert_eq!(again.code, 0);
    assert_eq!(first, files(&out));
    // `--out -` (a shard's pod log): the same gradebook.json, framed on stdout, the summary
    // on stderr.
    let to_log: Vec<&str> = args
        .iter()
        .map(|a| if *a == o_s { "-" } else { a })
        .collect();
    let logged = kubelab_env(&root(), &to_log, None, &[]);
    assert_eq!(logged.code, 0, "{}", logged.stderr);
    let part = kubelab::grade::parts::decode(&logged.stdout).unwrap();
    assert_eq!(part.json, read(&out, "gradebook.json").into_bytes());
    assert!(logged.stderr.contains("alice"), "{}", logged.stderr);
}

/// deploy/grade-job.yaml runs real kubelab arguments: each index's args parse as a grade run of
/// its own shard into its log, the shard count matches the Job's completions, and the service account is
/// the one deploy/kubelab-grader.yaml binds.
#[test]
fn the_grading_job_runs_one_shard_per_index() {
    use clap::Parser;
    let text = std::fs::read_to_string(root().join("deploy/grade-job.yaml")).unwrap();
    let job_doc = text
        .split("\n---\n")
        .find(|d| d.contains("kind: Job\n"))
        .unwrap();
    let job: k8s_openapi::api::batch::v1::Job = serde_saphyr::from_str(job_doc).unwrap();
    let spec = job.spec.unwrap();
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    let n = spec.completions.unwrap();
    let pod = spec.template.spec.unwrap();
    let args = pod.containers[0].args.clone().unwrap();
    let mut shards = Vec::new();
    for index in 0..n {
        let argv: Vec<String> = std::iter::once("kubelab".to_owned())
            .chain(
                args.iter()
                    .map(|a| a.replace("$(JOB_COMPLETION_INDEX)", &index.to_string())),
            )
            .collect();
        let cli =
            kubelab::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let kubelab::cli::Command::Grade(g) = cli.command else {
            panic!("not a grade run: {argv:?}")
        };
        let shard = g.shard.expect("each index grades a shard");
        assert_eq!(
            shard.count as i32, n,
            "the shard count is the Job's completions"
        );
        assert_eq!(
            g.out,
            std::path::Path::new("-"),
            "each shard writes its part to its log"
        );
        shards.push(shard.index);
    }
    assert_eq!(shards, (0..n as u32).collect::<Vec<_>>());
    let grader = std::fs::read_to_string(root().join("deploy/kubelab-grader.yaml")).unwrap();
    let sa = pod.service_account_name.unwrap();
    assert!(
        grader.contains(&format!(
            "name: {sa}\n    namespace: {}",
            job.metadata.namespace.unwrap()
        )),
        "the ClusterRoleBinding binds {sa}"
    );
}

/// A class spread over two clusters: the roster's `context` column picks each learner's
/// cluster from one kubeconfig, and each cluster is read once, cluster-wide.
#[test]
fn a_roster_context_column_spreads_the_class_over_clusters() {
    let half = |ns: &str, runs: &[&str]| Scenario {
        merged: HashMap::from([(
            ns.to_owned(),
            runs.iter().map(|r| (*r).to_owned()).collect(),
        )]),
        namespace_labels: HashMap::new(),
        ..class(false)
    };
    let east = ApiServer::start(half(
        "u-alice",
        &["u3-unreliable-workers-fixed", "u3-dynamic-workload-fixed"],
    ));
    let west = ApiServer::start(half(
        "u-bob",
        &["u3-unreliable-workers", "u3-dynamic-workload"],
    ));
    let dir = tempfile::tempdir().unwrap();
    let cluster = |name: &str, s: &ApiServer| {
        format!(
            "- name: {name}\n  cluster:\n    server: http://{}\n",
            s.addr
        )
    };
    let context =
        |name: &str| format!("- name: {name}\n  context:\n    cluster: {name}\n    user: u\n");
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{}{}contexts:\n{}{}current-context: east\nusers:\n- name: u\n  user:\n    token: {TOKEN}\n",
            cluster("east", &east),
            cluster("west", &west),
            context("east"),
            context("west")
        ),
    )
    .unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "learner,namespace,context\nalice,u-alice,east\nbob,u-bob,west\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = kubelab_env(
        &root(),
        &[
            "grade",
            "unreliable-workers",
            "dynamic-workload",
            "--roster",
            roster.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let csv = read(&out, "gradebook.csv");
    assert!(csv.contains("\nalice,15,15,30,30,100,\n"), "{csv}");
    assert!(csv.contains("\nbob,7,2,9,30,30,\n"), "{csv}");
    for (server, theirs, other) in [(&east, "u-alice", "u-bob"), (&west, "u-bob", "u-alice")] {
        let seen = server.requests();
        assert_eq!(
            seen.iter()
                .filter(|r| r.contains("/apis/batch/v1/jobs"))
                .count(),
            1,
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .any(|r| r.contains(&format!("/namespaces/{theirs}/pods/"))),
            "{seen:?}"
        );
        assert!(!seen.iter().any(|r| r.contains(other)), "{seen:?}");
    }
}

/// A class on Unit 4's kinds: one cluster-wide LIST per kind the exercises need, but Secrets
/// only in each learner's namespace (a cluster-wide LIST of Secrets would hand the grader every
/// token in the cluster); the Secret's value appears in no file of the gradebook. Read
/// cluster-wide or namespace by namespace, every file says the same.
#[test]
fn a_class_on_every_kind_lists_each_kind_once_and_secrets_per_namespace() {
    let wide = grade_unit_4(false);
    let requests = &wide.requests;
    assert!(
        requests.iter().all(|r| r.starts_with("GET ")),
        "{requests:#?}"
    );
    for kind in [
        "/api/v1/pods?",
        "/api/v1/events?",
        "/api/v1/configmaps?",
        "/api/v1/services?",
        "/apis/apps/v1/deployments?",
        "/apis/apps/v1/replicasets?",
        "/apis/batch/v1/cronjobs?",
        "/apis/batch/v1/jobs?",
        "/apis/discovery.k8s.io/v1/endpointslices?",
    ] {
        let n = requests.iter().filter(|r| r.contains(kind)).count();
        assert_eq!(n, 1, "one cluster-wide LIST of {kind}: {requests:#?}");
    }
    assert!(
        !requests.iter().any(|r| r.contains("GET /api/v1/secrets")),
        "never a cluster-wide LIST of Secrets: {requests:#?}"
    );
    for ns in ["u-alice", "u-bob"] {
        let n = requests
            .iter()
            .filter(|r| r.contains(&format!("/namespaces/{ns}/secrets")))
            .count();
        assert_eq!(n, 1, "the Secrets of {ns}, once: {requests:#?}");
    }
    let out = &wide.out;
    let json: serde_json::Value = serde_json::from_str(&read(out, "gradebook.json")).unwrap();
    let points = |who: usize| json["learners"][who]["total"].as_f64().unwrap();
    assert_eq!(
        points(0),
        55.0,
        "alice's references earn every point: {json:#}"
    );
    assert!(points(1) < 30.0, "bob's wrong answers do not: {json:#}");
    for (name, text) in files(out) {
        assert!(
            !text.contains("kubelab-s3cr3t-2026") && !text.contains("a3ViZWxhYi1zM2NyM3QtMjAyNg=="),
            "{name} shows the Secret's value"
        );
    }
    // Dan's namespace holds none of the targets: each exercise says which it lacks.
    let dan = read(out, "feedback/dan.md");
    for missing in [
        "no ConfigMap named app-config or Secret named app-secret or Pod named configured",
        "no Deployment named web or Service named web",
        "no CronJob named report",
    ] {
        assert!(dan.contains(missing), "{missing}: {dan}");
    }
    let narrow = grade_unit_4(true);
    assert_eq!(narrow.run.code, 0, "{}", narrow.run.stderr);
    // The CronJob's facts are told against the clock ("next at ... (UTC, in 45s)", then "in
    // 1m"), which moves between the two runs: numbers and durations aside, every file is the
    // same.
    let numberless = |dir: &Path| {
        let digits = regex::Regex::new(r"[0-9]+(?:ms|[smhd])?").unwrap();
        files(dir)
            .into_iter()
            .map(|(name, text)| (name, digits.replace_all(&text, "#").into_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(numberless(out), numberless(&narrow.out));
}

/// Grades Unit 4's configuration, service-endpoints and cronjob exercises for alice (the
/// references), bob (wrong answers) and dan (a namespace with none of their objects).
fn grade_unit_4(forbid_cluster_wide: bool) -> Graded {
    let runs = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let scenario = Scenario {
        version: "k8s-1.36".into(),
        merged: HashMap::from([
            (
                "u-alice".into(),
                runs(&["u4-configuration", "u4-service-endpoints", "u4-cronjob"]),
            ),
            (
                "u-bob".into(),
                runs(&[
                    "u4-configuration-wrong",
                    "u4-service-endpoints-wrong",
                    "u4-cronjob-wrong",
                ]),
            ),
            ("u-dan".into(), runs(&["u3-slow-sequential"])),
        ]),
        token: Some(TOKEN.into()),
        kube_system_uid: Some("uid-of-k8s-1.36".into()),
        forbid_cluster_wide,
        ..Scenario::default()
    };
    grade_these(
        scenario,
        &["configuration", "service-endpoints", "cronjob"],
        "learner,namespace\nalice,u-alice\nbob,u-bob\ndan,u-dan\n",
        &["--roster", "ROSTER"],
    )
}
