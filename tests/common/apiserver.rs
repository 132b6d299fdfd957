//! A local Kubernetes API server for tests: it replays responses recorded from real clusters
//! (`tests/fixtures/k8s-*/`) over real HTTP, to the real kube-rs client in the kubelab binary,
//! and records every request it saw so tests can assert that checking only reads.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

/// What the server replays.
#[derive(Clone, Default)]
pub struct Scenario {
    /// `k8s-1.24` or `k8s-1.36`.
    pub version: String,
    /// Namespace name to the recorded run folder (relative to the version folder).
    pub namespaces: HashMap<String, String>,
    /// Namespaces made of several recorded runs (their lists merged), e.g. the two Jobs of
    /// the race, recorded in namespaces of their own.
    pub merged: HashMap<String, Vec<String>>,
    /// Bearer token the server accepts; any other gets the recorded 401.
    pub token: Option<String>,
    /// Requests whose path contains the key answer with (status, recorded error file).
    pub faults: Vec<(String, u16, String)>,
    /// Namespaces that exist and hold nothing (any other namespace without a run does not
    /// exist: 404, as the cluster answers).
    pub empty_namespaces: Vec<String>,
    /// Answer `GET /api/v1/namespaces/kube-system` with this uid (else 404).
    pub kube_system_uid: Option<String>,
    /// Delay every answer (for time-outs).
    pub delay: Option<Duration>,
    /// Serve jobs LIST as empty (before the apply) and jobs WATCH from this run's recording.
    pub watch_run: Option<String>,
    /// Answer the first WATCH with the recorded 410 Expired event, as a server does when the
    /// resourceVersion is too old.
    pub watch_expired_once: bool,
    /// Answer requests whose path contains this with the 503 the real apiserver's aggregation
    /// proxy sends in plain text when an APIService's backend is down (recorded on 1.36).
    pub unavailable: Option<String>,
    /// Refuse server-side applies as the recorded cluster refused the seed's patch
    /// (`u3-unreliable-workers/patch.txt`: `field is immutable`).
    pub apply_immutable: bool,
    /// Jobs LIST is empty and WATCH stays open without events: a Job that never progresses.
    pub watch_hangs: bool,
    /// Refuse every WATCH with the recorded 403 (a Role without `watch`).
    pub watch_forbidden: bool,
    /// The Job in the way was created by kubelab (it carries kubelab's label).
    pub existing_is_kubelabs: bool,
    /// Labels of the namespaces (for `kubelab grade --namespace-selector`).
    pub namespace_labels: HashMap<String, Vec<(String, String)>>,
    /// Refuse cluster-wide LISTs with the recorded `at the cluster scope` 403, as for a user
    /// with namespaced Roles only.
    pub forbid_cluster_wide: bool,
}

pub struct ApiServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<String>>>,
    _runtime: std::thread::JoinHandle<()>,
}

struct Shared {
    scenario: Scenario,
    root: PathBuf,
    seen: Arc<Mutex<Vec<String>>>,
    job_lists: Mutex<usize>,
    watches: Mutex<usize>,
    patches: Mutex<usize>,
    deleted: Mutex<Vec<String>>,
}

impl ApiServer {
    pub fn start(scenario: Scenario) -> ApiServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            root: super::root().join("tests/fixtures").join(&scenario.version),
            scenario,
            seen: seen.clone(),
            job_lists: Mutex::new(0),
            watches: Mutex::new(0),
            patches: Mutex::new(0),
            deleted: Mutex::new(Vec::new()),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(shared);
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        ApiServer {
            addr,
            seen,
            _runtime: handle,
        }
    }

    /// A kubeconfig pointing at this server.
    pub fn kubeconfig(&self, dir: &std::path::Path, namespace: &str, token: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: http://{}\ncontexts:\n- name: recorded\n  context:\n    cluster: recorded\n    user: learner\n    namespace: {namespace}\ncurrent-context: recorded\nusers:\n- name: learner\n  user:\n    token: {token}\n",
            self.addr
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len() + 1
            && let Ok(b) = u8::from_str_radix(&s[i + 1..(i + 3).min(s.len())], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The recorded list file of a namespaced resource: `deployments` -> `deployments.DeploymentList.json`
/// (as `tests/fixtures/k8s-1.36/record-namespace.sh` writes them).
fn list_file(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "jobs" => "jobs.JobList.json",
        "pods" => "pods.PodList.json",
        "events" => "events.EventList.json",
        "deployments" => "deployments.DeploymentList.json",
        "replicasets" => "replicasets.ReplicaSetList.json",
        "cronjobs" => "cronjobs.CronJobList.json",
        "services" => "services.ServiceList.json",
        "endpointslices" => "endpointslices.EndpointSliceList.json",
        "configmaps" => "configmaps.ConfigMapList.json",
        "secrets" => "secrets.SecretList.json",
        _ => return None,
    })
}

