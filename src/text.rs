//! Untrusted text made safe to show: what pod logs, learner files and Event messages say
//! reaches the terminal, the gradebook and the site only through here.

/// Makes text that came from outside (pod logs, learner files, Event messages) safe for a
/// terminal: control characters, escape sequences and bidirectional overrides are shown as
/// visible escapes (`\e[31m`) instead of being interpreted, so the learner sees what is there.
/// Bytes as lower-case hex: digests, tokens, short hashes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '\u{1b}' => out.push_str("\\e"),
            '\u{7}' => out.push_str("\\a"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// The first `n` items and how many more: `a, b, c and 4 more`.
pub fn list_more(items: &[String], n: usize) -> String {
    let shown: Vec<&str> = items.iter().take(n).map(String::as_str).collect();
    let more = items.len().saturating_sub(n);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Hides Secret values wherever text from the cluster may repeat them (a pod that prints its
/// password, an Event quoting it): each value read from a Secret, and its base64 form, is
/// replaced by the Secret's name and key. Values shorter than four bytes are not hidden: they
/// cannot be told from ordinary text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<(String, String)>,
}

impl Redactor {
    pub const MIN_LEN: usize = 4;

    /// Remembers a Secret's value (its decoded bytes and the base64 the API serves).
    pub fn add(&mut self, value: &[u8], encoded: &str, secret: &str, key: &str) {
        let label = format!("[value of Secret {secret} key {key}]");
        let text = String::from_utf8_lossy(value).into_owned();
        for v in [text.trim().to_owned(), text, encoded.to_owned()] {
            if v.len() >= Self::MIN_LEN && !self.values.iter().any(|(x, _)| *x == v) {
                self.values.push((v, label.clone()));
            }
        }
        // Longest first, so that a value containing another is hidden whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.0.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Replaces remembered values in every string of a JSON value; true when one was found.
    pub fn scrub_json(&self, v: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                let clean = self.scrub(s);
                let changed = clean != *s;
                *s = clean;
                changed
            }
            // Every element is scrubbed: no stopping at the first change.
            Value::Array(items) => {
                let mut changed = false;
                for i in items.iter_mut() {
                    changed |= self.scrub_json(i);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                for i in map.values_mut() {
                    changed |= self.scrub_json(i);
                }
                changed
            }
            _ => false,
        }
    }

    /// The text with every remembered value replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (v, label) in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), label);
            }
        }
        out
    }
}

/// A count with its noun agreeing: `1 Job`, `2 Jobs`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn format_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// A duration as the learner reads it: `9.5s`, `1m`, `1m30s`.
/// Seconds as [`format_duration`] shows them; a number no duration can hold (an answer of
/// `1e300`) is shown as the number.
pub fn format_seconds(secs: f64) -> String {
    match jiff::SignedDuration::try_from_secs_f64(secs) {
        Ok(d) => format_duration(d),
        Err(_) => format!("{}s", format_number(secs)),
    }
}

pub fn format_duration(d: jiff::SignedDuration) -> String {
    let total = d.as_secs_f64();
    if total < 60.0 {
        return format!("{}s", format_number((total * 10.0).round() / 10.0));
    }
    let secs = total.round() as i64;
    if secs >= 86_400 {
        let (d, h) = (secs / 86_400, secs % 86_400 / 3600);
        return if h == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{h}h")
        };
    }
    if secs >= 3600 {
        let (h, m) = (secs / 3600, secs % 3600 / 60);
        return if m == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{m}m")
        };
    }
    let (m, s) = (secs / 60, secs % 60);
    if s == 0 {
        format!("{m}m")
    } else {
        format!("{m}m{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::{Redactor, count};

    #[test]
    fn secret_values_are_hidden_in_text() {
        let mut r = Redactor::default();
        r.add(b"s3cr3t-pass", "czNjcjN0LXBhc3M=", "db", "password");
        r.add(b"abc", "YWJj", "db", "pin");
        assert_eq!(
            r.scrub("password is s3cr3t-pass (czNjcjN0LXBhc3M=), pin abc"),
            "password is [value of Secret db key password] ([value of Secret db key password]), pin abc"
        );
    }

    #[test]
    fn durations_read_as_a_person_writes_them() {
        let d = |s: i64| super::format_duration(jiff::SignedDuration::from_secs(s));
        assert_eq!(
            [d(9), d(90), d(3600), d(28_680), d(90_000)],
            ["9s", "1m30s", "1h", "7h58m", "1d1h"]
        );
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, "Job", "Jobs"), "1 Job");
        assert_eq!(count(0, "Job", "Jobs"), "0 Jobs");
        assert_eq!(count(20, "pod", "pods"), "20 pods");
    }
}
