//! The live class board (`grade --serve`): the class graded once, then kept up to date by one
//! watch per kind the course reads (cluster-wide where allowed), re-judging only the
//! namespaces that changed, a moment after they changed (debounced); served as one
//! self-contained page that updates itself over Server-Sent Events. Read-only like `grade`.

mod http;
mod page;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::cluster::{CallCount, Target};
use crate::course::Exercise;
use crate::error::Error;
use crate::grade::gather::Reading;
use crate::grade::gradebook::{Column, ExerciseGrade, Flag, Gradebook, LearnerGrade};
use crate::grade::roster::Learner;
use crate::verdict::Status;

/// How long changes are gathered before the namespaces they touched are judged again: a Job
/// finishing changes the Job, its last pod and two Events within a second.
pub const DEBOUNCE: Duration = Duration::from_millis(750);

/// What a cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellStatus {
    Passed,
    Failed,
    /// Only absences judged so far: nothing done yet.
    NotAttempted,
    /// No work found (no namespace, no target).
    Missing,
}

impl CellStatus {
    fn of(e: &ExerciseGrade) -> CellStatus {
        if e.flags.contains(&Flag::Missing) {
            CellStatus::Missing
        } else if e.passed {
            CellStatus::Passed
        } else if e.assertions.iter().any(|a| a.status == Status::Fail) {
            CellStatus::Failed
        } else if e
            .assertions
            .iter()
            .any(|a| a.status == Status::NotAttempted)
        {
            CellStatus::NotAttempted
        } else {
            CellStatus::Failed
        }
    }

    fn word(self) -> &'static str {
        match self {
            CellStatus::Passed => "passed",
            CellStatus::Failed => "failed",
            CellStatus::NotAttempted => "not attempted",
            CellStatus::Missing => "missing",
        }
    }
}

/// The last change of a cell.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// RFC 3339.
    pub at: String,
    /// `failed → passed, 6 → 20 points`.
    pub what: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub status: CellStatus,
    pub points: u32,
    pub maximum: u32,
    pub changed: Option<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub learner: String,
    pub total: u32,
    pub maximum: u32,
    pub cells: Vec<Cell>,
}

/// What the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    /// Goes up by one at each update.
    pub version: u64,
    pub exercises: Vec<Column>,
    pub rows: Vec<Row>,
    /// API calls since the board started, and re-judgings of a namespace.
    pub api_calls: usize,
    pub rejudged: usize,
    pub updated_at: String,
}

/// The class's grades and what changed, shared by the watcher loop and the web server.
pub struct Board {
    columns: Vec<Column>,
    learners: BTreeMap<String, LearnerGrade>,
    changes: BTreeMap<(String, String), Change>,
    version: u64,
    rejudged: usize,
    api_calls: usize,
}

impl Board {
    fn new(columns: Vec<Column>, graded: Vec<(String, Vec<ExerciseGrade>)>, calls: usize) -> Board {
        Board {
            columns,
            learners: graded
                .into_iter()
                .map(|(id, g)| (id.clone(), LearnerGrade::new(id, g)))
                .collect(),
            changes: BTreeMap::new(),
            version: 1,
            rejudged: 0,
            api_calls: calls,
        }
    }

    /// Takes in new grades, noting each cell whose status or points changed.
    fn update(
        &mut self,
        graded: Vec<(String, Vec<ExerciseGrade>)>,
        calls: usize,
        now: jiff::Timestamp,
    ) {
        for (id, grades) in graded {
            let new = LearnerGrade::new(id.clone(), grades);
            if let Some(old) = self.learners.get(&id) {
                for e in &new.exercises {
                    let Some(before) = old.exercise(&e.exercise) else {
                        continue;
                    };
                    let (was, is) = (CellStatus::of(before), CellStatus::of(e));
                    if was != is || before.points != e.points {
                        self.changes.insert(
                            (id.clone(), e.exercise.clone()),
                            Change {
                                at: now.to_string(),
                                what: format!(
                                    "{} → {}, {} → {} points",
                                    was.word(),
                                    is.word(),
                                    before.points,
                                    e.points
                                ),
                            },
                        );
                    }
                }
            }
            self.learners.insert(id, new);
            self.rejudged += 1;
        }
        self.api_calls += calls;
        self.version += 1;
    }

    pub fn view(&self) -> View {
        let rows = self
            .learners
            .values()
            .map(|l| Row {
                learner: l.learner.clone(),
                total: l.total,
                maximum: l.maximum,
                cells: self
                    .columns
                    .iter()
                    .map(|c| match l.exercise(&c.id) {
                        Some(e) => Cell {
                            status: CellStatus::of(e),
                            points: e.points,
                            maximum: e.maximum,
                            changed: self
                                .changes
                                .get(&(l.learner.clone(), c.id.clone()))
                                .cloned(),
                        },
                        None => Cell {
                            status: CellStatus::Missing,
                            points: 0,
                            maximum: c.points,
                            changed: None,
                        },
                    })
                    .collect(),
            })
            .collect();
        View {
            version: self.version,
            exercises: self.columns.clone(),
            rows,
            api_calls: self.api_calls,
            rejudged: self.rejudged,
            updated_at: jiff::Timestamp::now().to_string(),
        }
    }

