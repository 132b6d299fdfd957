//! Helpers shared by the integration tests: run the real binary on the repository's course.
#![allow(dead_code)]

pub mod apiserver;
pub mod browser;
pub mod certs;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Copies a folder and everything in it (a course to change in a test).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let dest = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy");
        }
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs kubelab from the repository root with colour off and a private state file.
pub fn kubelab(args: &[&str]) -> Run {
    kubelab_in(&root(), args, None)
}

pub fn kubelab_in(dir: &Path, args: &[&str], state: Option<&Path>) -> Run {
    kubelab_env(dir, args, state, &[])
}

/// Runs kubelab with extra environment; HOME is a fresh folder so no real kubeconfig is read.
pub fn kubelab_env(dir: &Path, args: &[&str], state: Option<&Path>, env: &[(&str, &str)]) -> Run {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state_path = state
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.path().join("state.json"));
    let out = Command::cargo_bin("kubelab")
        .expect("binary")
        .current_dir(dir)
        .env("KUBELAB_STATE", &state_path)
        .env_remove("KUBELAB_COURSE")
        .env("NO_COLOR", "1")
        .env("HOME", tmp.path())
        .env_remove("KUBECONFIG")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A snapshot made of a recording's raw API lists and logs, as the live checker would gather.
pub fn recorded(version: &str, run: &str) -> kubelab::cluster::Snapshot {
    let dir = root().join("tests/fixtures").join(version).join(run);
    let items = |file: &str| -> serde_json::Value {
        // Runs recorded without api/ (race-loaded) have kubectl's -o json lists of the same objects.
        let kubectl = match file {
            "jobs.JobList.json" => "jobs.json",
            "pods.PodList.json" => "pods.json",
            _ => "events.json",
        };
        let text = std::fs::read_to_string(dir.join("api").join(file))
            .or_else(|_| std::fs::read_to_string(dir.join(kubectl)))
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["items"].clone()
    };
    let mut logs = std::collections::BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("logs")) {
        for e in rd {
            let e = e.unwrap();
            let pod = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            logs.insert(
                pod,
                [(
                    "c".to_owned(),
                    kubelab::cluster::LogText {
                        text: text.into(),
                        truncated: false,
                    },
                )]
                .into(),
            );
        }
    }
    let jobs = serde_json::from_value::<Vec<_>>(items("jobs.JobList.json")).unwrap();
    kubelab::cluster::Snapshot {
        namespace: run.rsplit('/').next().unwrap().to_owned(),
        gathered_at: "2026-11-23T12:00:00Z".into(),
        targets: vec![],
        jobs,
        pods: serde_json::from_value(items("pods.PodList.json")).unwrap(),
        events: std::fs::read_to_string(dir.join("api/events.EventList.json"))
            .or_else(|_| std::fs::read_to_string(dir.join("events.json")))
            .ok()
            .map(|t| {
                serde_json::from_value(
                    serde_json::from_str::<serde_json::Value>(&t).unwrap()["items"].clone(),
                )
                .unwrap()
            })
            .unwrap_or_default(),
        logs,
        ..kubelab::cluster::Snapshot::default()
    }
}

/// One kubelab run as a test scenario, in a few lines: the course (the repository's or a
/// fixture), where the cluster comes from (none, a replayed recording, or a real cluster), the
/// arguments; then `.expect(code)` runs it and checks the exit code, showing the output when
/// it differs.
///
/// ```ignore
/// let out = Test::check("image-processor").replay("k8s-1.36", "u3-image-processor").expect(0);
/// out.shows("PASSED").read_only();
/// ```
pub struct Test {
    dir: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cluster: Cluster,
}

enum Cluster {
    None,
    Replay(Box<apiserver::Scenario>, String),
    Real(String, String),
}

/// What a [`Test`] run did: its output, and the requests the replay server saw.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub requests: Vec<String>,
}

/// The token replay scenarios accept.
pub const TOKEN: &str = "learner-token";

/// A replay of one recorded run in a namespace of the same name, as a learner's cluster.
pub fn replay_of(version: &str, run: &str) -> apiserver::Scenario {
    apiserver::Scenario {
        version: version.into(),
        namespaces: std::collections::HashMap::from([(run.to_owned(), run.to_owned())]),
        token: Some(TOKEN.into()),
        kube_system_uid: Some(format!("uid-of-{version}")),
        ..apiserver::Scenario::default()
    }
}

