//! `kubelab watch`: rustlings' watch mode, driven by the learner's file and the cluster. The
//! file is checked offline whenever it changes (notify), the exercise is judged again whenever
//! an object of its kinds changes (kube-rs watchers, falling back to polling with a message
//! when watches are not allowed), and the current verdicts are shown in place. Keys: h hint, n next, q quit
//! (on a terminal single keys; otherwise lines on standard input).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use tokio::sync::mpsc;

use crate::course::{Course, Exercise};
use crate::error::Error;
use crate::report::{self, CheckReport};
use crate::state::Store;
use crate::yaml::Source;

enum Input {
    Hint,
    Next,
    Quit,
    FileChanged,
    ClusterChanged,
    Note(String),
}

fn keys(tx: mpsc::UnboundedSender<Input>) {
    std::thread::spawn(move || {
        if std::io::stdin().is_terminal() && crossterm::terminal::enable_raw_mode().is_ok() {
            use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, read};
            loop {
                let input = match read() {
                    Ok(Event::Key(KeyEvent {
                        code: KeyCode::Char('h'),
                        ..
                    })) => Input::Hint,
                    Ok(Event::Key(KeyEvent {
                        code: KeyCode::Char('n'),
                        ..
                    })) => Input::Next,
                    Ok(Event::Key(KeyEvent {
                        code: KeyCode::Char('q'),
                        ..
                    }))
                    | Ok(Event::Key(KeyEvent {
                        code: KeyCode::Char('c'),
                        modifiers: KeyModifiers::CONTROL,
                        ..
                    })) => Input::Quit,
                    Ok(_) => continue,
                    Err(_) => Input::Quit,
                };
                let quit = matches!(input, Input::Quit);
                if tx.send(input).is_err() || quit {
                    break;
                }
            }
            let _ = crossterm::terminal::disable_raw_mode();
        } else {
            for line in std::io::stdin().lock().lines() {
                let input = match line.as_deref().map(str::trim) {
                    Ok("h") => Input::Hint,
                    Ok("n") => Input::Next,
                    Ok("q") | Err(_) => Input::Quit,
                    _ => continue,
                };
                let quit = matches!(input, Input::Quit);
                if tx.send(input).is_err() || quit {
                    return;
                }
            }
            let _ = tx.send(Input::Quit);
        }
    });
}

fn watch_file(
    path: PathBuf,
    tx: mpsc::UnboundedSender<Input>,
) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let file_name = path.file_name()?.to_owned();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev
            && ev.paths.iter().any(|p| p.file_name() == Some(&file_name))
        {
            let _ = tx.send(Input::FileChanged);
        }
    })
    .ok()?;
    // The folder, not the file: editors replace files on save.
    w.watch(&dir, RecursiveMode::NonRecursive).ok()?;
    Some(w)
}

/// Sends `ClusterChanged` whenever an object of the exercise's kinds changes in the
/// namespace (one watch per kind); polls every 10 s, saying so, when watching is refused.
async fn watch_cluster(
    client: Client,
    namespace: String,
    kinds: Vec<crate::kinds::Known>,
    tx: mpsc::UnboundedSender<Input>,
) {
    let stream = crate::wait::changes(&client, &namespace, kinds);
    futures::pin_mut!(stream);
    // Every kind's watch expires at once: one note for them all.
    let mut expiry_said = false;
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(()) => {
                if tx.send(Input::ClusterChanged).is_err() {
                    return;
                }
            }
            Err(e) if crate::cluster::watch_status(&e).0 == Some(403) => {
                let _ = tx.send(Input::Note(
                    "watching is not allowed here; checking the cluster every 10 s instead".into(),
                ));
                loop {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    if tx.send(Input::ClusterChanged).is_err() {
                        return;
                    }
                }
            }
            Err(e) if crate::cluster::watch_expired(&e) => {
                if !expiry_said {
                    expiry_said = true;
                    let _ = tx.send(Input::Note(format!(
                        "the cluster watch expired ({}); listed again, so nothing that changed meanwhile is missed",
                        crate::text::clean(&crate::cluster::watch_status(&e).1)
                    )));
                }
            }
            Err(_) => {}
        }
    }
}

