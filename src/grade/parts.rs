//! A shard's gradebook carried in its pod's log, so an Indexed Job's shards need no shared
//! volume: `grade --shard I/N --out -` frames `gradebook.json` as base64 lines between a
//! header (shard, length, SHA-256) and an end line; `grade merge --job` (module `job`) finds
//! the frame among whatever else the container printed, checks it and hands back the
//! gradebook. Pure text in, text out; untrusted (a log is whatever the pod wrote): bounded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::Shard;

const PREFIX: &str = "kubelab-part";
/// Base64 characters per line: short lines survive every log pipeline (containerd splits
/// lines longer than 16 KiB).
const LINE: usize = 76;
/// Largest gradebook a part carries. The kubelet keeps at most `containerLogMaxSize` (10 MiB
/// by default) of a container's log in the file its log API reads, and base64 adds a third:
/// a larger class needs more shards.
pub const MAX_PART_BYTES: usize = 7 * 1024 * 1024;
/// Most of a pod's log `grade merge --job` reads.
pub const MAX_LOG_BYTES: usize = 12 * 1024 * 1024;

/// Frames a gradebook (the bytes of `gradebook.json`) for a log.
pub fn encode(json: &[u8], shard: Shard) -> String {
    let digest = crate::text::hex(&Sha256::digest(json));
    let body = STANDARD.encode(json);
    let mut out = format!(
        "{PREFIX} begin shard={shard} bytes={} sha256={digest}\n",
        json.len()
    );
    for chunk in body.as_bytes().chunks(LINE) {
        out.push_str(PREFIX);
        out.push_str(" data ");
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(PREFIX);
    out.push_str(" end\n");
    out
}

/// A part as found in a log: which shard it says it is, and its checked bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub shard: Shard,
    pub json: Vec<u8>,
}

/// Why a log holds no usable part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    #[error("its log holds no kubelab part (was the shard run with `--out -`?)")]
    Absent,
    #[error("its log holds two kubelab parts (lines {first} and {second}); one pod writes one")]
    Twice { first: usize, second: usize },
    #[error("the part's header on line {line} cannot be read: {why}")]
    Header { line: usize, why: String },
    #[error(
        "the part that starts on line {line} has no end: the log was cut short (the kubelet keeps \
         only `containerLogMaxSize` of it, 10 MiB by default) or the pod was stopped"
    )]
    Unfinished { line: usize },
    #[error("the part says it holds {declared} bytes, more than the {MAX_PART_BYTES} a part may")]
    TooLarge { declared: usize },
    #[error("the part's data on line {line} is not base64")]
    Base64 { line: usize },
    #[error("the part holds {found} bytes but says {declared}: it was cut or changed")]
    Length { declared: usize, found: usize },
    #[error("the part's SHA-256 is {found}, not the {declared} it says: it was changed")]
    Digest { declared: String, found: String },
}

struct Header {
    line: usize,
    shard: Shard,
    bytes: usize,
    sha256: String,
}

/// Finds and checks the one part in a pod's log.
pub fn decode(log: &str) -> Result<Part, PartError> {
    let mut header: Option<Header> = None;
    let mut body = String::new();
    let mut found: Option<(Header, String)> = None;
    for (n, raw) in log.lines().enumerate() {
        let line = n + 1;
        let Some(rest) = raw.trim_end_matches('\r').strip_prefix(PREFIX) else {
            continue; // whatever else the container printed (its summary on stderr)
        };
        let rest = rest.trim_start();
        if let Some(fields) = rest.strip_prefix("begin") {
            if let Some((first, _)) = &found {
                return Err(PartError::Twice {
                    first: first.line,
                    second: line,
                });
            }
            if let Some(open) = &header {
                return Err(PartError::Unfinished { line: open.line });
            }
            header = Some(parse_header(fields, line)?);
            body.clear();
        } else if let Some(data) = rest.strip_prefix("data") {
            let Some(open) = &header else { continue };
            if body.len() > open.bytes.div_ceil(3) * 4 {
                return Err(PartError::Length {
                    declared: open.bytes,
                    found: body.len() / 4 * 3,
                });
            }
            body.push_str(data.trim());
        } else if rest == "end"
            && let Some(open) = header.take()
        {
            found = Some((open, std::mem::take(&mut body)));
        }
    }
    if let Some(open) = header {
        return Err(PartError::Unfinished { line: open.line });
    }
    let (header, body) = found.ok_or(PartError::Absent)?;
    let json = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| PartError::Base64 { line: header.line })?;
    if json.len() != header.bytes {
        return Err(PartError::Length {
            declared: header.bytes,
            found: json.len(),
        });
    }
    let digest = crate::text::hex(&Sha256::digest(&json));
    if digest != header.sha256 {
        return Err(PartError::Digest {
            declared: header.sha256,
            found: digest,
        });
    }
    Ok(Part {
        shard: header.shard,
        json,
    })
}

