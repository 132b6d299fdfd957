//! Grading past one machine, for real: the grader image built without a daemon
//! (deploy/build-image.sh, umoci), imported into the kit's containerd, deploy/grade-job.yaml
//! applied as it is, its four shards writing their parts to their logs, and
//! `grade merge --job` reading them back: equal, byte for byte, to one `grade` run on the
//! instructor's machine. The grader's service account only reads (the audit log says so),
//! and a missing index is refused.

use super::{AuditWindow, Class, Test, class_up, kubectl, real_cluster, root, share_node};

const CONFLIST: &str = "/etc/cni/net.d/10-lab-bridge.conflist";

/// The kit has no kube-proxy: a pod cannot reach the `kubernetes` Service, so nothing
/// in-cluster can reach the API server. This stands in for kube-proxy for that one Service,
/// while the test runs: new pods get a route to its ClusterIP through the bridge, and the
/// node forwards it to the API server on 127.0.0.1 (its certificate names the ClusterIP).
struct ServiceRoute {
    conflist: String,
    rule: Vec<String>,
}

impl ServiceRoute {
    fn up(cluster_ip: &str, apiserver: &str) -> Option<ServiceRoute> {
        let conflist = std::fs::read_to_string(CONFLIST).ok()?;
        let mut config: serde_json::Value = serde_json::from_str(&conflist).ok()?;
        config["plugins"][0]["ipam"]["routes"] =
            serde_json::json!([{"dst": format!("{cluster_ip}/32")}]);
        let rule: Vec<String> = [
            "PREROUTING",
            "-i",
            "cni0",
            "-d",
            cluster_ip,
            "-p",
            "tcp",
            "--dport",
            "443",
            "-j",
            "DNAT",
            "--to-destination",
            apiserver,
        ]
        .map(String::from)
        .to_vec();
        let sysctl = std::fs::write("/proc/sys/net/ipv4/conf/cni0/route_localnet", "1");
        let iptables = std::process::Command::new("iptables")
            .args(["-t", "nat", "-I"])
            .args(&rule)
            .status();
        if sysctl.is_err() || !iptables.is_ok_and(|s| s.success()) {
            return None;
        }
        let route = ServiceRoute { conflist, rule };
        std::fs::write(CONFLIST, serde_json::to_string_pretty(&config).unwrap()).ok()?;
        // containerd reloads the CNI configuration when the file changes.
        std::thread::sleep(std::time::Duration::from_secs(2));
        Some(route)
    }
}

impl Drop for ServiceRoute {
    fn drop(&mut self) {
        let _ = std::fs::write(CONFLIST, &self.conflist);
        let _ = std::process::Command::new("iptables")
            .args(["-t", "nat", "-D"])
            .args(&self.rule)
            .status();
        let _ = std::fs::write("/proc/sys/net/ipv4/conf/cni0/route_localnet", "0");
    }
}