/// Watches the kinds the exercise reads (Events aside) in the namespace.
fn watch_exercise(
    client: &Client,
    ns: &str,
    ex: &Exercise,
    tx: mpsc::UnboundedSender<Input>,
) -> impl std::future::Future<Output = ()> + Send + use<> {
    let kinds = ex
        .plan
        .kinds
        .iter()
        .filter_map(crate::kinds::KindRef::known)
        .filter(|k| *k != crate::kinds::Known::Event)
        .collect();
    watch_cluster(client.clone(), ns.to_owned(), kinds, tx)
}

/// The watch screen; in a terminal too short for the full reports (`size` is columns and
/// rows), each report is shown compact instead of scrolling the top away.
fn screen(
    ex: &Exercise,
    offline: Option<&Result<CheckReport, Error>>,
    live: Option<&Result<CheckReport, Error>>,
    notes: &[String],
    size: Option<(u16, u16)>,
) -> String {
    let full = screen_with(ex, offline, live, notes, &report::render_check, usize::MAX);
    match size {
        Some((cols, rows)) if full.lines().count() > usize::from(rows) => {
            let compact = |r: &CheckReport| report::render_compact(r, usize::from(cols));
            screen_with(ex, offline, live, notes, &compact, usize::from(cols))
        }
        _ => full,
    }
}

fn screen_with(
    ex: &Exercise,
    offline: Option<&Result<CheckReport, Error>>,
    live: Option<&Result<CheckReport, Error>>,
    notes: &[String],
    render: &dyn Fn(&CheckReport) -> String,
    width: usize,
) -> String {
    let mut out = String::new();
    let title: String = format!("kubelab watch: {} ({})", ex.id(), ex.file.title)
        .chars()
        .take(width)
        .collect();
    out.push_str(&format!("{title}\n\n"));
    match offline {
        Some(Ok(r)) => out.push_str(&render(r)),
        Some(Err(e)) => out.push_str(&format!("{}: {e}\n", ex.file.learner_file)),
        None => out.push_str(&format!("waiting for {} ...\n", ex.file.learner_file)),
    }
    if let Some(l) = live {
        out.push('\n');
        match l {
            Ok(r) => out.push_str(&render(r)),
            Err(e) => out.push_str(&format!("cluster: {e}\n")),
        }
    }
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str("\nkeys: h hint · n next exercise · q quit\n");
    out
}

/// The learner's file checked offline (a quiz graded), when it exists.
fn check_file(ex: &Exercise, path: &std::path::Path) -> Option<Result<CheckReport, Error>> {
    if !path.exists() {
        return None;
    }
    Some(
        Source::read(path, path.display().to_string()).and_then(|s| {
            if ex.file.kind == crate::model::ExerciseKind::Quiz {
                crate::quiz::check(ex, &s)
            } else {
                crate::offline::check(ex, &s)
            }
        }),
    )
}

/// The exercise judged on the cluster, when there is one.
fn judge_live(
    runtime: &tokio::runtime::Runtime,
    connection: Option<&(Client, String)>,
    ex: &Exercise,
) -> Option<Result<CheckReport, Error>> {
    let (client, ns) = connection?;
    Some(runtime.block_on(async {
        let calls = crate::cluster::CallCount::default();
        let snap = crate::cluster::gather(client, ns, &ex.plan, &calls).await?;
        Ok(crate::live::judge(ex, &snap, format!("namespace {ns}")))
    }))
}

/// Shows the screen: in place on a terminal (sized to it), otherwise one block per change.
fn draw(tty: bool, screen: impl FnOnce(Option<(u16, u16)>) -> String) {
    let size = if tty {
        crossterm::terminal::size().ok()
    } else {
        None
    };
    let text = screen(size);
    if tty {
        print!("\x1b[2J\x1b[H{}", text.replace('\n', "\r\n"));
    } else {
        println!("{text}----");
    }
}

/// The next inputs, once a burst of events (an editor's save, a Job's many status updates)
/// has settled: whether the file or the cluster changed (each once), and the keys, in order.
/// None when every input source has closed.
fn settle(rx: &mut mpsc::UnboundedReceiver<Input>) -> Option<(bool, bool, Vec<Input>)> {
    let first = rx.blocking_recv()?;
    std::thread::sleep(Duration::from_millis(200));
    let mut inputs = vec![first];
    while let Ok(more) = rx.try_recv() {
        inputs.push(more);
    }
    let mut file_changed = false;
    let mut cluster_changed = false;
    let mut keys_pressed = Vec::new();
    for input in inputs {
        match input {
            Input::FileChanged => file_changed = true,
            Input::ClusterChanged => cluster_changed = true,
            other => keys_pressed.push(other),
        }
    }
    Some((file_changed, cluster_changed, keys_pressed))
}