fn file(shared: &Shared, rel: &str) -> Option<Vec<u8>> {
    std::fs::read(shared.root.join(rel)).ok()
}

/// A recorded answer of this version's cluster, or of the 1.36 cluster when only that one was
/// recorded (Status bodies and namespaces have the same shape on both).
fn recorded(shared: &Shared, rel: &str) -> Vec<u8> {
    file(shared, rel)
        .or_else(|| std::fs::read(shared.root.parent().unwrap().join("k8s-1.36").join(rel)).ok())
        .unwrap_or_else(|| panic!("nothing recorded as {rel}"))
}

/// A recorded JSON answer with some of its text replaced (a name, a uid).
fn recorded_as(shared: &Shared, rel: &str, replace: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from_utf8(recorded(shared, rel)).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    text.into_bytes()
}

/// The recorded answer for a path the API server does not serve.
fn not_found(shared: &Shared) -> Response {
    respond(
        404,
        recorded(shared, "errors/status-404-resource.json"),
        "application/json",
    )
}

fn respond(status: u16, body: Vec<u8>, content_type: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

fn error(shared: &Shared, status: u16, rel: &str) -> Response {
    let body =
        file(shared, &format!("errors/{rel}")).unwrap_or_else(|| panic!("no recorded error {rel}"));
    respond(status, body, "application/json")
}

/// An empty list as the cluster answers it (recorded from an empty namespace), or, for a
/// version without that recording, a recorded list of that kind with its items removed.
fn empty_list(shared: &Shared, rel: &str) -> Vec<u8> {
    let kind = rel.rsplit_once('.').map_or(rel, |(stem, _)| stem);
    let kind = kind.rsplit('.').next().unwrap_or(kind);
    if let Some(body) = file(shared, &format!("cluster/empty.{kind}.json")) {
        return body;
    }
    // Kinds recorded on 1.36 only (Unit 4's): the 1.36 cluster's empty list.
    if let Ok(body) = std::fs::read(
        shared
            .root
            .parent()
            .unwrap()
            .join("k8s-1.36/cluster")
            .join(format!("empty.{kind}.json")),
    ) {
        return body;
    }
    let recorded = std::fs::read_dir(&shared.root)
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("api").join(rel)).ok())
        .next()
        .unwrap_or_else(|| panic!("no recording of {rel} at all"));
    let mut v: serde_json::Value = serde_json::from_slice(&recorded).unwrap();
    v["items"] = serde_json::json!([]);
    serde_json::to_vec(&v).unwrap()
}

/// The runs recorded for a namespace.
fn runs_of(shared: &Shared, ns: &str) -> Vec<String> {
    shared
        .scenario
        .merged
        .get(ns)
        .cloned()
        .or_else(|| shared.scenario.namespaces.get(ns).map(|r| vec![r.clone()]))
        .unwrap_or_default()
}

/// The recorded Job `name` of the namespace in `path`, as the API server returns it from a write.
async fn recorded_job(shared: &Shared, path: &str, name: &str) -> Option<serde_json::Value> {
    let ns = path.split('/').nth(5).unwrap_or("");
    let listed = list(shared, &runs_of(shared, ns), "jobs.JobList.json");
    let bytes = axum::body::to_bytes(listed.into_body(), usize::MAX)
        .await
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    listed["items"]
        .as_array()?
        .iter()
        .find(|j| j["metadata"]["name"] == name)
        .cloned()
}

