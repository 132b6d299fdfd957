//! The board's web server: the page, its state as JSON, the updates as Server-Sent Events and
//! a learner's feedback. Only GETs; on an address other than loopback every request needs the
//! token kubelab printed (no token, no page).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Board;
use crate::error::Error;

#[derive(Clone)]
struct Shared {
    board: Arc<Mutex<Board>>,
    versions: tokio::sync::watch::Receiver<u64>,
    token: Option<String>,
}

/// A token no one can guess: 128 bits from the operating system.
pub fn new_token() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Usage(format!("no randomness for a token: {e}")))?;
    Ok(crate::text::hex(&bytes))
}

fn allowed(shared: &Shared, query: &HashMap<String, String>) -> bool {
    match &shared.token {
        None => true,
        Some(t) => query
            .get("token")
            .is_some_and(|given| constant_time_eq(given.as_bytes(), t.as_bytes())),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "kubelab: this class board needs its token: open the URL `kubelab grade --serve` printed\n",
    )
        .into_response()
}

async fn page(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    if !allowed(&s, &q) {
        return refused();
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, super::page::CSP),
        ],
        super::page::HTML,
    )
        .into_response()
}

async fn state(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    if !allowed(&s, &q) {
        return refused();
    }
    let view = s.board.lock().map(|b| b.view());
    match view {
        Ok(v) => axum::Json(v).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn events(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    if !allowed(&s, &q) {
        return refused();
    }
    let board = s.board.clone();
    let versions = s.versions.clone();
    let stream = futures::stream::unfold(versions, move |mut rx| {
        let board = board.clone();
        async move {
            rx.changed().await.ok()?;
            let view = board.lock().ok()?.view();
            let data = serde_json::to_string(&view).ok()?;
            Some((
                Ok::<_, Infallible>(Event::default().event("board").data(data)),
                rx,
            ))
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn feedback(
    State(s): State<Shared>,
    Path(learner): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !allowed(&s, &q) {
        return refused();
    }
    let text = s.board.lock().ok().and_then(|b| b.feedback(&learner));
    match text {
        Some(t) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], t).into_response(),
        None => (StatusCode::NOT_FOUND, "no such learner\n").into_response(),
    }
}

/// Serves until the listener fails.
pub async fn run(
    listener: tokio::net::TcpListener,
    board: Arc<Mutex<Board>>,
    versions: tokio::sync::watch::Receiver<u64>,
    token: Option<String>,
) -> Result<(), Error> {
    let shared = Shared {
        board,
        versions,
        token,
    };
    let app = Router::new()
        .route("/", get(page))
        .route("/state", get(state))
        .route("/events", get(events))
        .route("/feedback/{learner}", get(feedback))
        .with_state(shared);
    axum::serve(listener, app)
        .await
        .map_err(|e| Error::io("the class board's server", e))
}
