//! Against a real cluster, opt-in: set KUBELAB_E2E_KUBECONFIG to the kubeconfig of a disposable
//! cluster (minikube, kind, k3s) and optionally KUBELAB_E2E_NAMESPACE (default `default`).
//! Without it the test says so and passes: there is no cluster on CI machines.

mod common;

/// The cluster to test on: `KUBELAB_E2E_KUBECONFIG`, when set and not empty. While a test
/// holds the node (a share of it, see [`NODE`]).
fn e2e_kubeconfig() -> Option<std::ffi::OsString> {
    std::env::var_os("KUBELAB_E2E_KUBECONFIG").filter(|v| !v.is_empty())
}

/// The e2e kubeconfig's path, or `None` after saying in one line that the test skips and what
/// it would have done.
fn real_cluster(to_do: &str) -> Option<String> {
    let Some(kubeconfig) = e2e_kubeconfig() else {
        eprintln!("skipped: set KUBELAB_E2E_KUBECONFIG to {to_do}");
        return None;
    };
    Some(kubeconfig.to_string_lossy().into_owned())
}

/// The one node is shared by the tests running at once; the runs that measure timing (the
/// race's speed-up) or need most of its CPU take it whole.
static NODE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn share_node() -> std::sync::RwLockReadGuard<'static, ()> {
    NODE.read().unwrap_or_else(|e| e.into_inner())
}

fn whole_node() -> std::sync::RwLockWriteGuard<'static, ()> {
    NODE.write().unwrap_or_else(|e| e.into_inner())
}

/// The kit's one `lab-reader` user: the grading test binds it cluster-wide (logs included),
/// the failures test expects it to lack `pods/log`; they take turns.
static LAB_READER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lab_reader() -> std::sync::MutexGuard<'static, ()> {
    LAB_READER.lock().unwrap_or_else(|e| e.into_inner())
}

use common::{Test, kubelab_env, root};

#[path = "e2e/class_day.rs"]
mod class_day;
#[path = "e2e/faults.rs"]
mod faults;
#[path = "e2e/grade_job.rs"]
mod grade_job;