/// The recorded list of each run merged (or an empty list where a run recorded none: nothing
/// happened). Runs recorded without `api/` (race-loaded) have kubectl's `-o json` lists, which
/// hold the same objects.
fn list(shared: &Shared, runs: &[String], rel: &str) -> Response {
    let kubectl_name = match rel {
        "jobs.JobList.json" => "jobs.json",
        "pods.PodList.json" => "pods.json",
        "events.EventList.json" => "events.json",
        _ => "(no kubectl list)",
    };
    let mut merged: serde_json::Value = serde_json::from_slice(&empty_list(shared, rel)).unwrap();
    for run in runs {
        let body = file(shared, &format!("{run}/api/{rel}"))
            .or_else(|| file(shared, &format!("{run}/{kubectl_name}")));
        if let Some(body) = body {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if runs.len() == 1 && v["kind"] != "List" {
                return respond(200, body, "application/json");
            }
            let items = v["items"].as_array().cloned().unwrap_or_default();
            merged["items"].as_array_mut().unwrap().extend(items);
        }
    }
    respond(
        200,
        serde_json::to_vec(&merged).unwrap(),
        "application/json",
    )
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let watch = query.get("watch").is_some_and(|v| v == "true" || v == "1");
    let verb = match (&method, watch) {
        (&Method::GET, true) => "WATCH",
        (&Method::GET, false) => "GET",
        (m, _) => m.as_str(),
    };
    shared
        .seen
        .lock()
        .unwrap()
        .push(format!("{verb} {}", req.uri()));
    if let Some(d) = shared.scenario.delay {
        tokio::time::sleep(d).await;
    }
    if let Some(token) = &shared.scenario.token {
        let given = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if given != format!("Bearer {token}") {
            return error(&shared, 401, "status-401.json");
        }
    }
    if watch && shared.scenario.watch_forbidden {
        return error(&shared, 403, "status-403-jobs.json");
    }
    for (key, status, rel) in &shared.scenario.faults {
        if path.contains(key.as_str()) {
            return error(&shared, *status, rel);
        }
    }
    if let Some(key) = &shared.scenario.unavailable
        && path.contains(key.as_str())
    {
        return respond(
            503,
            recorded(&shared, "errors/plain-503-service-unavailable.txt"),
            "text/plain; charset=utf-8",
        );
    }
    if method == Method::PATCH {
        let name = path.rsplit('/').next().unwrap_or("").to_owned();
        let first_patch = {
            let mut n = shared.patches.lock().unwrap();
            *n += 1;
            *n == 1
        };
        // Only the first apply meets the old Job; after a delete the name is free.
        if shared.scenario.apply_immutable && first_patch {
            // The real cluster's refusal of a changed `completions` (recorded by a server-side
            // apply like kubelab's), for this Job's name.
            return respond(
                422,
                recorded_as(
                    &shared,
                    "errors/status-422-immutable-completions.json",
                    &[("unreliable-workers", &name)],
                ),
                "application/json",
            );
        }
        return match recorded_job(&shared, &path, &name).await {
            Some(job) => respond(201, serde_json::to_vec(&job).unwrap(), "application/json"),
            None => error(&shared, 404, "status-404-job.json"),
        };
    }
    if method == Method::DELETE {
        // A Job deletion answers with the object as it was (the recorded one).
        let name = path.rsplit('/').next().unwrap_or("").to_owned();
        shared.deleted.lock().unwrap().push(name.clone());
        return match recorded_job(&shared, &path, &name).await {
            Some(job) => respond(200, serde_json::to_vec(&job).unwrap(), "application/json"),
            None => error(&shared, 404, "status-404-job.json"),
        };
    }
    if method != Method::GET {
        return respond(
            405,
            recorded(&shared, "errors/status-405.json"),
            "application/json",
        );
    }
    if path == "/version" {
        return respond(
            200,
            file(&shared, "cluster/version.json").unwrap(),
            "application/json",
        );
    }
    if path == "/api/v1/namespaces/kube-system" {
        return match &shared.scenario.kube_system_uid {
            Some(uid) => respond(
                200,
                recorded_as(
                    &shared,
                    "cluster/namespace-kube-system.json",
                    &[("96ea23a9-68c9-4f86-90e5-c37b15355e59", uid)],
                ),
                "application/json",
            ),
            None => respond(
                404,
                recorded_as(
                    &shared,
                    "errors/status-404-namespace.json",
                    &[("u-dave", "kube-system")],
                ),
                "application/json",
            ),
        };
    }
    if let Some(answer) = cluster_wide(&shared, &path, &query).await {
        return answer;
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (ns, rest): (&str, Vec<&str>) = match parts.as_slice() {
        ["apis", _, _, "namespaces", ns, rest @ ..] => (ns, rest.to_vec()),
        ["api", "v1", "namespaces", ns, rest @ ..] => (ns, rest.to_vec()),
        _ => return not_found(&shared),
    };
    let runs = runs_of(&shared, ns);
    let run = runs.first().cloned();
    match (rest.as_slice(), run) {
        // A namespace that holds a run, or one the scenario keeps empty: the recorded object.
        ([], found)
            if found.is_some() || shared.scenario.empty_namespaces.iter().any(|e| e == ns) =>
        {
            respond(
                200,
                recorded_as(
                    &shared,
                    "cluster/namespace-u-alice.json",
                    &[("u-alice", ns)],
                ),
                "application/json",
            )
        }
        (["jobs"], Some(_)) if watch && shared.scenario.watch_hangs => {
            let stream =
                futures::stream::pending::<Result<axum::body::Bytes, std::convert::Infallible>>();
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        (["pods"], Some(_)) if watch && shared.scenario.watch_hangs => {
            let stream =
                futures::stream::pending::<Result<axum::body::Bytes, std::convert::Infallible>>();
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        (["jobs"], Some(_)) if shared.scenario.watch_hangs && query.contains_key("limit") => {
            respond(
                200,
                empty_list(&shared, "jobs.JobList.json"),
                "application/json",
            )
        }
        (["jobs"], Some(run)) if watch => {
            let first = {
                let mut n = shared.watches.lock().unwrap();
                *n += 1;
                *n == 1
            };
            if first && shared.scenario.watch_expired_once {
                let mut body = file(&shared, "errors/status-410-watch.json").unwrap();
                body.push(b'\n');
                return respond(200, body, "application/json");
            }
            let watch_run = shared.scenario.watch_run.clone().unwrap_or(run);
            let text = String::from_utf8(
                file(&shared, &format!("{watch_run}/api/jobs.watch.jsonl")).unwrap(),
            )
            .unwrap();
            let lines: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
            let stream = futures::stream::iter(
                lines
                    .into_iter()
                    .map(|l| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(l))),
            );
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        (["jobs"], Some(run)) => {
            if shared.scenario.watch_run.is_some() {
                let mut n = shared.job_lists.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    // Before the apply: nothing yet, at the recorded resourceVersion.
                    let mut v: serde_json::Value =
                        serde_json::from_slice(&empty_list(&shared, "jobs.JobList.json")).unwrap();
                    let readme = String::from_utf8(
                        file(&shared, &format!("{run}/api/README")).unwrap_or_default(),
                    )
                    .unwrap();
                    if let Some(rv) = readme.trim().strip_prefix("resourceVersion=") {
                        v["metadata"]["resourceVersion"] = rv.into();
                    }
                    return respond(200, serde_json::to_vec(&v).unwrap(), "application/json");
                }
            }
            let _ = run;
            let all = list(&shared, &runs, "jobs.JobList.json");
            match query.get("labelSelector") {
                None => all,
                Some(sel) => {
                    let sel = percent_decode(sel);
                    let mut v: serde_json::Value = serde_json::from_slice(
                        &axum::body::to_bytes(all.into_body(), usize::MAX)
                            .await
                            .unwrap(),
                    )
                    .unwrap();
                    let keep: Vec<serde_json::Value> = v["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|j| {
                            sel.split(',').all(|part| match part.split_once('=') {
                                Some((k, val)) => j["metadata"]["labels"][k] == val,
                                None => !j["metadata"]["labels"][part].is_null(),
                            })
                        })
                        .cloned()
                        .collect();
                    v["items"] = keep.into();
                    respond(200, serde_json::to_vec(&v).unwrap(), "application/json")
                }
            }
        }
        (["jobs", name], Some(_)) => {
            if shared.deleted.lock().unwrap().iter().any(|d| d == name) {
                return error(&shared, 404, "status-404-job.json");
            }
            match recorded_job(&shared, &path, name).await {
                Some(mut job) => {
                    if shared.scenario.existing_is_kubelabs {
                        job["metadata"]["labels"]["kubelab.dev/exercise"] =
                            "parallel-processing".into();
                    }
                    respond(200, serde_json::to_vec(&job).unwrap(), "application/json")
                }
                None => error(&shared, 404, "status-404-job.json"),
            }
        }
        (["pods"], Some(_)) if watch => {
            let watch_run = shared
                .scenario
                .watch_run
                .clone()
                .unwrap_or_else(|| runs[0].clone());
            match file(&shared, &format!("{watch_run}/api/pods.watch.jsonl")) {
                Some(bytes) => {
                    let text = String::from_utf8(bytes).unwrap();
                    let lines: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
                    let stream =
                        futures::stream::iter(lines.into_iter().map(|l| {
                            Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(l))
                        }));
                    Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }
                None => respond(200, Vec::new(), "application/json"),
            }
        }
        (["pods"], Some(_)) => {
            if shared.scenario.watch_run.is_some() {
                // Before the apply there were no pods.
                let mut v: serde_json::Value =
                    serde_json::from_slice(&empty_list(&shared, "pods.PodList.json")).unwrap();
                let readme = String::from_utf8(
                    file(&shared, &format!("{}/api/README", runs[0])).unwrap_or_default(),
                )
                .unwrap();
                if let Some(rv) = readme.trim().strip_prefix("resourceVersion=") {
                    v["metadata"]["resourceVersion"] = rv.into();
                }
                if query.contains_key("labelSelector") {
                    return respond(200, serde_json::to_vec(&v).unwrap(), "application/json");
                }
            }
            list(&shared, &runs, "pods.PodList.json")
        }
        (["events"], Some(_)) => list(&shared, &runs, "events.EventList.json"),
        (["pods", pod, "log"], Some(_)) => {
            let container = query.get("container").cloned().unwrap_or_default();
            let recorded_log = |r: &String| {
                file(&shared, &format!("{r}/logs/{pod}__{container}.log"))
                    .or_else(|| file(&shared, &format!("{r}/logs/{pod}.log")))
            };
            match runs.iter().find_map(recorded_log) {
                Some(mut bytes) => {
                    if let Some(n) = query.get("tailLines").and_then(|v| v.parse::<usize>().ok()) {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        let lines: Vec<&str> = text.lines().collect();
                        let keep = &lines[lines.len().saturating_sub(n)..];
                        bytes = keep
                            .iter()
                            .map(|l| format!("{l}\n"))
                            .collect::<String>()
                            .into_bytes();
                    }
                    if let Some(n) = query
                        .get("limitBytes")
                        .and_then(|v| v.parse::<usize>().ok())
                    {
                        bytes.truncate(n);
                    }
                    respond(200, bytes, "text/plain")
                }
                None => error(&shared, 404, "status-404-log.json"),
            }
        }
        ([resource], Some(_)) if !watch && list_file(resource).is_some() => {
            let rel = list_file(resource).expect("checked");
            let all = list(&shared, &runs, rel);
            match query.get("labelSelector") {
                None => all,
                Some(sel) => select(all, &percent_decode(sel)).await,
            }
        }
        ([resource], None) if list_file(resource).is_some() => respond(
            200,
            empty_list(&shared, list_file(resource).expect("checked")),
            "application/json",
        ),
        ([], None) => match file(&shared, "errors/status-404-namespace.json") {
            // The recorded answer for a namespace that does not exist, for this name.
            Some(body) => {
                let text = String::from_utf8(body).unwrap().replace("u-dave", ns);
                respond(404, text.into_bytes(), "application/json")
            }
            None => not_found(&shared),
        },
        (["jobs"], None) => respond(
            200,
            empty_list(&shared, "jobs.JobList.json"),
            "application/json",
        ),
        (["pods"], None) => respond(
            200,
            empty_list(&shared, "pods.PodList.json"),
            "application/json",
        ),
        (["events"], None) => respond(
            200,
            empty_list(&shared, "events.EventList.json"),
            "application/json",
        ),
        _ => not_found(&shared),
    }
}