/// Every file under `dir`, by relative path.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether the kit's tools are here; on CI their absence is a failure, elsewhere a skip.
fn have_tools() -> bool {
    let missing: Vec<&str> = ["umoci", "ctr", "iptables", "objcopy"]
        .into_iter()
        .filter(|t| {
            !std::process::Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install {missing:?} (.ci/run apt-installs umoci)"
    );
    eprintln!("skipped: the grader image needs {missing:?} (apt-get install umoci)");
    false
}

#[test]
fn the_grading_job_shards_in_the_cluster_and_its_merge_equals_one_run() {
    let Some(kc) = real_cluster("build the grader image and run deploy/grade-job.yaml") else {
        return;
    };
    if std::env::var_os("KUBELAB_E2E_KIT").is_none_or(|k| k.is_empty()) {
        eprintln!(
            "skipped: set KUBELAB_E2E_KIT to the shared/k8s kit (as root): the image goes into its containerd"
        );
        return;
    }
    if !have_tools() {
        return;
    }
    let _node = share_node();
    let tag = std::process::id();
    let class = format!("kl-shards-{tag}");
    let ids: Vec<String> = (0..6).map(|i| format!("s{i}-{tag}")).collect();
    let mut cleanup = Class::namespaces(&kc, {
        let mut all = ids.clone();
        all.push("kubelab-grading".into());
        all
    });
    cleanup.binding = Some("kubelab-grader".into());
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let roster = path("roster.csv");
    let rows: Vec<String> = ids.iter().map(|i| format!("{i},{i}")).collect();
    std::fs::write(&roster, format!("learner,namespace\n{}\n", rows.join("\n"))).unwrap();
    class_up(
        &kc,
        &roster,
        &class,
        &path("class"),
        &["--unit", "parallel-processing"],
    );
    let learner = |i: usize| {
        path("class")
            .join(format!("kubeconfigs/{}.kubeconfig", ids[i]))
            .display()
            .to_string()
    };

    // Two learners work (at once, with their own kubeconfigs) while the image is built.
    let quick = path("quick.yaml");
    let serial = std::fs::read_to_string(
        root().join("units/03-parallel-processing/slow-sequential/reference.yaml"),
    )
    .unwrap();
    std::fs::write(&quick, serial.replace("sleep 6", "sleep 1")).unwrap();
    let (first, second) = (learner(0), learner(1));
    let serial_run = Test::new(&[
        "run",
        "slow-sequential",
        "--file",
        quick.to_str().unwrap(),
        "--predict",
        "60s",
        "--timeout",
        "4m",
    ])
    .real(&first, &ids[0])
    .spawn();
    let parallel_run = Test::new(&[
        "run",
        "parallel-processing",
        "--reference",
        "--timeout",
        "4m",
    ])
    .real(&second, &ids[1])
    .spawn();
    let image = path("kubelab.tar");
    let built = std::process::Command::new(root().join("deploy/build-image.sh"))
        .args([env!("CARGO_BIN_EXE_kubelab"), image.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", text(&built));
    let imported = std::process::Command::new("ctr")
        .args(["-n", "k8s.io", "images", "import"])
        .arg(&image)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", text(&imported));
    assert!(
        text(&imported).contains("docker.io/library/kubelab:latest"),
        "{}",
        text(&imported)
    );
    for run in [serial_run, parallel_run] {
        let done = run.finish(std::time::Duration::from_secs(300));
        assert!(done.code <= 1, "{}{}", done.stdout, done.stderr);
    }

    let cluster_ip = kubectl(
        &kc,
        &[
            "get",
            "service",
            "kubernetes",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ],
    );
    let cluster_ip = String::from_utf8_lossy(&cluster_ip.stdout).into_owned();
    let Some(_route) = ServiceRoute::up(&cluster_ip, "127.0.0.1:6443") else {
        panic!(
            "could not route {cluster_ip}:443 to the API server (needs root, iptables, {CONFLIST})"
        );
    };
    let audit = AuditWindow::open(&kc);
    let (grader, job) = (
        root().join("deploy/kubelab-grader.yaml"),
        root().join("deploy/grade-job.yaml"),
    );
    for args in [
        vec!["create", "namespace", "kubelab-grading"],
        vec!["apply", "-f", grader.to_str().unwrap()],
        vec![
            "create",
            "configmap",
            "roster",
            "-n",
            "kubelab-grading",
            "--from-file",
            roster.to_str().unwrap(),
        ],
        vec!["apply", "-f", job.to_str().unwrap()],
    ] {
        let out = kubectl(&kc, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let waited = kubectl(
        &kc,
        &[
            "wait",
            "-n",
            "kubelab-grading",
            "--for=condition=Complete",
            "job/kubelab-grade",
            "--timeout=240s",
        ],
    );
    if !waited.status.success() {
        let pods = kubectl(&kc, &["get", "pods", "-n", "kubelab-grading", "-o", "wide"]);
        let logs = kubectl(
            &kc,
            &[
                "logs",
                "-n",
                "kubelab-grading",
                "job/kubelab-grade",
                "--tail=20",
            ],
        );
        panic!(
            "the grading Job did not complete: {}\n{}\n{}",
            text(&waited),
            text(&pods),
            text(&logs)
        );
    }

    let merged = Test::new(&[
        "grade",
        "merge",
        "--job",
        "kubelab-grade",
        "-n",
        "kubelab-grading",
        "--out",
        path("merged").to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(merged.code, 0, "{}{}", merged.stdout, merged.stderr);
    let single = Test::new(&[
        "grade",
        "--unit",
        "parallel-processing",
        "--roster",
        roster.to_str().unwrap(),
        "--out",
        path("single").to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(single.code, 0, "{}{}", single.stdout, single.stderr);
    let (merged_files, single_files) = (files(&path("merged")), files(&path("single")));
    assert_eq!(
        merged_files.keys().collect::<Vec<_>>(),
        single_files.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &single_files {
        assert!(
            merged_files[name] == *bytes,
            "{name} differs:\n--- merged\n{}\n--- single\n{}",
            String::from_utf8_lossy(&merged_files[name]),
            String::from_utf8_lossy(bytes)
        );
    }
    // Not a merge of empty parts: the two learners' work is in it.
    let book: serde_json::Value = serde_json::from_slice(&single_files["gradebook.json"]).unwrap();
    let earned = |i: usize, exercise: &str| {
        book["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["learner"] == ids[i].as_str())
            .and_then(|l| l["exercises"].as_array())
            .and_then(|es| es.iter().find(|e| e["exercise"] == exercise))
            .map(|e| e["points"].as_u64().unwrap())
            .unwrap_or(0)
    };
    assert!(earned(0, "slow-sequential") > 0, "{book}");
    assert!(earned(1, "parallel-processing") > 0, "{book}");

    if let Some(audit) = audit {
        let grader = "system:serviceaccount:kubelab-grading:kubelab-grader";
        let asked = audit.verbs_of(grader);
        assert!(
            asked.iter().any(|v| v == "list"),
            "the shards read: {asked:?}"
        );
        let writes: Vec<&String> = asked
            .iter()
            .filter(|v| !["get", "list", "watch"].contains(&v.as_str()))
            .collect();
        assert!(writes.is_empty(), "the grading Job wrote: {writes:?}");
    }

    // A part gone (its pod deleted): the merge refuses rather than grade a class short.
    let gone = kubectl(
        &kc,
        &[
            "delete",
            "pod",
            "-n",
            "kubelab-grading",
            "-l",
            "batch.kubernetes.io/job-completion-index=2",
            "--wait=true",
        ],
    );
    assert!(gone.status.success(), "{}", text(&gone));
    let short = Test::new(&[
        "grade",
        "merge",
        "--job",
        "kubelab-grade",
        "-n",
        "kubelab-grading",
        "--out",
        path("short").to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(short.code, 3, "{}{}", short.stdout, short.stderr);
    assert!(
        short.stderr.contains("index 2 has no succeeded pod"),
        "{}",
        short.stderr
    );
    assert!(!path("short").exists(), "a refused merge wrote files");
}