fn parse_header(fields: &str, line: usize) -> Result<Header, PartError> {
    let bad = |why: String| PartError::Header { line, why };
    let (mut shard, mut bytes, mut sha256) = (None, None, None);
    for field in fields.split_whitespace() {
        match field.split_once('=') {
            Some(("shard", v)) => {
                shard = Some(
                    Shard::parse(v).map_err(|_| bad(format!("shard=`{}` is not I/N", clip(v))))?,
                )
            }
            Some(("bytes", v)) => {
                bytes = Some(
                    v.parse::<usize>()
                        .map_err(|_| bad(format!("bytes=`{}` is not a size", clip(v))))?,
                )
            }
            Some(("sha256", v)) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                sha256 = Some(v.to_ascii_lowercase())
            }
            _ => return Err(bad(format!("unknown field `{}`", clip(field)))),
        }
    }
    let (Some(shard), Some(bytes), Some(sha256)) = (shard, bytes, sha256) else {
        return Err(bad("it needs shard=I/N, bytes=N and sha256=HEX".into()));
    };
    if bytes > MAX_PART_BYTES {
        return Err(PartError::TooLarge { declared: bytes });
    }
    Ok(Header {
        line,
        shard,
        bytes,
        sha256,
    })
}

/// At most 40 characters of untrusted text, cleaned for a terminal.
fn clip(text: &str) -> String {
    crate::text::clean(&text.chars().take(40).collect::<String>())
}

/// Which completion indexes of `completions` have no succeeded pod, and which have more
/// than one: a merge must have exactly one part per index.
pub fn index_problems(completions: u32, indexes: &[(String, u32)]) -> Vec<String> {
    let mut problems = Vec::new();
    for index in 0..completions {
        let pods: Vec<&str> = indexes
            .iter()
            .filter(|(_, i)| *i == index)
            .map(|(pod, _)| pod.as_str())
            .collect();
        match pods.as_slice() {
            [] => problems.push(format!("index {index} has no succeeded pod")),
            [_] => {}
            many => problems.push(format!(
                "index {index} has {} succeeded pods ({}): its part would count twice",
                many.len(),
                many.join(", ")
            )),
        }
    }
    for (pod, index) in indexes.iter().filter(|(_, i)| *i >= completions) {
        problems.push(format!(
            "pod {pod} has index {index}, outside the Job's {completions} completions"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(text: &str) -> Shard {
        Shard::parse(text).unwrap()
    }

    #[test]
    fn a_part_survives_a_log_with_other_lines_and_crlf() {
        let json = br#"{"kubelab_gradebook":2,"learners":[]}"#.repeat(40);
        let framed = encode(&json, shard("2/4"));
        let log = format!(
            "graded 3 learners\n{}note: done\n",
            framed.replace('\n', "\r\n")
        );
        let part = decode(&log).unwrap();
        assert_eq!(part.shard, shard("2/4"));
        assert_eq!(part.json, json);
        let data = framed.lines().filter(|l| l.contains(" data "));
        assert!(data.clone().count() > 1);
        assert!(data.into_iter().all(|l| l.len() <= LINE + 20));
    }

    #[test]
    fn a_changed_cut_or_doubled_part_is_refused() {
        let framed = encode(b"{\"a\": 1}", shard("0/2"));
        assert_eq!(decode("just a log\n"), Err(PartError::Absent));
        let cut: String = framed.lines().take(2).map(|l| format!("{l}\n")).collect();
        assert_eq!(decode(&cut), Err(PartError::Unfinished { line: 1 }));
        assert!(matches!(
            decode(&format!("{framed}{framed}")),
            Err(PartError::Twice {
                first: 1,
                second: 4
            })
        ));
        // One byte changed in the data, the length kept: the digest catches it.
        let data = framed.lines().nth(1).unwrap();
        let changed = data.replacen("eyJh", "eyJi", 1);
        assert_ne!(data, changed);
        assert!(matches!(
            decode(&framed.replace(data, &changed)),
            Err(PartError::Digest { .. })
        ));
        let longer = framed.replace("bytes=8", "bytes=9");
        assert!(matches!(decode(&longer), Err(PartError::Length { .. })));
        let huge = framed.replace("bytes=8", "bytes=99999999999");
        assert!(matches!(decode(&huge), Err(PartError::TooLarge { .. })));
        let odd = framed.replace("shard=0/2", "shard=\u{1b}[31m");
        let err = decode(&odd).unwrap_err().to_string();
        assert!(err.contains("line 1") && !err.contains('\u{1b}'), "{err}");
    }

    #[test]
    fn every_index_needs_exactly_one_succeeded_pod() {
        let pods = |list: &[(&str, u32)]| -> Vec<(String, u32)> {
            list.iter().map(|(p, i)| (p.to_string(), *i)).collect()
        };
        assert!(index_problems(2, &pods(&[("a", 0), ("b", 1)])).is_empty());
        assert_eq!(
            index_problems(3, &pods(&[("a", 0), ("b", 2), ("c", 2), ("d", 7)])),
            [
                "index 1 has no succeeded pod",
                "index 2 has 2 succeeded pods (b, c): its part would count twice",
                "pod d has index 7, outside the Job's 3 completions",
            ]
        );
    }
}