/// Reveals one more hint (remembered in the progress file) and shows those revealed.
fn next_hint(store: &mut Store, ex: &Exercise, notes: &mut Vec<String>) -> Result<(), Error> {
    let shown = store.update(|state| {
        let p = state.exercises.entry(ex.id().to_owned()).or_default();
        p.hints_shown = (p.hints_shown + 1).min(ex.file.hints.len());
        p.hints_shown
    })?;
    notes.retain(|n| !n.starts_with("Hint "));
    for (i, h) in ex.file.hints[..shown].iter().enumerate() {
        notes.push(format!("Hint {}/{}: {}", i + 1, ex.file.hints.len(), h));
    }
    Ok(())
}

/// Runs the watch loop until the learner quits, its cluster reads on the caller's runtime.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    course: &Course,
    first: &str,
    file: Option<PathBuf>,
    cluster: Option<crate::cluster::Target>,
    store: &mut Store,
) -> Result<i32, Error> {
    let ids: Vec<String> = course.exercises().map(|e| e.id().to_owned()).collect();
    let mut index = ids.iter().position(|i| i == first).unwrap_or(0);
    let tty = std::io::stdout().is_terminal();
    let (tx, mut rx) = mpsc::unbounded_channel();
    keys(tx.clone());
    let mut notes: Vec<String> = Vec::new();
    let connection = cluster.and_then(|t| match runtime.block_on(crate::cluster::connect(&t)) {
        Ok(c) => Some(c),
        Err(e) => {
            // Without a cluster the file is still checked offline.
            notes.push(format!("no live checking: {e}"));
            None
        }
    });
    'exercises: loop {
        let ex = course.exercise(&ids[index])?;
        let path = file
            .clone()
            .unwrap_or_else(|| PathBuf::from(&ex.file.learner_file));
        let _file_watch = watch_file(path.clone(), tx.clone());
        let job_watch = connection
            .as_ref()
            .map(|(client, ns)| runtime.spawn(watch_exercise(client, ns, ex, tx.clone())));
        let check_file = || check_file(ex, &path);
        let judge_live = || judge_live(runtime, connection.as_ref(), ex);
        let mut offline = check_file();
        let mut live = judge_live();
        loop {
            draw(tty, |size| {
                screen(ex, offline.as_ref(), live.as_ref(), &notes, size)
            });
            let Some((file_changed, cluster_changed, keys_pressed)) = settle(&mut rx) else {
                break 'exercises;
            };
            if file_changed {
                offline = check_file();
            }
            if cluster_changed {
                live = judge_live();
            }
            for input in keys_pressed {
                match input {
                    Input::Quit => break 'exercises,
                    Input::FileChanged | Input::ClusterChanged => {}
                    Input::Note(n) => notes.push(n),
                    Input::Hint => next_hint(store, ex, &mut notes)?,
                    Input::Next => {
                        index = (index + 1) % ids.len();
                        notes.clear();
                        if let Some(j) = &job_watch {
                            j.abort();
                        }
                        continue 'exercises;
                    }
                }
            }
        }
    }
    if tty {
        let _ = crossterm::terminal::disable_raw_mode();
        println!();
    }
    Ok(crate::error::exit::PASSED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_terminal_gets_the_compact_view() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let course = Course::load(root).unwrap();
        let ex = course.exercise("image-processor").unwrap();
        let file = root.join("tests/fixtures/manifests/misspelt-field.yaml");
        let source = crate::yaml::Source::read(&file, "my.yaml").unwrap();
        let report = Ok(crate::offline::check(ex, &source).unwrap());
        let tall = screen(ex, Some(&report), None, &[], Some((100, 200)));
        assert!(
            tall.contains("Findings") || tall.lines().count() > 12,
            "{tall}"
        );
        let short = screen(ex, Some(&report), None, &[], Some((60, 12)));
        assert!(short.lines().count() < tall.lines().count(), "{short}");
        assert_eq!(
            short.matches("hint:").count(),
            1,
            "only the first failure's hint: {short}"
        );
        assert!(short.lines().all(|l| l.chars().count() <= 60), "{short}");
        assert!(short.contains("parallelism-cap"), "{short}");
    }
}
