//! Bundles: a snapshot saved by `kubelab collect` for judging later or elsewhere (`check
//! --from`, `grade --bundles`), sealed with a digest over what it claims to be. Format 2 holds
//! objects of any kind; format 1 bundles (Jobs, Pods, Events) still read and verify.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::course::Exercise;
use crate::error::{Diagnostic, Error};
use crate::snapshot::Snapshot;

/// Bundle format version: what `kubelab collect` writes. Format 2 added the lists of other
/// kinds (Deployments, Services, Secrets' keys...) to the snapshot.
pub const BUNDLE_VERSION: u32 = 2;
/// The formats this kubelab reads: format 1 holds Jobs, Pods and Events, read as they were.
pub const READS: &[u32] = &[1, 2];
/// Largest bundle kubelab reads.
pub const MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// A saved snapshot, for judging later or elsewhere.
#[derive(Debug, Serialize, Deserialize)]
pub struct Bundle {
    pub kubelab_bundle: u32,
    pub exercise: String,
    /// Who collected it (`kubelab collect --learner`): how a grader tells hand-ins apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learner: Option<String>,
    /// The exercise definition it was collected for ([`exercise_version`]): a bundle made for
    /// an older or changed exercise is not graded as if it were this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_version: Option<String>,
    /// `sha256:` of the snapshot's JSON (with the learner and course version when present):
    /// detects edits (it is a checksum, not a signature).
    pub digest: String,
    pub snapshot: Snapshot,
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::text::hex(&Sha256::digest(bytes))
}

/// Feeds serialised JSON straight into the hash: no copy of a large snapshot in memory.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sha256_of_json(value: &impl Serialize) -> String {
    let mut w = HashWriter(Sha256::new());
    serde_json::to_writer(&mut w, value).expect("bundle serialises");
    format!("sha256:{}", crate::text::hex(&w.0.finalize()))
}

/// The digest of a snapshot alone: what bundles without a learner id carry.
pub fn digest(snapshot: &Snapshot) -> String {
    sha256_of_json(snapshot)
}

/// What a sealed bundle's digest covers, in this order.
#[derive(Serialize)]
struct Sealed<'a> {
    exercise: &'a str,
    learner: &'a Option<String>,
    course_version: &'a Option<String>,
    snapshot: &'a Snapshot,
}

/// The digest a bundle should carry: over the snapshot, and over who and what it claims to be
/// when it says so, so that renaming a hand-in inside the file is detected too.
pub fn bundle_digest(b: &Bundle) -> String {
    if b.learner.is_none() && b.course_version.is_none() {
        return digest(&b.snapshot);
    }
    sha256_of_json(&Sealed {
        exercise: &b.exercise,
        learner: &b.learner,
        course_version: &b.course_version,
        snapshot: &b.snapshot,
    })
}

/// A short fingerprint of what an exercise judges (its targets and assertions), so a bundle
/// records which version of the exercise it was made for.
pub fn exercise_version(exercise: &Exercise) -> String {
    let mut assertions = serde_json::to_value(&exercise.file.assertions).expect("serialises");
    // How a failure is described (`logs.expects`) does not change what is judged.
    for a in assertions.as_array_mut().into_iter().flatten() {
        if let Some(logs) = a.get_mut("logs").and_then(Json::as_object_mut) {
            logs.remove("expects");
        }
    }
    let what = serde_json::json!({
        "id": exercise.id(),
        "targets": exercise.file.targets,
        "assertions": assertions,
    });
    let hex = sha256_hex(&serde_json::to_vec(&what).expect("exercise serialises"));
    hex[..16].to_owned()
}

pub fn bundle(exercise: &Exercise, learner: Option<String>, snapshot: Snapshot) -> Bundle {
    let mut b = Bundle {
        kubelab_bundle: BUNDLE_VERSION,
        exercise: exercise.id().to_owned(),
        learner,
        course_version: Some(exercise_version(exercise)),
        digest: String::new(),
        snapshot,
    };
    b.digest = bundle_digest(&b);
    b
}

/// Reads a bundle: bounded size, known version, intact digest.
pub fn read_bundle(path: &std::path::Path) -> Result<Bundle, Error> {
    let shown = path.display().to_string();
    let bytes = crate::error::read_bounded(path, MAX_BUNDLE_BYTES, "bundle")?;
    parse_bundle(bytes, &shown)
}