#[test]
fn run_check_and_clean_on_a_real_cluster() {
    let Some(kc) = real_cluster("run against a real cluster") else {
        return;
    };
    let _node = share_node();
    let ns = std::env::var("KUBELAB_E2E_NAMESPACE").unwrap_or_else(|_| "default".into());
    let with = |args: &[&str]| Test::new(args).real(&kc, &ns).run();
    let run = with(&[
        "run",
        "slow-sequential",
        "--reference",
        "--predict",
        "60s",
        "--timeout",
        "5m",
        "--replace",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Your predictions"));
    let audit = AuditWindow::open(&kc);
    let check = with(&["check", "slow-sequential"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.json");
    let collect = with(&[
        "collect",
        "slow-sequential",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(collect.code, 0, "{}", collect.stderr);
    let timeline = with(&["timeline", "slow-sequential"]);
    assert_eq!(timeline.code, 0, "{}", timeline.stderr);
    // Watch mode, quit at once: it judges the cluster (and watches its Jobs) before the key.
    let reference = root().join("units/03-parallel-processing/slow-sequential/reference.yaml");
    let watch = assert_cmd::Command::cargo_bin("kubelab")
        .unwrap()
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("KUBELAB_STATE", dir.path().join("state.json"))
        .args(["watch", "slow-sequential", "--file"])
        .arg(&reference)
        .args(["--kubeconfig", &kc, "-n", &ns])
        .write_stdin("q\n")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&watch.stdout);
    assert!(
        watch.status.success(),
        "{screen}{}",
        String::from_utf8_lossy(&watch.stderr)
    );
    assert!(screen.contains("slow-sequential"), "{screen}");
    if let Some(seen) = audit.as_ref().map(|a| a.requests_in(&ns)) {
        assert!(
            seen.len() >= 6,
            "check, collect, timeline and watch read: {seen:?}"
        );
        for (verb, what) in &seen {
            assert!(
                ["get", "list", "watch"].contains(&verb.as_str()),
                "a read-only command wrote: {verb} {what}"
            );
        }
    }
    let audit = AuditWindow::open(&kc);
    let clean = with(&["clean", "slow-sequential"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(clean.stdout.contains("deleted"), "{}", clean.stdout);
    if let Some(seen) = audit.as_ref().map(|a| a.requests_in(&ns)) {
        let deletes: Vec<&String> = seen
            .iter()
            .filter(|(v, _)| v != "get" && v != "list" && v != "watch")
            .map(|(v, w)| {
                assert_eq!(v, "delete", "clean only deletes: {w}");
                w
            })
            .collect();
        assert_eq!(
            deletes,
            ["jobs/slow-sequential"],
            "clean deleted only the Job kubelab labelled"
        );
    }
}

/// The API server's audit log from now on (shared/k8s writes one beside its kubeconfig): what
/// was asked of the server, not what kubelab says it asked.
struct AuditWindow {
    path: std::path::PathBuf,
    start: u64,
}

impl AuditWindow {
    fn open(kubeconfig: &str) -> Option<AuditWindow> {
        let path = std::path::Path::new(kubeconfig)
            .parent()?
            .join("logs/audit.log");
        let start = std::fs::metadata(&path).ok()?.len();
        Some(AuditWindow { path, start })
    }

    /// (verb, resource/name) of every user request about objects in `namespace` since
    /// opening.
    fn requests_in(&self, namespace: &str) -> Vec<(String, String)> {
        std::thread::sleep(std::time::Duration::from_secs(2)); // the audit backend batches
        let bytes = std::fs::read(&self.path).unwrap();
        String::from_utf8_lossy(&bytes[self.start as usize..])
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| {
                e["objectRef"]["namespace"] == namespace && e["stage"] == "ResponseComplete"
            })
            // The control plane's own requests (the garbage collector removing the Job's pods).
            .filter(|e| {
                !e["user"]["username"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("system:")
            })
            .map(|e| {
                let r = &e["objectRef"];
                let name = r["name"].as_str().unwrap_or("");
                let sub = r["subresource"]
                    .as_str()
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default();
                (
                    e["verb"].as_str().unwrap_or("").to_owned(),
                    format!("{}/{name}{sub}", r["resource"].as_str().unwrap_or("")),
                )
            })
            .collect()
    }
}

/// `kubelab class up` for a roster, as the instructor of `kc`; its output.
fn class_up(
    kc: &str,
    roster: &std::path::Path,
    class: &str,
    out: &std::path::Path,
    more: &[&str],
) -> common::Outcome {
    let mut args = vec![
        "class",
        "up",
        "--roster",
        roster.to_str().unwrap(),
        "--class",
        class,
        "--out",
        out.to_str().unwrap(),
        "--kubeconfig",
        kc,
    ];
    args.extend(more);
    let up = Test::new(&args).run();
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    up
}

impl AuditWindow {
    /// Every write by a user (not the control plane) since opening to these namespaces or to
    /// anything in them.
    fn writes_about(&self, namespaces: &[String]) -> Vec<String> {
        std::thread::sleep(std::time::Duration::from_secs(2)); // the audit backend batches
        let bytes = std::fs::read(&self.path).unwrap();
        String::from_utf8_lossy(&bytes[self.start as usize..])
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["stage"] == "ResponseComplete")
            .filter(|e| !["get", "list", "watch"].contains(&e["verb"].as_str().unwrap_or("")))
            .filter(|e| {
                !e["user"]["username"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("system:")
            })
            .filter(|e| {
                let r = &e["objectRef"];
                let ns = r["namespace"].as_str().unwrap_or("");
                let named = r["resource"] == "namespaces"
                    && r["name"]
                        .as_str()
                        .is_some_and(|n| namespaces.iter().any(|x| x == n));
                named || namespaces.iter().any(|x| x == ns)
            })
            .map(|e| format!("{} {}", e["verb"], e["requestURI"]))
            .collect()
    }
}

impl AuditWindow {
    /// The verb of every request `user` made since opening.
    fn verbs_of(&self, user: &str) -> Vec<String> {
        std::thread::sleep(std::time::Duration::from_secs(2)); // the audit backend batches
        let bytes = std::fs::read(&self.path).unwrap();
        String::from_utf8_lossy(&bytes[self.start as usize..])
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["stage"] == "ResponseComplete" && e["user"]["username"] == user)
            .map(|e| e["verb"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

/// Namespaces and cluster-wide RBAC the grading test made, removed however the test ends.
struct Class {
    kubeconfig: String,
    namespaces: Vec<String>,
    /// A ClusterRole and a ClusterRoleBinding of this name that this test made.
    binding: Option<String>,
    runtime: tokio::runtime::Runtime,
}

impl Class {
    /// Cleans up these namespaces (and nothing cluster-wide) however the test ends.
    fn namespaces(kubeconfig: &str, namespaces: Vec<String>) -> Class {
        Class {
            kubeconfig: kubeconfig.to_owned(),
            namespaces,
            binding: None,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn client(&self) -> kube::Client {
        self.try_client().expect("a client for the e2e kubeconfig")
    }

    fn try_client(&self) -> Option<kube::Client> {
        self.runtime.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).ok()?;
            let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .ok()?;
            kube::Client::try_from(config).ok()
        })
    }

    /// Server-side applies a cluster-scoped object.
    fn apply<K>(&self, object: K)
    where
        K: kube::Resource<DynamicType = ()>
            + serde::Serialize
            + serde::de::DeserializeOwned
            + Clone
            + std::fmt::Debug,
    {
        let client = self.client();
        self.runtime.block_on(async {
            let api: kube::Api<K> = kube::Api::all(client);
            let name = object.meta().name.clone().unwrap();
            let pp = kube::api::PatchParams::apply("kubelab-e2e").force();
            api.patch(&name, &pp, &kube::api::Patch::Apply(&object))
                .await
                .unwrap_or_else(|e| panic!("applying {name}: {e}"));
        });
    }
}

impl Drop for Class {
    fn drop(&mut self) {
        // Never panic here: a panic while a failed test unwinds aborts every test.
        let Some(client) = self.try_client() else {
            return;
        };
        self.runtime.block_on(async {
            let ns: kube::Api<k8s_openapi::api::core::v1::Namespace> =
                kube::Api::all(client.clone());
            for n in &self.namespaces {
                let _ = ns.delete(n, &Default::default()).await;
            }
            let crb: kube::Api<k8s_openapi::api::rbac::v1::ClusterRoleBinding> =
                kube::Api::all(client.clone());
            let cr: kube::Api<k8s_openapi::api::rbac::v1::ClusterRole> = kube::Api::all(client);
            if let Some(b) = &self.binding {
                let _ = crb.delete(b, &Default::default()).await;
                let _ = cr.delete(b, &Default::default()).await;
            }
        });
    }
}

fn yaml_docs<T: serde::de::DeserializeOwned>(path: &std::path::Path, kind: &str) -> T {
    let text = std::fs::read_to_string(path).unwrap();
    for doc in text.split("\n---\n") {
        if doc.contains(&format!("kind: {kind}\n")) {
            return serde_saphyr::from_str(doc).unwrap();
        }
    }
    panic!("no {kind} in {}", path.display());
}

/// The instructor's side on a real cluster: three learner namespaces (a reference run, a
/// wrong answer, nothing), graded through the `lab-reader` user bound to the ClusterRole of
/// deploy/kubelab-grader.yaml; the audit log (shared/k8s writes one) shows only reads.
#[test]
fn grade_a_class_on_a_real_cluster() {
    use k8s_openapi::api::core::v1::Namespace;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let Some(kc) = real_cluster("grade a class on a real cluster") else {
        return;
    };
    let _node = share_node();
    let _reader = lab_reader();
    let kit = std::path::Path::new(&kc).parent().unwrap().to_path_buf();
    let reader = kit.join("reader.kubeconfig");
    if !reader.exists() {
        eprintln!(
            "skipped: grading needs a second, read-only user: {} (shared/k8s makes it)",
            reader.display()
        );
        return;
    }
    let tag = std::process::id();
    let ids = ["ana", "ben", "cleo"];
    let namespaces: Vec<String> = ids.iter().map(|i| format!("kl-grade-{tag}-{i}")).collect();
    let class = Class {
        kubeconfig: kc.clone(),
        namespaces: namespaces.clone(),
        binding: Some("kubelab-e2e-grader".into()),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    };
    for (id, ns) in ids.iter().zip(&namespaces) {
        let mut n = Namespace::default();
        n.metadata.name = Some(ns.clone());
        n.metadata.labels =
            Some([("kubelab.dev/learner".to_owned(), format!("{id}-{tag}"))].into());
        class.apply(n);
    }
    let grader = root().join("deploy/kubelab-grader.yaml");
    // deploy/'s role and binding under this test's own name, so that removing them never
    // takes away a grader role the cluster had before.
    let mut role: ClusterRole = yaml_docs(&grader, "ClusterRole");
    role.metadata.name = Some("kubelab-e2e-grader".into());
    class.apply(role);
    let mut binding: ClusterRoleBinding = yaml_docs(&grader, "ClusterRoleBinding");
    binding.metadata.name = Some("kubelab-e2e-grader".into());
    binding.role_ref.name = "kubelab-e2e-grader".into();
    binding.subjects = Some(vec![k8s_openapi::api::rbac::v1::Subject {
        kind: "User".into(),
        name: "lab-reader".into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        namespace: None,
    }]);
    class.apply(binding);

    // ana runs the reference, ben a Job that is done in seconds (not the minute the exercise
    // is about), cleo nothing. The two runs go at once.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("quick.yaml");
    let reference = std::fs::read_to_string(
        root().join("units/03-parallel-processing/slow-sequential/reference.yaml"),
    )
    .unwrap();
    std::fs::write(&wrong, reference.replace("sleep 6", "sleep 1")).unwrap();
    let run = |ns: &str, file: Option<&std::path::Path>| {
        let mut args = vec![
            "run",
            "slow-sequential",
            "--predict",
            "60s",
            "--timeout",
            "5m",
            "--kubeconfig",
            &kc,
            "-n",
            ns,
        ];
        match file {
            Some(f) => args.extend(["--file", f.to_str().unwrap()]),
            None => args.push("--reference"),
        }
        kubelab_env(&root(), &args, None, &[])
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(&namespaces[0], None));
        let b = s.spawn(|| run(&namespaces[1], Some(&wrong)));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    assert_eq!(b.code, 1, "{}{}", b.stdout, b.stderr);

    let audit = kit.join("logs/audit.log");
    let audit_start = std::fs::metadata(&audit).map(|m| m.len()).unwrap_or(0);
    let out = dir.path().join("grades");
    let graded = kubelab_env(
        &root(),
        &[
            "grade",
            "slow-sequential",
            "race-cleanup",
            "--namespace-selector",
            "kubelab.dev/learner",
            "--kubeconfig",
            reader.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-v",
        ],
        None,
        &[],
    );
    assert_eq!(graded.code, 0, "{}{}", graded.stdout, graded.stderr);
    let csv = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let row = |id: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{id}-{tag},")))
            .unwrap_or_else(|| panic!("{id} in {csv}"))
            .to_owned()
    };
    // Nobody ran the race: their empty namespaces are "clean", but not attempted (0 of 5).
    assert!(row("ana").ends_with(",10,0,10,15,66.7,"), "{csv}");
    let ben: Vec<String> = row("ben").split(',').map(str::to_owned).collect();
    assert!(
        ben[1].parse::<u32>().unwrap() < 10 && ben[1] != "0",
        "{csv}"
    );
    assert_eq!(ben[2], "0", "{csv}");
    assert!(row("cleo").ends_with(",0,0,0,15,0,missing"), "{csv}");
    let feedback = std::fs::read_to_string(out.join(format!("feedback/ana-{tag}.md"))).unwrap();
    assert!(
        feedback.contains("- TO DO: not attempted: no Job of this exercise was ever seen here"),
        "{feedback}"
    );
    assert!(
        !graded.stderr.contains("forbidden"),
        "the ClusterRole allows cluster-wide LISTs: {}",
        graded.stderr
    );

    if !audit.exists() {
        eprintln!(
            "note: no audit log at {}: read-only not proven from the server's side",
            audit.display()
        );
        return;
    }
    std::thread::sleep(std::time::Duration::from_secs(2)); // the audit backend writes in batches
    let text = std::fs::read(&audit).unwrap();
    let new = String::from_utf8_lossy(&text[audit_start as usize..]);
    let mut reads = 0;
    for line in new.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if e["user"]["username"] != "lab-reader" {
            continue;
        }
        let verb = e["verb"].as_str().unwrap_or("");
        assert!(
            ["get", "list", "watch"].contains(&verb),
            "the grader wrote: {line}"
        );
        reads += 1;
    }
    assert!(
        reads >= 4,
        "the audit log shows the grader's reads ({reads})"
    );
}

/// TLS failures in plain words, with certificates made here: a client certificate of X.509
/// version 1 (kubectl accepts it; rustls does not) and a kubeconfig trusting another CA.
#[test]
fn tls_failures_are_explained_on_a_real_cluster() {
    let Some(kc) = real_cluster("test TLS failures on a real cluster") else {
        return;
    };
    let _node = share_node();
    let kit = std::path::Path::new(&kc).parent().unwrap().to_path_buf();
    let (ca, ca_key, other_ca) = (
        kit.join("pki/ca.crt"),
        kit.join("pki/ca.key"),
        kit.join("pki/untrusted-ca.crt"),
    );
    if !(ca_key.exists() && other_ca.exists() && common::certs::available()) {
        eprintln!(
            "skipped: needs openssl and the cluster's CA key ({}), as shared/k8s has",
            ca_key.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let openssl = |args: &[&str]| common::certs::openssl(dir.path(), args);
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &d("v1.key"),
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        &d("v1.key"),
        "-subj",
        "/CN=v1-user",
        "-out",
        &d("v1.csr"),
    ]);
    // No extensions: OpenSSL writes a version 1 certificate.
    openssl(&[
        "x509",
        "-req",
        "-in",
        &d("v1.csr"),
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
        "-CAserial",
        &d("ca.srl"),
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        &d("v1.crt"),
    ]);
    let b64 = |path: &str| common::certs::pem_data(std::path::Path::new(path));
    let admin = std::fs::read_to_string(&kc).unwrap();
    let replace = |text: &str, key: &str, value: &str| -> String {
        text.lines()
            .map(|l| match l.split_once(&format!("{key}: ")) {
                Some((indent, _)) => format!("{indent}{key}: {value}"),
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let v1 = replace(
        &replace(&admin, "client-certificate-data", &b64(&d("v1.crt"))),
        "client-key-data",
        &b64(&d("v1.key")),
    );
    let untrusting = replace(
        &admin,
        "certificate-authority-data",
        &b64(other_ca.to_str().unwrap()),
    );
    for (name, text, says) in [
        ("v1", v1, "X.509 version 1"),
        (
            "other-ca",
            untrusting,
            "not signed by the certificate authority in your kubeconfig",
        ),
    ] {
        let kc = d(&format!("{name}.kubeconfig"));
        std::fs::write(&kc, text).unwrap();
        let r = Test::check("slow-sequential").real(&kc, "default").run();
        assert_eq!(r.code, 3, "{name}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("help:"),
            "{name} says what to do: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("OtherError"),
            "{name}: no library jargon: {}",
            r.stderr
        );
    }
}

/// A reference run passes on its own: parallel-processing is compared with slow-sequential,
/// so in a fresh namespace `kubelab run parallel-processing --reference` runs slow-sequential's
/// reference first, then its own, and is judged PASSED with full points.
#[test]
fn a_reference_run_brings_what_it_compares_with() {
    let Some(kc) = real_cluster("run a reference on a real cluster") else {
        return;
    };
    let _node = share_node();
    let (ns, _guard) = fresh_namespace(&kc, "prereq");
    let r = Test::new(&[
        "run",
        "parallel-processing",
        "--reference",
        "--predict",
        "60s",
        "--predict",
        "at-once=3",
        "--timeout",
        "6m",
    ])
    .real(&kc, &ns)
    .run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("compares with Job slow-sequential, which is not in namespace"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("PASSED") && r.stdout.contains("10/10 points"),
        "{}",
        r.stdout
    );
}

/// One piece of the course's live proof, run in a namespace of its own.
enum Proof {
    /// `kubelab run EXERCISE --reference` passes with full points.
    Reference(String),
    /// `kubectl apply` of a known-wrong answer, then `kubelab check --wait`: FAILED, with the
    /// assertions its `# expect: fail ...` header names failing.
    Wrong(String, std::path::PathBuf),
    /// The seed's `kubectl create job` then `kubectl patch` of completions: refused, as on
    /// every real cluster, and judged FAILED on completions.
    SeedPatch,
}

fn kubectl(kc: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .expect("kubectl runs")
}

/// The allocatable CPU of the cluster's first node, in millicores.
fn node_cpu_millis(kc: &str) -> Option<u64> {
    let out = kubectl(
        kc,
        &[
            "get",
            "nodes",
            "-o",
            "jsonpath={.items[0].status.allocatable.cpu}",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match text.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => text.parse::<u64>().ok().map(|c| c * 1000),
    }
}

/// Which of `ids` did not fail in the JSON report of `kubelab check --output json`.
fn not_failed(json: &str, ids: &[&str]) -> Vec<String> {
    let report: serde_json::Value = match serde_json::from_str(json) {
        Ok(r) => r,
        Err(e) => return vec![format!("no JSON report ({e}): {json}")],
    };
    let failed: Vec<&str> = report["assertions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["status"] == "fail")
        .filter_map(|a| a["id"].as_str())
        .collect();
    ids.iter()
        .filter(|id| !failed.contains(id))
        .map(|id| format!("expected assertion `{id}` to fail (failed: {failed:?})"))
        .collect()
}

/// Runs one proof as the learner of `kc`; `node_cpu` is the node's allocatable CPU (read by
/// the instructor: a learner may not read nodes). An empty list means it held.
fn prove(
    kc: &str,
    ns: &str,
    node_cpu: Option<u64>,
    course: &kubelab::course::Course,
    proof: &Proof,
) -> Vec<String> {
    let with = |args: &[&str]| Test::new(args).real(kc, ns).run();
    match proof {
        Proof::Reference(ex) => {
            let points = course.exercise(ex).expect("exercise").file.points;
            let r = with(&["run", ex, "--reference", "--timeout", "6m"]);
            if r.code != 0 || !r.stdout.contains(&format!("{points}/{points} points")) {
                return vec![format!(
                    "reference: exit {}\n{}{}",
                    r.code, r.stdout, r.stderr
                )];
            }
            if ex == "resource-aware-parallel" && node_cpu.is_some_and(|m| m < 2000) {
                // Four workers of 500m cannot all fit on this node: seen, and explained.
                let mut problems = Vec::new();
                for text in [
                    "Insufficient cpu",
                    "The scheduler could not place some workers",
                ] {
                    if !r.stdout.contains(text) {
                        problems.push(format!(
                            "resource-aware-parallel should show {text:?}:\n{}",
                            r.stdout
                        ));
                    }
                }
                return problems;
            }
            if ex != "race" {
                return Vec::new();
            }
            // race-cleanup, as a learner meets it: not yet cleaned, then cleaned by label.
            let mut problems = not_failed(
                &with(&["check", "race-cleanup", "--output", "json"]).stdout,
                &["jobs-gone"],
            );
            let clean = with(&["clean", "race"]);
            let after = with(&["check", "race-cleanup"]);
            if clean.code != 0 || after.code != 0 {
                problems.push(format!(
                    "race-cleanup after clean:\n{}{}{}",
                    clean.stderr, after.stdout, after.stderr
                ));
            }
            problems
        }
        Proof::Wrong(ex, file) => {
            let header = std::fs::read_to_string(file).expect("answer");
            let expect = header
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# expect: fail "))
                .and_then(|l| l.split('.').next())
                .expect("an `# expect: fail ID...` header");
            let ids: Vec<&str> = expect.split_whitespace().collect();
            let applied = kubectl(kc, &["apply", "-n", ns, "-f", &file.display().to_string()]);
            assert!(
                applied.status.success(),
                "{}",
                String::from_utf8_lossy(&applied.stderr)
            );
            let r = with(&["check", ex, "--wait", "5m"]);
            let mut problems = not_failed(&with(&["check", ex, "--output", "json"]).stdout, &ids);
            if r.code != 1 || !r.stdout.contains("FAILED") {
                problems.push(format!("expected FAILED (exit 1), got exit {}", r.code));
            }
            // The header names the pitfall the answer falls into, `(pitfall ID)`: its
            // explanation must be shown.
            let named = header
                .lines()
                .next()
                .and_then(|l| l.split("(pitfall ").nth(1))
                .and_then(|l| l.split(')').next());
            for (pitfall, _) in &course.exercise(ex).expect("exercise").pitfalls {
                let first = pitfall
                    .explanation
                    .split_whitespace()
                    .take(6)
                    .collect::<Vec<_>>()
                    .join(" ");
                let said = r
                    .stdout
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .contains(&first);
                if named == Some(pitfall.id.as_str()) && !said {
                    problems.push(format!("the {} pitfall is not explained", pitfall.id));
                }
            }
            if problems.is_empty() {
                problems
            } else {
                vec![format!(
                    "{}: {}\n{}{}",
                    file.display(),
                    problems.join("; "),
                    r.stdout,
                    r.stderr
                )]
            }
        }
        Proof::SeedPatch => {
            let script = "if [ $((RANDOM % 3)) -eq 0 ]; then echo \"Worker failed at $(date)\"; exit 1; else echo \"Worker succeeded at $(date)\"; sleep 5; fi";
            let created = kubectl(
                kc,
                &[
                    "create",
                    "job",
                    "unreliable-workers",
                    "-n",
                    ns,
                    "--image=busybox:1.35",
                    "--",
                    "sh",
                    "-c",
                    script,
                ],
            );
            assert!(
                created.status.success(),
                "{}",
                String::from_utf8_lossy(&created.stderr)
            );
            let patched = kubectl(
                kc,
                &[
                    "patch",
                    "job",
                    "unreliable-workers",
                    "-n",
                    ns,
                    "-p",
                    r#"{"spec":{"parallelism":3,"completions":5}}"#,
                ],
            );
            let said = String::from_utf8_lossy(&patched.stderr);
            let mut problems = Vec::new();
            if patched.status.success() || !said.contains("field is immutable") {
                problems.push(format!(
                    "the seed's patch of completions should be refused as immutable: {said}"
                ));
            }
            let r = with(&["check", "unreliable-workers", "--wait", "5m"]);
            problems.extend(not_failed(
                &with(&["check", "unreliable-workers", "--output", "json"]).stdout,
                &["completions"],
            ));
            if r.code != 1 {
                problems.push(format!(
                    "expected FAILED, got exit {}:\n{}{}",
                    r.code, r.stdout, r.stderr
                ));
            }
            problems
        }
    }
}

/// The course proves itself live: every exercise's reference passes with full points on a real
/// cluster, and a known-wrong answer of each (tests/fixtures/wrong/, and the seed's refused
/// patch) fails for the reason expected. Three at a time, each in its own namespace; the race
/// and resource-aware-parallel alone at the end (one measures a speed-up, the other asks for
/// more CPU than the node has).
#[test]
fn the_course_proves_itself_live() {
    let Some(kc) = real_cluster("prove the course on a real cluster") else {
        return;
    };
    let course = kubelab::course::Course::load(&root()).expect("course");
    let mut proofs: Vec<Proof> = course
        .exercises()
        .filter(|e| {
            !e.file.reference.is_empty() && e.file.kind != kubelab::model::ExerciseKind::Quiz
        })
        .map(|e| Proof::Reference(e.id().to_owned()))
        .collect();
    let wrong_dir = root().join("tests/fixtures/wrong");
    let mut wrong: Vec<_> = std::fs::read_dir(&wrong_dir)
        .expect("wrong answers")
        .map(|e| e.expect("entry").path())
        .collect();
    wrong.sort();
    for file in wrong {
        let ex = file
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        proofs.push(Proof::Wrong(ex, file));
    }
    proofs.push(Proof::SeedPatch);
    // Every exercise judged on the cluster has its wrong answer.
    for e in course
        .exercises()
        .filter(|e| !e.file.targets.is_empty() || !e.file.assertions.is_empty())
    {
        let covered = proofs.iter().any(|p| match p {
            Proof::Wrong(ex, _) => ex == e.id(),
            Proof::SeedPatch => e.id() == "unreliable-workers",
            Proof::Reference(ex) => ex == "race" && e.id() == "race-cleanup",
        });
        assert!(
            covered || e.file.kind == kubelab::model::ExerciseKind::Quiz,
            "{} has no known-wrong answer",
            e.id()
        );
    }
    let (alone, shared): (Vec<_>, Vec<_>) = proofs.into_iter().enumerate().partition(|(_, p)| {
        // The race measures a speed-up: on a node busy with the other proofs it can tie.
        matches!(p, Proof::Reference(ex) | Proof::Wrong(ex, _) if ex == "resource-aware-parallel")
            || matches!(p, Proof::Reference(ex) if ex == "race")
    });
    // Named up front, so that they are deleted however the test ends.
    let name = |i: usize| format!("kl-proof-{}-{i}", std::process::id());
    let count = alone.len() + shared.len();
    let _class = Class::namespaces(&kc, (0..count).map(name).collect());
    // Each proof runs as a learner of a class set up by `kubelab class up`: in a namespace of
    // its own, with the learner Role, ResourceQuota and LimitRange derived from the course, and
    // a kubeconfig holding only the learner's token. So every reference (Unit 3's, Unit 4's)
    // is proven to fit the quota and the learner's rights.
    let seats = tempfile::tempdir().unwrap();
    let roster = seats.path().join("proofs.csv");
    let rows: String = (0..count)
        .map(|i| format!("proof-{i},{}\n", name(i)))
        .collect();
    std::fs::write(&roster, format!("learner,namespace\n{rows}")).unwrap();
    let class = format!("kl-proof-{}", std::process::id());
    class_up(&kc, &roster, &class, seats.path(), &[]);
    let learner_kc = |i: usize| {
        seats
            .path()
            .join(format!("kubeconfigs/proof-{i}.kubeconfig"))
            .display()
            .to_string()
    };
    let node_cpu = node_cpu_millis(&kc);
    let problems = std::sync::Mutex::new(Vec::new());
    let run_all = |batch: Vec<(usize, Proof)>, at_once: usize| {
        let queue = std::sync::Mutex::new(batch);
        std::thread::scope(|s| {
            for _ in 0..at_once {
                s.spawn(|| {
                    loop {
                        // Taken in a statement of its own: the queue is not locked while proving.
                        let next = queue.lock().unwrap().pop();
                        let Some((i, proof)) = next else { break };
                        let found = prove(&learner_kc(i), &name(i), node_cpu, &course, &proof);
                        problems.lock().unwrap().extend(found);
                    }
                });
            }
        });
    };
    {
        let _node = share_node();
        run_all(shared, 3);
    }
    {
        let _node = whole_node();
        run_all(alone, 1);
    }
    let down = Test::new(&[
        "class",
        "down",
        "--class",
        &class,
        "--yes",
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Real failures, produced on the real cluster and explained: an image that cannot be pulled
/// (there is no registry), a container killed for memory, a Role without `pods/log` (the
/// message names the verb and resource), and a namespace that does not exist.
#[test]
fn real_failures_are_explained_on_a_real_cluster() {
    let Some(kc) = real_cluster("meet real failures on a real cluster") else {
        return;
    };
    let _node = share_node();
    let _reader = lab_reader();
    let (ns, _guard) = fresh_namespace(&kc, "failures");
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let failures = root().join("tests/fixtures/failures");
    // No registry here: the image-processor reference with an image nobody can pull.
    let reference = std::fs::read_to_string(
        root().join("units/03-parallel-processing/image-processor/reference.yaml"),
    )
    .unwrap();
    let unpullable = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        unpullable.path(),
        reference.replace("image: busybox:1.35", "image: registry.invalid/nope:1"),
    )
    .unwrap();
    ok(kubectl(
        &kc,
        &[
            "apply",
            "-n",
            &ns,
            "-f",
            &unpullable.path().display().to_string(),
        ],
    ));
    ok(kubectl(
        &kc,
        &[
            "apply",
            "-n",
            &ns,
            "-f",
            &failures.join("oom.yaml").display().to_string(),
        ],
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ok(kubectl(
        &kc,
        &[
            "get",
            "pods",
            "-n",
            &ns,
            "-o",
            "jsonpath={..waiting.reason}",
        ],
    ))
    .contains("Image")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no pod ever waited on its image"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    ok(kubectl(
        &kc,
        &[
            "wait",
            "-n",
            &ns,
            "--for=condition=Failed",
            "job/slow-sequential",
            "--timeout=120s",
        ],
    ));

    let with = |kubeconfig: &str, args: &[&str]| Test::new(args).real(kubeconfig, &ns).run();
    let pull = with(&kc, &["check", "image-processor"]);
    assert_eq!(pull.code, 1, "{}{}", pull.stdout, pull.stderr);
    assert!(
        pull.stdout.contains("the image cannot be pulled"),
        "{}",
        pull.stdout
    );
    let oom = with(&kc, &["check", "slow-sequential"]);
    assert_eq!(oom.code, 1, "{}{}", oom.stdout, oom.stderr);
    assert!(
        oom.stdout.contains("exit 137 (OOMKilled)"),
        "{}",
        oom.stdout
    );
    assert!(
        oom.stdout.contains("used more memory than its limit"),
        "{}",
        oom.stdout
    );

    // lab-reader may read everything but logs.
    ok(kubectl(
        &kc,
        &[
            "apply",
            "-n",
            &ns,
            "-f",
            &failures.join("no-logs-role.yaml").display().to_string(),
        ],
    ));
    let reader = std::path::Path::new(&kc).with_file_name("reader.kubeconfig");
    if reader.is_file() {
        let denied = with(&reader.display().to_string(), &["check", "slow-sequential"]);
        assert_eq!(denied.code, 3, "{}{}", denied.stdout, denied.stderr);
        assert!(
            denied.stderr.contains("forbidden (403)") && denied.stderr.contains("`get pods/log`"),
            "{}",
            denied.stderr
        );
        // Without watch, `check --wait` stops at once (the unpullable Job never finishes) and
        // says what it needs, in the server's words.
        ok(kubectl(
            &kc,
            &[
                "patch",
                "role",
                "no-logs",
                "-n",
                &ns,
                "--type=json",
                "-p",
                r#"[{"op":"replace","path":"/rules/0/verbs","value":["get","list"]}]"#,
            ],
        ));
        std::thread::sleep(std::time::Duration::from_secs(2));
        let unwatched = with(
            &reader.display().to_string(),
            &["check", "image-processor", "--wait", "2m"],
        );
        assert_eq!(
            unwatched.code, 3,
            "{}{}",
            unwatched.stdout, unwatched.stderr
        );
        for said in [
            "watching Jobs in",
            "was refused (403)",
            "cannot watch resource \"jobs\"",
            "the checker needs `watch jobs`",
        ] {
            assert!(
                unwatched.stderr.contains(said),
                "{said}: {}",
                unwatched.stderr
            );
        }
        assert!(
            !unwatched.stderr.contains("Status {"),
            "{}",
            unwatched.stderr
        );
    } else {
        eprintln!(
            "skipped the 403 part: no reader.kubeconfig beside the kubeconfig (the shared/k8s kit has one)"
        );
    }

    for (file, code, said) in [
        ("nobody.kubeconfig", 3, "unauthorized (401)"),
        ("dead.kubeconfig", 3, "no cluster reachable"),
    ] {
        let other = std::path::Path::new(&kc).with_file_name(file);
        if !other.is_file() {
            eprintln!("skipped {file}: not beside the kubeconfig (the shared/k8s kit has it)");
            continue;
        }
        let r = with(&other.display().to_string(), &["check", "slow-sequential"]);
        assert_eq!(r.code, code, "{file}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(said), "{file}: {}", r.stderr);
    }

    let nowhere = Test::check("slow-sequential")
        .real(&kc, &format!("{ns}-nowhere"))
        .run();
    assert_eq!(nowhere.code, 3, "{}{}", nowhere.stdout, nowhere.stderr);
    assert!(
        nowhere.stderr.contains("does not exist"),
        "{}",
        nowhere.stderr
    );
}

/// A namespace of its own for one test, removed however the test ends.
fn fresh_namespace(kc: &str, purpose: &str) -> (String, Class) {
    let ns = format!("kl-{purpose}-{}", std::process::id());
    let guard = Class::namespaces(kc, vec![ns.clone()]);
    let out = kubectl(kc, &["create", "namespace", &ns]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (ns, guard)
}

/// The name of the first pod in `ns` whose container runs, once there is one.
fn first_running_pod(kc: &str, ns: &str) -> String {
    running_pod_other_than(kc, ns, &[])
}

/// The name of a pod in `ns` that runs and is not being deleted, other than `these`.
fn running_pod_other_than(kc: &str, ns: &str, these: &[&str]) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let out = kubectl(
            kc,
            &[
                "get",
                "pods",
                "-n",
                ns,
                "--field-selector=status.phase=Running",
                "-o",
                "jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{\"\\n\"}{end}",
            ],
        );
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        // "NAME " for a pod not being deleted, "NAME TIMESTAMP" for one that is.
        if let Some(name) = listed
            .lines()
            .filter_map(|l| l.strip_suffix(' '))
            .find(|n| !n.is_empty() && !these.contains(n))
            .filter(|_| out.status.success())
        {
            return name.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no pod ran in {ns} within 90 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// A pod evicted through the eviction API while `kubelab run` watches, then its replacement
/// deleted: the run says so as each happens, the Job replaces them and completes, and the
/// report names the pods that are gone.
#[test]
fn a_pod_evicted_mid_run_is_seen_and_explained() {
    let Some(kc) = real_cluster("evict a pod on a real cluster") else {
        return;
    };
    let _node = share_node();
    let (ns, _guard) = fresh_namespace(&kc, "evict");
    let run = Test::new(&["run", "slow-sequential", "--reference", "--timeout", "5m"])
        .real(&kc, &ns)
        .spawn();
    let pod = first_running_pod(&kc, &ns);
    let eviction = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        eviction.path(),
        serde_json::json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": ns},
        })
        .to_string(),
    )
    .unwrap();
    let evicted = kubectl(
        &kc,
        &[
            "create",
            "--raw",
            &format!("/api/v1/namespaces/{ns}/pods/{pod}/eviction"),
            "-f",
            &eviction.path().display().to_string(),
        ],
    );
    assert!(
        evicted.status.success(),
        "{}",
        String::from_utf8_lossy(&evicted.stderr)
    );
    // Then its replacement is deleted outright, as `kubectl delete pod` does.
    let replacement = running_pod_other_than(&kc, &ns, &[&pod]);
    let deleted = kubectl(
        &kc,
        &["delete", "pod", "-n", &ns, &replacement, "--wait=false"],
    );
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let out = run.finish(std::time::Duration::from_secs(480));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for said in [
        format!("[{pod}] evicted (EvictionByEvictionAPI) while running: the Job counts it failed"),
        format!("[{replacement}] deleted while running: the Job counts it failed"),
    ] {
        assert!(out.stderr.contains(&said), "{said}: {}", out.stderr);
    }
    let mut gone = [pod.as_str(), replacement.as_str()];
    gone.sort();
    let line = format!(
        "gone: {}: created by the Job, since deleted or evicted",
        gone.join(", ")
    );
    assert!(out.stdout.contains(&line), "{line}: {}", out.stdout);
}

/// The shared/k8s kit's scripts and its state folder (the kubeconfig's), when
/// `KUBELAB_E2E_KIT` names the kit (`.ci/run` sets it; the tests need root to use it).
fn kit_of(kc: &str, to: &str) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let Some(kit) = std::env::var_os("KUBELAB_E2E_KIT").filter(|k| !k.is_empty()) else {
        eprintln!("skipped: set KUBELAB_E2E_KIT to the shared/k8s kit (and run as root) to {to}");
        return None;
    };
    let kit_dir = std::path::Path::new(kc).parent()?.to_path_buf();
    Some((std::path::PathBuf::from(kit), kit_dir))
}

/// Runs a script with the shared/k8s kit's variables (`. "$KIT/lib.sh" && stop_c etcd 5`).
fn run_kit_script(kit: &std::path::Path, kit_dir: &std::path::Path, script: &str) {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("KIT", kit)
        .env("KIT_DIR", kit_dir)
        .env("R", kit_dir.join("run"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The API server stopped and started again (the shared/k8s kit's own scripts) while `run`,
/// `check --wait` and watch mode watch, and etcd compacted meanwhile past what they had seen,
/// so their watches come back to a real 410 Gone: each says the server is lost, says when it
/// is back and that its watch expired, lists again and finishes with its verdict, no pod's
/// line lost or shown twice, though the node controller took the node for lost for a moment;
/// a check made while it is down fails at once with what to do; the learner's progress file
/// keeps what it held. Needs the kit (`KUBELAB_E2E_KIT`, which `.ci/run` sets) and root, and
/// takes the node whole: every other test would lose the server.
#[test]
fn an_api_server_restart_and_etcd_compaction_mid_watch_are_survived() {
    let Some(kc) = real_cluster("restart a real API server") else {
        return;
    };
    let Some((kit, kit_dir)) = kit_of(&kc, "stop and start its API server") else {
        return;
    };
    let _node = whole_node();
    let (ns_run, _run_guard) = fresh_namespace(&kc, "restart-run");
    let (ns_wait, _wait_guard) = fresh_namespace(&kc, "restart-wait");
    let progress = tempfile::tempdir().unwrap();
    let state = progress.path().join("state.json");
    std::fs::write(&state, r#"{"exercises":{"race":{"hints_shown":2}}}"#).unwrap();
    let state_env = state.display().to_string();

    let run = Test::new(&["run", "slow-sequential", "--reference", "--timeout", "6m"])
        .real(&kc, &ns_run)
        .env("KUBELAB_STATE", &state_env)
        .spawn();
    let reference = root().join("units/03-parallel-processing/slow-sequential/reference.yaml");
    let applied = kubectl(
        &kc,
        &[
            "apply",
            "-n",
            &ns_wait,
            "-f",
            &reference.display().to_string(),
        ],
    );
    assert!(applied.status.success());
    let wait = Test::new(&["check", "slow-sequential", "--wait", "6m"])
        .real(&kc, &ns_wait)
        .spawn();
    let learner_file = reference.display().to_string();
    let mut watch = Test::new(&["watch", "slow-sequential", "--file", &learner_file])
        .real(&kc, &ns_wait)
        .spawn();
    first_running_pod(&kc, &ns_run);
    first_running_pod(&kc, &ns_wait);

    let kit_script = |script: &str| run_kit_script(&kit, &kit_dir, script);
    kit_script(r#". "$KIT/lib.sh" && stop_c apiserver 5"#);
    let before = std::fs::read(&state).unwrap();
    let down = Test::check("slow-sequential")
        .real(&kc, &ns_wait)
        .env("KUBELAB_STATE", &state_env)
        .expect(3);
    down.says("no cluster reachable");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "a failed check kept the progress file as it was"
    );
    // etcd moves on and forgets what the watches last saw (as the API server's own periodic
    // compaction does): a key outside the API's /registry is written, then history is compacted
    // up to that write, so every watch resumes from a resource version etcd no longer has.
    kit_script(
        r#"set -e
        bump=$(curl -fsS -X POST http://127.0.0.1:2379/v3/kv/put -d '{"key":"L2t1YmVsYWItZTJlL2J1bXA=","value":"MQ=="}')
        rev=$(printf '%s' "$bump" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
        test -n "$rev"
        curl -fsS -X POST http://127.0.0.1:2379/v3/kv/compaction -d "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null
        curl -fsS -X POST http://127.0.0.1:2379/v3/kv/deleterange -d '{"key":"L2t1YmVsYWItZTJlL2J1bXA="}' >/dev/null"#,
    );
    // Down longer than the node controller's grace period (50 s): when the server is back the
    // controller has heard nothing from the kubelet for that long and may mark the node and
    // its pods not ready, taking it back a few seconds later, when the kubelet reports again.
    // A silent node is not a lost one: `run` must wait on (CI once saw it judge mid-run).
    std::thread::sleep(std::time::Duration::from_secs(55));
    kit_script(r#"bash "$KIT/up.sh" >/dev/null"#);

    let outcomes = [
        run.finish(std::time::Duration::from_secs(420)),
        wait.finish(std::time::Duration::from_secs(420)),
    ];
    for (what, out) in ["run", "check --wait"].iter().zip(&outcomes) {
        assert_eq!(out.code, 0, "{what}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("10/10 points"),
            "{what}: {}",
            out.stdout
        );
        for said in [
            "lost the API server",
            "Your Jobs keep running on the cluster meanwhile",
            "the watch expired (too old resource version",
            "listing again, so nothing that changed meanwhile is missed",
            "the API server answers again (after ",
        ] {
            assert!(
                out.stderr.contains(said),
                "{what} should say {said:?}: {}",
                out.stderr
            );
        }
    }
    let not_ready = kubectl(
        &kc,
        &[
            "get",
            "events",
            "-n",
            &ns_run,
            "--field-selector",
            "reason=NodeNotReady",
            "-o",
            "name",
        ],
    );
    // Whether the node controller marks the node before the kubelet reports again is a race
    // between the two once the server is back (the kit's logs show either): `run` must wait on
    // in both cases, as asserted above; which one this run saw is said.
    assert!(not_ready.status.success(), "{not_ready:?}");
    if String::from_utf8_lossy(&not_ready.stdout).trim().is_empty() {
        eprintln!(
            "note: the kubelet reported before the node controller marked the node not ready this time"
        );
    }
    let run_log = &outcomes[0].stderr;
    for item in 1..=10 {
        let shown = run_log
            .lines()
            .filter(|l| l.ends_with(&format!("] Completed item {item}")))
            .count();
        assert_eq!(
            shown, 1,
            "the live log resumes where it was cut: item {item} once\n{run_log}"
        );
    }
    // Watch mode listed again too, and its last screen judges the finished Job.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let last_screen = |all: &str| {
        let screens: Vec<&str> = all.split("----\n").filter(|s| !s.is_empty()).collect();
        screens.last().map(|s| s.to_string()).unwrap_or_default()
    };
    while !last_screen(&watch.stdout_so_far()).contains("10/10 points")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    watch.type_line("q");
    let watched = watch.finish(std::time::Duration::from_secs(30));
    assert_eq!(watched.code, 0, "{}{}", watched.stdout, watched.stderr);
    let screen = last_screen(&watched.stdout);
    assert!(screen.contains("10/10 points"), "{screen}");
    assert!(
        screen.contains("the cluster watch expired (too old resource version"),
        "{screen}"
    );
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap())
        .expect("the progress file is whole");
    assert_eq!(kept["exercises"]["race"]["hints_shown"], 2, "{kept}");
    assert_eq!(
        kept["exercises"]["slow-sequential"]["last_live"]["passed"], true,
        "{kept}"
    );
}

/// The race's tie on a loaded node, produced for real: another team's pod holds most of the
/// node's CPU and the namespace gives every container a default CPU request (a LimitRange, as
/// shared clusters do), so the scheduler runs parallel's pods one or two at a time beside
/// oneshot. parallel is no faster, and the report says why: pods waiting on `Insufficient cpu`
/// and the overhead each of them pays.
#[test]
fn the_race_ties_on_a_loaded_node() {
    let Some(kc) = real_cluster("race on a loaded real node") else {
        return;
    };
    let _node = whole_node();
    let Some(cpu) = node_cpu_millis(&kc).filter(|m| *m > 1000) else {
        eprintln!("skipped: the node's CPU is unknown or too small to load");
        return;
    };
    let (ns, _guard) = fresh_namespace(&kc, "loaded-race");
    let (load_ns, _load_guard) = fresh_namespace(&kc, "other-team");
    // Room for oneshot and one parallel pod of 400m each: everything else is taken.
    let held = cpu - 800;
    let load = format!(
        r#"apiVersion: v1
kind: LimitRange
metadata: {{name: default-requests, namespace: {ns}}}
spec:
  limits:
  - type: Container
    defaultRequest: {{cpu: 400m}}
---
apiVersion: v1
kind: Pod
metadata: {{name: other-team, namespace: {load_ns}}}
spec:
  containers:
  - name: busy
    image: busybox:1.35
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    resources: {{requests: {{cpu: {held}m}}}}
"#
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), load).unwrap();
    let applied = kubectl(&kc, &["apply", "-f", &file.path().display().to_string()]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let waited = kubectl(
        &kc,
        &[
            "wait",
            "-n",
            &load_ns,
            "--for=condition=Ready",
            "pod/other-team",
            "--timeout=60s",
        ],
    );
    assert!(waited.status.success());

    let race = Test::new(&["run", "race", "--reference", "--timeout", "5m"])
        .real(&kc, &ns)
        .expect(1);
    race.shows("Insufficient cpu")
        .shows("no gain. Pod start-up overhead and node capacity ate it");
    let json = Test::new(&["check", "race", "--output", "json"])
        .real(&kc, &ns)
        .expect(1);
    assert_eq!(
        not_failed(&json.stdout, &["parallel-faster"]),
        Vec::<String>::new()
    );
    assert_eq!(
        not_failed(
            &json.stdout,
            &["speed-up", "oneshot-completed", "parallel-completed"]
        )
        .len(),
        3,
        "only the speed-up itself fails: both Jobs completed\n{}",
        race.stdout
    );
}

/// Every kind, as a learner and an instructor meet it, with a Secret the learner's pod prints
/// by mistake: `run` applies a ConfigMap, a Secret and a Pod and follows the pod's log; check
/// (human, JSON, JUnit), collect and grade only read (the audit log says so); the Secret's
/// value (and its base64) appears in none of their outputs nor in the bundle or the gradebook,
/// only the words `[value of Secret app-secret key password]`; `clean` deletes exactly the three
/// objects kubelab labelled.
#[test]
fn every_kind_runs_and_cleans_and_no_secret_value_is_ever_shown() {
    let Some(kc) = real_cluster("run and clean every kind on a real cluster") else {
        return;
    };
    let _node = share_node();
    let (ns, _guard) = fresh_namespace(&kc, "kinds");
    let secret = "kubelab-s3cr3t-2026";
    let encoded = "a3ViZWxhYi1zM2NyM3QtMjAyNg==";
    let dir = tempfile::tempdir().unwrap();
    let leaky = dir.path().join("configured.yaml");
    let reference = std::fs::read_to_string(
        root().join("units/04-running-applications/configuration/reference.yaml"),
    )
    .unwrap();
    assert!(
        reference.contains(secret),
        "the reference holds the value the test looks for"
    );
    std::fs::write(
        &leaky,
        reference.replace(
            "echo \"password-length=${#PASSWORD}\"",
            "echo \"password=$PASSWORD\"",
        ),
    )
    .unwrap();
    let with = |args: &[&str]| Test::new(args).real(&kc, &ns).run();
    let run = with(&[
        "run",
        "configuration",
        "--file",
        leaky.to_str().unwrap(),
        "--timeout",
        "3m",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("[configured] password=[value of Secret app-secret key password]"),
        "the pod's printed password is hidden as it streams: {}",
        run.stderr
    );
    let audit = AuditWindow::open(&kc);
    let bundle = dir.path().join("b.json");
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, format!("learner,namespace\nalice,{ns}\n")).unwrap();
    let grades = dir.path().join("grades");
    let mut outputs = vec![("run".to_owned(), format!("{}{}", run.stdout, run.stderr))];
    for args in [
        vec!["check", "configuration"],
        vec!["--output", "json", "check", "configuration"],
        vec!["--output", "junit", "check", "configuration"],
        vec![
            "collect",
            "configuration",
            "--out",
            bundle.to_str().unwrap(),
        ],
    ] {
        let r = with(&args);
        assert!(r.code == 0, "{args:?}: {}{}", r.stdout, r.stderr);
        outputs.push((args.join(" "), format!("{}{}", r.stdout, r.stderr)));
    }
    let graded = Test::new(&[
        "grade",
        "configuration",
        "--roster",
        roster.to_str().unwrap(),
        "--out",
        grades.to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(graded.code, 0, "{}{}", graded.stdout, graded.stderr);
    outputs.push((
        "grade".into(),
        format!("{}{}", graded.stdout, graded.stderr),
    ));
    outputs.push(("bundle".into(), std::fs::read_to_string(&bundle).unwrap()));
    for f in [
        "gradebook.csv",
        "gradebook.json",
        "junit.xml",
        "feedback/alice.md",
    ] {
        outputs.push((f.into(), std::fs::read_to_string(grades.join(f)).unwrap()));
    }
    for (what, out) in &outputs {
        assert!(
            !out.contains(secret) && !out.contains(encoded),
            "{what} shows the Secret's value:\n{out}"
        );
    }
    if let Some(seen) = audit.as_ref().map(|a| a.requests_in(&ns)) {
        for (verb, what) in &seen {
            assert!(
                ["get", "list", "watch"].contains(&verb.as_str()),
                "check, collect and grade only read, but: {verb} {what}"
            );
        }
    }
    let audit = AuditWindow::open(&kc);
    let clean = with(&["clean", "configuration"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    if let Some(seen) = audit.as_ref().map(|a| a.requests_in(&ns)) {
        let mut deletes: Vec<&str> = seen
            .iter()
            .filter(|(v, _)| v == "delete")
            .map(|(_, w)| w.as_str())
            .collect();
        deletes.sort();
        assert_eq!(
            deletes,
            [
                "configmaps/app-config",
                "pods/configured",
                "secrets/app-secret"
            ],
            "clean deletes exactly what kubelab labelled: {seen:?}"
        );
        assert!(
            seen.iter()
                .all(|(v, _)| ["get", "list", "watch", "delete"].contains(&v.as_str())),
            "{seen:?}"
        );
    }
}

/// A kind kubelab does not know by name (a custom resource) is found through discovery and
/// judged; a kind the cluster does not serve is an error naming it (exit 3).
#[test]
fn a_custom_resource_is_judged_and_an_unserved_kind_is_named() {
    let Some(kc) = real_cluster("judge a custom resource on a real cluster") else {
        return;
    };
    let _node = share_node();
    let (ns, _guard) = fresh_namespace(&kc, "crd");
    let crd = format!("widgets.e2e-{}.example.com", std::process::id());
    let group = crd.trim_start_matches("widgets.").to_owned();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("crd.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {crd}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
        ),
    )
    .unwrap();
    struct Crd(String, String);
    impl Drop for Crd {
        fn drop(&mut self) {
            let _ = kubectl(&self.0, &["delete", "crd", &self.1, "--wait=false"]);
        }
    }
    let created = kubectl(&kc, &["apply", "-f", manifest.to_str().unwrap()]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let _crd = Crd(kc.clone(), crd.clone());
    let established = kubectl(
        &kc,
        &[
            "wait",
            "--for=condition=Established",
            &format!("crd/{crd}"),
            "--timeout=60s",
        ],
    );
    assert!(
        established.status.success(),
        "{}",
        String::from_utf8_lossy(&established.stderr)
    );
    // The fixture course names group example.com; this test's CRD has a group of its own, so
    // that tests running at once do not share one: the course is copied with it.
    let course = dir.path().join("course");
    common::copy_tree(&root().join("tests/fixtures/courses/custom-kind"), &course);
    for ex in ["widget", "gadget"] {
        let p = course.join(format!("units/01-custom/{ex}/exercise.yaml"));
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("example.com/v1", &format!("{group}/v1"));
        std::fs::write(p, text).unwrap();
    }
    let widget = dir.path().join("widget.yaml");
    std::fs::write(
        &widget,
        format!("apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n"),
    )
    .unwrap();
    let applied = kubectl(&kc, &["apply", "-n", &ns, "-f", widget.to_str().unwrap()]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let ok = Test::new(&["check", "widget"])
        .course(&course)
        .real(&kc, &ns)
        .run();
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("10/10 points"), "{}", ok.stdout);
    let unserved = Test::new(&["check", "gadget"])
        .course(&course)
        .real(&kc, &ns)
        .run();
    assert_eq!(unserved.code, 3, "{}{}", unserved.stdout, unserved.stderr);
    assert!(
        unserved.stderr.contains(&format!(
            "the cluster does not serve kind Gadget ({group}/v1)"
        )),
        "{}",
        unserved.stderr
    );
}