impl Test {
    pub fn new(args: &[&str]) -> Test {
        Test {
            dir: root(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            cluster: Cluster::None,
        }
    }

    /// `kubelab check EXERCISE`.
    pub fn check(exercise: &str) -> Test {
        Test::new(&["check", exercise])
    }

    /// Run from this course folder (a fixture) instead of the repository.
    pub fn course(mut self, dir: &Path) -> Test {
        self.dir = dir.to_path_buf();
        self
    }

    /// Against the replay of one recorded run (`tests/fixtures/VERSION/RUN`).
    pub fn replay(self, version: &str, run: &str) -> Test {
        self.scenario(replay_of(version, run), run)
    }

    /// Against a replay scenario, the kubeconfig's namespace being `namespace`.
    pub fn scenario(mut self, scenario: apiserver::Scenario, namespace: &str) -> Test {
        self.cluster = Cluster::Replay(Box::new(scenario), namespace.to_owned());
        self
    }

    /// Against a real cluster (`KUBELAB_E2E_KUBECONFIG`), in this namespace.
    pub fn real(mut self, kubeconfig: &str, namespace: &str) -> Test {
        self.cluster = Cluster::Real(kubeconfig.to_owned(), namespace.to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn run(self) -> Outcome {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut args = self.args.clone();
        let mut server = None;
        match self.cluster {
            Cluster::None => {}
            Cluster::Replay(scenario, namespace) => {
                let s = apiserver::ApiServer::start(*scenario);
                let kc = s.kubeconfig(tmp.path(), &namespace, TOKEN);
                args.extend(["--kubeconfig".to_owned(), kc.display().to_string()]);
                server = Some(s);
            }
            Cluster::Real(kubeconfig, namespace) => {
                args.extend([
                    "--kubeconfig".to_owned(),
                    kubeconfig,
                    "-n".to_owned(),
                    namespace,
                ]);
            }
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let run = kubelab_env(&self.dir, &argv, None, &env);
        Outcome {
            code: run.code,
            stdout: run.stdout,
            stderr: run.stderr,
            requests: server.map(|s| s.requests()).unwrap_or_default(),
        }
    }

    /// Starts it in the background against a real cluster, for tests that act on the cluster
    /// while kubelab watches; [`Running::finish`] collects it.
    pub fn spawn(self) -> Running {
        let Cluster::Real(kubeconfig, namespace) = &self.cluster else {
            panic!("spawn is for a real cluster");
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let (out, err) = (tmp.path().join("stdout"), tmp.path().join("stderr"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_kubelab"))
            .current_dir(&self.dir)
            .env("KUBELAB_STATE", tmp.path().join("state.json"))
            .env_remove("KUBELAB_COURSE")
            .env("NO_COLOR", "1")
            .env("HOME", tmp.path())
            .env_remove("KUBECONFIG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(&self.args)
            .args(["--kubeconfig", kubeconfig, "-n", namespace])
            // Kept open for watch mode, which quits when its input ends.
            .stdin(std::process::Stdio::piped())
            // Files, not pipes: a run streams pod logs, and a full pipe would stall it.
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("kubelab starts");
        let mut child = child;
        Running {
            stdin: child.stdin.take(),
            child,
            what: self.args.join(" "),
            out,
            err,
            _tmp: tmp,
        }
    }

    /// Runs it and checks the exit code.
    pub fn expect(self, code: i32) -> Outcome {
        let what = self.args.join(" ");
        let out = self.run();
        assert_eq!(
            out.code, code,
            "kubelab {what}\n--- stdout\n{}--- stderr\n{}",
            out.stdout, out.stderr
        );
        out
    }
}

impl Outcome {
    /// Standard output says this.
    pub fn shows(&self, text: &str) -> &Outcome {
        assert!(
            self.stdout.contains(text),
            "expected {text:?} in:\n{}",
            self.stdout
        );
        self
    }

    /// Standard error says this.
    pub fn says(&self, text: &str) -> &Outcome {
        assert!(
            self.stderr.contains(text),
            "expected {text:?} in:\n{}",
            self.stderr
        );
        self
    }

    /// The replay server saw only reads.
    pub fn read_only(&self) -> &Outcome {
        assert!(!self.requests.is_empty(), "no request reached the server");
        for r in &self.requests {
            assert!(
                r.starts_with("GET ") || r.starts_with("WATCH "),
                "a check wrote: {r}"
            );
        }
        self
    }
}

/// A bundle shipped in the repository must be what `kubelab collect` gathers now from the
/// same recording, apart from when it was gathered; `KUBELAB_WRITE_SAMPLES=1` rewrites it.
pub fn assert_same_collection(shipped: &Path, fresh: &Path) {
    if std::env::var_os("KUBELAB_WRITE_SAMPLES").is_some() {
        std::fs::copy(fresh, shipped).expect("rewrite the shipped bundle");
    }
    let strip = |p: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).expect("bundle")).expect("json");
        v["snapshot"]["gathered_at"] = serde_json::Value::Null;
        v["digest"] = serde_json::Value::Null;
        v
    };
    assert!(
        strip(shipped) == strip(fresh),
        "{} is stale: KUBELAB_WRITE_SAMPLES=1 cargo test rewrites it",
        shipped.display()
    );
}

/// kubelab running in the background ([`Test::spawn`]).
pub struct Running {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    what: String,
    out: PathBuf,
    err: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Running {
    /// Types a line on its standard input (watch mode's keys: `h`, `n`, `q`).
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("its input is open");
        writeln!(stdin, "{line}").expect("it reads its input");
    }

    /// What it has written to stdout so far.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    /// What it has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.err).unwrap_or_default()).into_owned()
    }

    /// Waits for it to exit; past `limit` it hung, which fails the test (after killing it).
    pub fn finish(mut self, limit: std::time::Duration) -> Outcome {
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "kubelab {} hung: still running after {limit:?}\n{}",
                    self.what,
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        Outcome {
            code: status.code().unwrap_or(-1),
            stdout: read(&self.out),
            stderr: read(&self.err),
            requests: Vec::new(),
        }
    }
}