/// A recorded list answer filtered by a label selector, as the API server filters it.
async fn select(all: Response, sel: &str) -> Response {
    let mut v: serde_json::Value = serde_json::from_slice(
        &axum::body::to_bytes(all.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    let keep: Vec<serde_json::Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            sel.split(',').all(|part| match part.split_once('=') {
                Some((k, val)) => j["metadata"]["labels"][k] == val,
                None => !j["metadata"]["labels"][part].is_null(),
            })
        })
        .cloned()
        .collect();
    v["items"] = keep.into();
    respond(200, serde_json::to_vec(&v).unwrap(), "application/json")
}

/// Every namespace the scenario serves, in name order.
fn all_namespaces(shared: &Shared) -> Vec<String> {
    let mut names: Vec<String> = shared
        .scenario
        .namespaces
        .keys()
        .chain(shared.scenario.merged.keys())
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Cluster-wide LISTs (all namespaces): every namespace's recorded list merged, each item
/// moved into the namespace it is served from; the namespace list is the recorded one's shape
/// with one item per served namespace.
async fn cluster_wide(
    shared: &Shared,
    path: &str,
    query: &HashMap<String, String>,
) -> Option<Response> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let resource = match parts.as_slice() {
        ["api", "v1", "namespaces"] => "namespaces",
        ["api", "v1", r] | ["apis", _, _, r] => r,
        _ => return None,
    };
    let rel = match resource {
        "namespaces" => "namespaces",
        r => list_file(r)?,
    };
    if shared.scenario.forbid_cluster_wide {
        return Some(error(shared, 403, "status-403-cluster-scope.json"));
    }
    if rel == "namespaces" {
        return Some(namespace_list(
            shared,
            query.get("labelSelector").map(|s| percent_decode(s)),
        ));
    }
    let mut merged: serde_json::Value = serde_json::from_slice(&empty_list(shared, rel)).unwrap();
    for ns in all_namespaces(shared) {
        let listed = list(shared, &runs_of(shared, &ns), rel);
        let bytes = axum::body::to_bytes(listed.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for mut item in v["items"].as_array().cloned().unwrap_or_default() {
            item["metadata"]["namespace"] = ns.clone().into();
            if item.get("involvedObject").is_some() {
                item["involvedObject"]["namespace"] = ns.clone().into();
            }
            merged["items"].as_array_mut().unwrap().push(item);
        }
    }
    Some(respond(
        200,
        serde_json::to_vec(&merged).unwrap(),
        "application/json",
    ))
}

fn namespace_list(shared: &Shared, selector: Option<String>) -> Response {
    let mut list: serde_json::Value =
        serde_json::from_slice(&file(shared, "cluster/namespaces.NamespaceList.json").unwrap())
            .unwrap();
    let template = list["items"][0].clone();
    let mut items = Vec::new();
    for ns in all_namespaces(shared) {
        let labels: serde_json::Map<String, serde_json::Value> = shared
            .scenario
            .namespace_labels
            .get(&ns)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .chain([("kubernetes.io/metadata.name".to_owned(), ns.clone().into())])
            .collect();
        let keep = selector.as_deref().is_none_or(|sel| {
            sel.split(',').all(|part| match part.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|l| l == v),
                None => labels.contains_key(part),
            })
        });
        if keep {
            let mut item = template.clone();
            item["metadata"]["name"] = ns.clone().into();
            item["metadata"]["labels"] = labels.into();
            item["metadata"]["uid"] = format!("00000000-0000-0000-0000-{:012}", items.len()).into();
            items.push(item);
        }
    }
    list["items"] = items.into();
    respond(200, serde_json::to_vec(&list).unwrap(), "application/json")
}