    /// A learner's feedback, as `grade` writes it to `feedback/<learner>.md`.
    pub fn feedback(&self, learner: &str) -> Option<String> {
        let l = self.learners.get(learner)?;
        let book = Gradebook::new(self.columns.clone(), None, None, vec![l.clone()]);
        Some(crate::grade::outputs::feedback_text(&book, l))
    }
}

/// Where the board is served, and who may open it.
pub struct Serving {
    pub addr: std::net::SocketAddr,
    /// Required on any address but loopback: no token, no page.
    pub token: Option<String>,
}

impl Serving {
    /// Loopback needs no token; any other address gets a fresh random one.
    pub fn on(addr: &str) -> Result<Serving, Error> {
        let addr: std::net::SocketAddr = addr.parse().map_err(|_| {
            Error::Usage(format!(
                "--serve {}: give an address and port, like 127.0.0.1:8080 or 0.0.0.0:8080",
                crate::text::clean(addr)
            ))
        })?;
        let token = (!addr.ip().is_loopback())
            .then(http::new_token)
            .transpose()?;
        Ok(Serving { addr, token })
    }

    /// The URL to open (with the token, when there is one).
    pub fn url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() {
            format!("HOST:{}", self.addr.port())
        } else {
            self.addr.to_string()
        };
        match &self.token {
            Some(t) => format!("http://{host}/?token={t}"),
            None => format!("http://{host}/"),
        }
    }
}

/// Judges again, a moment after they changed, the namespaces the watches report.
async fn rejudge(
    exercises: &[&Exercise],
    target: &Target,
    namespaces: &BTreeMap<String, Learner>,
    mut changed: tokio::sync::mpsc::UnboundedReceiver<String>,
    board: &Mutex<Board>,
    tx: tokio::sync::watch::Sender<u64>,
) {
    while let Some(first) = changed.recv().await {
        let mut touched = BTreeSet::from([first]);
        let until = tokio::time::Instant::now() + DEBOUNCE;
        while let Ok(Some(ns)) = tokio::time::timeout_at(until, changed.recv()).await {
            touched.insert(ns);
        }
        let who: Vec<Learner> = touched
            .iter()
            .filter_map(|ns| namespaces.get(ns).cloned())
            .collect();
        let graded =
            crate::grade::grade_learners(exercises, &who, target, None, Reading::OneByOne, &|| {})
                .await;
        match graded {
            Ok((graded, _, calls)) => {
                let version = board.lock().map(|mut b| {
                    b.update(graded, calls, jiff::Timestamp::now());
                    b.version
                });
                if let Ok(v) = version {
                    let _ = tx.send(v);
                }
            }
            Err(e) => eprintln!(
                "kubelab: judging {} again failed: {e}",
                touched.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// Grades the class, serves the board and keeps it current until Ctrl-C.
pub async fn serve(
    exercises: &[&Exercise],
    learners: Vec<Learner>,
    target: &Target,
    serving: Serving,
    announce: impl FnOnce(&str),
) -> Result<(), Error> {
    let columns = crate::grade::columns(exercises);
    let (graded, _, calls) = crate::grade::grade_learners(
        exercises,
        &learners,
        target,
        None,
        Reading::ClassWide,
        &|| {},
    )
    .await?;
    let board = Arc::new(Mutex::new(Board::new(columns, graded, calls)));
    let (tx, rx) = tokio::sync::watch::channel(1u64);
    let listener = tokio::net::TcpListener::bind(serving.addr)
        .await
        .map_err(|e| Error::io(&format!("--serve {}", serving.addr), e))?;
    let server = http::run(listener, board.clone(), rx, serving.token.clone());
    announce(&serving.url());
    let (changed_tx, changed) = tokio::sync::mpsc::unbounded_channel::<String>();
    let namespaces: BTreeMap<String, Learner> = learners
        .iter()
        .filter_map(|l| Some((l.namespace.clone()?, l.clone())))
        .collect();
    let watch_calls = CallCount::default();
    let watches = watch::start(
        target,
        exercises,
        namespaces.keys().cloned().collect(),
        changed_tx,
        &watch_calls,
    )
    .await?;
    if let Ok(mut b) = board.lock() {
        b.api_calls += watch_calls.get();
    }
    let rejudge = rejudge(exercises, target, &namespaces, changed, &board, tx);
    tokio::select! {
        r = server => r,
        () = rejudge => Ok(()),
        _ = tokio::signal::ctrl_c() => Ok(()),
        () = watches => Ok(()),
    }
}
