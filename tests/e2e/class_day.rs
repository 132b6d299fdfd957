//! The instructor's class day on the real cluster, end to end: bad rosters and missing rights
//! refused with nothing made, `class up` for ten learners, a learner's kubeconfig refused
//! outside its namespace and its over-quota Job explained, `class status` and `grade` reading
//! only (the audit log says so), and `class down` leaving the cluster as it was.

use super::{AuditWindow, Class, Test, class_up, kubectl, real_cluster, share_node};

fn namespaces(kc: &str) -> Vec<String> {
    let out = kubectl(kc, &["get", "namespaces", "-o", "name"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("namespace/").to_owned())
        .collect()
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_class_day_on_a_real_cluster() {
    let Some(kc) = real_cluster("set a class up, work in it, grade it and take it down") else {
        return;
    };
    let _node = share_node();
    let tag = std::process::id();
    let class = format!("kl-day-{tag}");
    let ids: Vec<String> = (0..10).map(|i| format!("l{i}-{tag}")).collect();
    let taken = format!("kl-day-{tag}-taken");
    let mut all = ids.clone();
    all.push(taken.clone());
    let _cleanup = Class::namespaces(&kc, all);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let before: Vec<String> = namespaces(&kc)
        .into_iter()
        .filter(|n| ids.contains(n) || *n == taken)
        .collect();
    assert!(before.is_empty(), "{before:?}");

    // Bad input: each a clear error, and nothing made.
    std::fs::write(path("odd.csv"), "learner\nAna Lopez\n").unwrap();
    let odd = Test::new(&[
        "class",
        "up",
        "--roster",
        &path("odd.csv"),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(odd.code, 2, "{}", odd.stderr);
    assert!(
        odd.stderr.contains("kubelab would use `ana-lopez`"),
        "{}",
        odd.stderr
    );
    let reader = std::path::Path::new(&kc).with_file_name("reader.kubeconfig");
    std::fs::write(
        path("day.csv"),
        format!(
            "learner,namespace\n{}\n",
            ids.iter()
                .map(|i| format!("{i},"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .unwrap();
    if reader.exists() {
        let refused = Test::new(&[
            "class",
            "up",
            "--roster",
            &path("day.csv"),
            "--class",
            &class,
            "--out",
            &path("out"),
            "--kubeconfig",
            reader.to_str().unwrap(),
        ])
        .run();
        assert_eq!(refused.code, 3, "{}", refused.stderr);
        assert!(
            refused.stderr.contains("403 Forbidden")
                && refused.stderr.contains("create namespaces"),
            "{}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains("kubelab rbac --scope class"),
            "{}",
            refused.stderr
        );
    }
    assert!(
        kubectl(&kc, &["create", "namespace", &taken])
            .status
            .success()
    );
    std::fs::write(
        path("taken.csv"),
        format!("learner,namespace\n{},\nsomeone,{taken}\n", ids[0]),
    )
    .unwrap();
    let clash = Test::new(&[
        "class",
        "up",
        "--roster",
        &path("taken.csv"),
        "--class",
        &class,
        "--out",
        &path("out"),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(clash.code, 3, "{}", clash.stderr);
    assert!(
        clash.stderr.contains(&format!(
            "namespace {taken} exists and kubelab did not make it"
        )),
        "{}",
        clash.stderr
    );
    assert!(clash.stderr.contains("--adopt"), "{}", clash.stderr);
    let made: Vec<String> = namespaces(&kc)
        .into_iter()
        .filter(|n| ids.contains(n))
        .collect();
    assert!(made.is_empty(), "a refused `class up` made {made:?}");

    // Up, twice: the second changes nothing but the tokens.
    // A failure part-way (a folder where a kubeconfig goes) says what it made, and `down`
    // removes it.
    let half = dir.path().join("half");
    std::fs::create_dir_all(half.join(format!("kubeconfigs/{}.kubeconfig/x", ids[0]))).unwrap();
    std::fs::write(path("half.csv"), format!("learner\n{}\n", ids[0])).unwrap();
    let broken = Test::new(&[
        "class",
        "up",
        "--roster",
        &path("half.csv"),
        "--class",
        &class,
        "--out",
        half.to_str().unwrap(),
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(broken.code, 3, "{}{}", broken.stdout, broken.stderr);
    assert!(
        broken
            .stderr
            .contains(&format!("made before that: Namespace {}", ids[0])),
        "{}",
        broken.stderr
    );
    assert!(
        broken
            .stderr
            .contains(&format!("kubelab class down --class {class}")),
        "{}",
        broken.stderr
    );
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
    assert!(
        !namespaces(&kc).contains(&ids[0]),
        "down removed what the failed up made"
    );

    let (day, out) = (dir.path().join("day.csv"), dir.path().join("out"));
    let unit3 = ["--unit", "parallel-processing"];
    let up = class_up(&kc, &day, &class, &out, &unit3);
    assert!(up.stdout.contains("10 learner(s) set up"), "{}", up.stdout);
    assert!(
        up.stdout.contains("resource-aware-parallel"),
        "the quota is sized from the largest reference run: {}",
        up.stdout
    );
    class_up(&kc, &day, &class, &out, &unit3);
    let kubeconfigs = dir.path().join("out/kubeconfigs");
    assert_eq!(mode(&kubeconfigs), 0o700);
    for id in &ids {
        let file = kubeconfigs.join(format!("{id}.kubeconfig"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let learner = |i: usize| {
        kubeconfigs
            .join(format!("{}.kubeconfig", ids[i]))
            .display()
            .to_string()
    };

    // A learner works in their namespace and nowhere else.
    let own = kubectl(&learner(0), &["get", "pods"]);
    assert!(
        own.status.success(),
        "{}",
        String::from_utf8_lossy(&own.stderr)
    );
    for args in [
        vec!["get", "pods", "-n", ids[1].as_str()],
        vec!["get", "namespaces"],
        vec!["get", "nodes"],
        vec!["get", "pods", "--all-namespaces"],
    ] {
        let out = kubectl(&learner(0), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("Forbidden"),
            "{args:?}: {err}"
        );
    }
    // A Job asking for more than the quota: its pods are refused, and kubelab names the quota.
    let greedy = std::fs::read_to_string(super::root().join("units/03-parallel-processing/image-processor/reference.yaml"))
        .unwrap()
        .replace("        image: busybox:1.35\n", "        image: busybox:1.35\n        resources:\n          requests: {cpu: '64'}\n          limits: {cpu: '64'}\n");
    std::fs::write(path("greedy.yaml"), greedy).unwrap();
    let run = Test::new(&[
        "run",
        "image-processor",
        "--file",
        &path("greedy.yaml"),
        "--timeout",
        "15s",
        "--kubeconfig",
        &learner(0),
    ])
    .run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("exceeded quota: kubelab-quota"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("the namespace's ResourceQuota `kubelab-quota` refused them"),
        "{}",
        run.stdout
    );

    // Status and grading only read, whatever they read.
    let audit = AuditWindow::open(&kc);
    let status = Test::new(&["class", "status", "--class", &class, "--kubeconfig", &kc]).run();
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert!(status.stdout.contains("10 learner(s)"), "{}", status.stdout);
    let row = status
        .stdout
        .lines()
        .find(|l| l.contains(&ids[0]))
        .unwrap_or_default();
    assert!(
        row.contains("FailedCreate") && row.contains("until "),
        "{}",
        status.stdout
    );
    let grade = Test::new(&[
        "grade",
        "image-processor",
        "--namespace-selector",
        &format!("kubelab.dev/class={class}"),
        "--out",
        &path("grades"),
        "--lms",
        "canvas",
        "--kubeconfig",
        &kc,
    ])
    .run();
    assert_eq!(grade.code, 0, "{}{}", grade.stdout, grade.stderr);
    let canvas = std::fs::read_to_string(dir.path().join("grades/canvas-import.csv")).unwrap();
    assert!(
        canvas.starts_with("Student,ID,SIS User ID,SIS Login ID,Section,"),
        "{canvas}"
    );
    assert_eq!(canvas.lines().count(), 2 + ids.len(), "{canvas}");
    let book = std::fs::read_to_string(dir.path().join("grades/gradebook.csv")).unwrap();
    for id in &ids {
        assert!(book.contains(id.as_str()), "{id} in {book}");
    }
    if let Some(audit) = audit {
        let writes = audit.writes_about(&ids);
        assert!(writes.is_empty(), "status and grade wrote: {writes:?}");
    }

    // Down: asks first, then leaves the cluster as it was.
    let unasked = Test::new(&["class", "down", "--class", &class, "--kubeconfig", &kc]).run();
    assert_eq!(unasked.code, 2, "{}", unasked.stderr);
    assert!(unasked.stderr.contains("pass --yes"), "{}", unasked.stderr);
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
    assert!(
        down.stdout.contains("10 namespace(s) removed"),
        "{}",
        down.stdout
    );
    assert!(
        kubectl(&kc, &["delete", "namespace", &taken, "--wait=false"])
            .status
            .success()
    );
    let left: Vec<String> = namespaces(&kc)
        .into_iter()
        .filter(|n| ids.contains(n))
        .collect();
    assert!(left.is_empty(), "down left {left:?}");
    let gone = kubectl(&learner(1), &["get", "pods"]);
    assert!(
        !gone.status.success(),
        "a learner's token outlives the class"
    );
}

/// A background kubelab killed however the test ends.
struct Background(std::process::Child, std::path::PathBuf);

impl Background {
    fn start(args: &[&str], dir: &std::path::Path) -> Background {
        let err = dir.join(format!("stderr-{}", args.len()));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_kubelab"))
            .current_dir(super::root())
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("kubelab starts");
        Background(child, err)
    }

    /// The URL the board printed, once it is serving.
    fn url(&mut self) -> String {
        let start = std::time::Instant::now();
        loop {
            let text = std::fs::read_to_string(&self.1).unwrap_or_default();
            if let Some(url) = text.split_whitespace().find(|w| w.starts_with("http://")) {
                return url.to_owned();
            }
            if let Ok(Some(status)) = self.0.try_wait() {
                panic!("the board exited ({status}): {text}");
            }
            assert!(start.elapsed().as_secs() < 90, "no board URL: {text}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The live board in the real Chromium: a learner's Job completing on the real cluster turns
/// their cell green without a reload; the board only reads; on an address other than loopback
/// the page needs its token.
#[test]
fn the_class_board_turns_a_cell_green_live_in_chromium() {
    use super::common::browser::{Browser, find_chromium};
    let Some(kc) = real_cluster("watch a class board turn green in Chromium") else {
        return;
    };
    let Some(chromium) = find_chromium() else {
        eprintln!("skipped: no chromium to drive the class board");
        return;
    };
    let _node = share_node();
    let tag = std::process::id();
    let class = format!("kl-board-{tag}");
    let ids = vec![format!("b0-{tag}"), format!("b1-{tag}")];
    let _cleanup = Class::namespaces(&kc, ids.clone());
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("board.csv");
    std::fs::write(&roster, format!("learner\n{}\n{}\n", ids[0], ids[1])).unwrap();
    let out = dir.path().join("class");
    class_up(&kc, &roster, &class, &out, &[]);
    let selector = format!("kubelab.dev/class={class}");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut board = Background::start(
        &[
            "grade",
            "data-validation",
            "--namespace-selector",
            &selector,
            "--serve",
            &addr,
            "--kubeconfig",
            &kc,
        ],
        dir.path(),
    );
    let url = board.url();
    assert!(!url.contains("token="), "loopback needs no token: {url}");
    let audit = AuditWindow::open(&kc);
    let mut browser = Browser::launch(&chromium);
    browser.open(&url);
    let cell = format!(
        "document.querySelector('tr[data-learner=\"{}\"] td[data-exercise=\"data-validation\"]')",
        ids[0]
    );
    browser.wait_for(&cell);
    assert_eq!(browser.eval(&format!("{cell}.dataset.status")), "missing");
    browser.eval("window.notReloaded = true");
    let reference =
        super::root().join("units/03-parallel-processing/data-validation/reference.yaml");
    let learner = out.join(format!("kubeconfigs/{}.kubeconfig", ids[0]));
    let applied = kubectl(
        learner.to_str().unwrap(),
        &["apply", "-f", reference.to_str().unwrap()],
    );
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let start = std::time::Instant::now();
    while browser.eval(&format!("{cell}.dataset.status")) != "passed" {
        assert!(
            start.elapsed().as_secs() < 240,
            "the cell did not turn green: {}",
            browser.eval(&format!("{cell}.textContent"))
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(
        browser.eval("window.notReloaded === true"),
        true,
        "updated without a reload"
    );
    let text = browser
        .eval(&format!("{cell}.textContent"))
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(text.contains("→ passed"), "{text}");
    assert_eq!(
        browser.eval(&format!("getComputedStyle({cell}).backgroundColor")),
        "rgb(218, 251, 225)",
        "green"
    );
    // A cell opens the learner's feedback.
    browser.eval(&format!("{cell}.click()"));
    browser.wait_for("!document.getElementById('feedback').hidden && document.getElementById('feedback').textContent.includes('Feedback for')");
    // Readable on a phone: the page does not overflow, the table scrolls inside it.
    browser.viewport(390, 800, true);
    let overflow = browser.eval("document.documentElement.scrollWidth <= 391");
    assert_eq!(overflow, true, "the page is wider than 390 px");
    if let Some(audit) = audit {
        let writes = audit.writes_about(&ids);
        assert!(writes.is_empty(), "the board wrote: {writes:?}");
    }
    drop(board);

    // Anywhere but loopback: no token, no page.
    let open = format!("0.0.0.0:{}", free_port());
    let mut guarded = Background::start(
        &[
            "grade",
            "data-validation",
            "--namespace-selector",
            &selector,
            "--serve",
            &open,
            "--kubeconfig",
            &kc,
        ],
        dir.path(),
    );
    let url = guarded.url();
    let token = url.split("token=").nth(1).expect("a token").to_owned();
    assert!(token.len() >= 32, "{url}");
    let port = open.rsplit(':').next().unwrap();
    browser.open(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for("document.body && document.body.textContent.includes('needs its token')");
    browser.open(&format!("http://127.0.0.1:{port}/?token={token}"));
    browser.wait_for("document.querySelector('td.cell')");
}