/// A bundle's bytes (`shown` names it in errors): known version, typed, every problem placed.
pub fn parse_bundle(mut bytes: Vec<u8>, shown: &str) -> Result<Bundle, Error> {
    // An editor may have saved it with a byte order mark; JSON has none.
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    // The common case, a well-formed bundle of this version, in one parse; anything else is
    // parsed again step by step to say exactly what is wrong.
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(&bytes)
        && READS.contains(&bundle.kubelab_bundle)
    {
        return Ok(bundle);
    }
    let head: Json = serde_json::from_slice(&bytes).map_err(|e| {
        let what = if e.is_eof() {
            "is truncated"
        } else {
            "is not valid JSON"
        };
        Error::input(
            Diagnostic::file(shown, format!("bundle {what}: {e}"))
                .at(e.line(), e.column())
                .with_help("collect it again with `kubelab collect EXERCISE --out FILE`"),
        )
    })?;
    check_version(&head, shown)?;
    let mut reader = serde_json::Deserializer::from_slice(&bytes);
    let bundle: Bundle = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let mut d = Diagnostic::file(shown, format!("bundle content is malformed: {inner}"))
            .at(inner.line(), inner.column())
            .with_help("collect it again with `kubelab collect EXERCISE --out FILE`; a bundle edited by hand is not evidence");
        if field != "." {
            d = d.field(field);
        }
        Error::input(d)
    })?;
    Ok(bundle)
}

/// The bundle format it says it is: one this kubelab reads, or what to do.
fn check_version(head: &Json, shown: &str) -> Result<(), Error> {
    let version = head.get("kubelab_bundle");
    match version.and_then(Json::as_u64) {
        Some(v) if READS.iter().any(|r| u64::from(*r) == v) => {}
        None if !head.is_object() => {
            return Err(Error::input(
                Diagnostic::file(
                    shown,
                    format!(
                        "is not a kubelab bundle: it holds a JSON {}, not an object",
                        json_kind(head)
                    ),
                )
                .whole_file()
                .with_help("bundles are written by `kubelab collect EXERCISE --out FILE`"),
            ));
        }
        None if version.is_some() => {
            return Err(Error::input(
                Diagnostic::file(
                    shown,
                    format!(
                        "`kubelab_bundle` is a JSON {}, not the bundle format's whole number",
                        json_kind(version.unwrap_or(&Json::Null))
                    ),
                )
                .field("kubelab_bundle")
                .with_help("a bundle says `\"kubelab_bundle\": 2`; collect it again with `kubelab collect EXERCISE --out FILE`"),
            ));
        }
        Some(v) => {
            return Err(Error::input(
                Diagnostic::file(shown, format!("bundle format {v} is not supported (this kubelab reads formats 1 and {BUNDLE_VERSION})"))
                    .field("kubelab_bundle")
                    .with_help("use the kubelab version that collected it, or collect again"),
            ));
        }
        None => {
            return Err(Error::input(
                Diagnostic::file(
                    shown,
                    "is not a kubelab bundle (no `kubelab_bundle` version)",
                )
                .field("kubelab_bundle")
                .with_help("bundles are written by `kubelab collect EXERCISE --out FILE`"),
            ));
        }
    }
    Ok(())
}

/// A bundle handed to `check EXERCISE --from` must be of that exercise.
pub fn expect_exercise(
    bundle: &Bundle,
    path: &std::path::Path,
    exercise: &str,
) -> Result<(), Error> {
    if bundle.exercise == exercise {
        return Ok(());
    }
    let theirs: String = crate::text::clean(&bundle.exercise)
        .chars()
        .take(80)
        .collect();
    Err(Error::input(
        Diagnostic::file(
            path.display().to_string(),
            format!("is a bundle of exercise `{theirs}`, not `{exercise}`"),
        )
        .field("exercise")
        .with_help(format!(
            "judge it as its own exercise (`kubelab check EXERCISE --from FILE`), or collect `{exercise}`: kubelab collect {exercise} --out FILE"
        )),
    ))
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "list",
        Json::Object(_) => "object",
    }
}

/// True when the bundle's snapshot is what was collected.
pub fn intact(bundle: &Bundle) -> bool {
    bundle_digest(bundle) == bundle.digest
}
