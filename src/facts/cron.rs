//! CronJob schedules as Kubernetes reads them: the standard five fields of robfig/cron (the
//! parser the API server validates with and the CronJob controller schedules with), its
//! descriptors (`@hourly`, `@every 5m`...), with the API server's own error messages, and when
//! a schedule fires next, in the CronJob's time zone. `0 0 30 2 *` is valid and never fires.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const STAR: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Fields {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
    },
    /// `@every 5m`: a fixed delay.
    Every(SignedDuration),
}

/// Parses a schedule; the error is the API server's: `expected exactly 5 fields, found 4: [0 0 * *]`.
pub fn parse(spec: &str) -> Result<Schedule, String> {
    let spec = spec.trim();
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        return Err("cannot use TZ or CRON_TZ in schedule, use timeZone field instead".into());
    }
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    if let Some(d) = spec.strip_prefix('@') {
        return descriptor(d, spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    Ok(Schedule::Fields {
        minute: field(fields[0], &MINUTES)?,
        hour: field(fields[1], &HOURS)?,
        dom: field(fields[2], &DOM)?,
        month: field(fields[3], &MONTHS)?,
        dow: field(fields[4], &DOW)?,
    })
}

fn descriptor(d: &str, spec: &str) -> Result<Schedule, String> {
    let fields = match d {
        "yearly" | "annually" => "0 0 1 1 *",
        "monthly" => "0 0 1 * *",
        "weekly" => "0 0 * * 0",
        "daily" | "midnight" => "0 0 * * *",
        "hourly" => "0 * * * *",
        _ => {
            if let Some(rest) = d.strip_prefix("every ") {
                let dur = go_duration(rest.trim()).ok_or_else(|| {
                    format!(
                        "failed to parse duration {spec}: time: invalid duration \"{}\"",
                        rest.trim()
                    )
                })?;
                return Ok(Schedule::Every(dur));
            }
            return Err(format!("unrecognized descriptor: {spec}"));
        }
    };
    parse(fields)
}

/// A Go duration: `5m`, `1h30m`, `90s`.
fn go_duration(text: &str) -> Option<SignedDuration> {
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    SignedDuration::try_from_secs_f64(total).ok()
}

fn field(expr: &str, b: &Bounds) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in expr.split(',') {
        bits |= range(part, b)?;
    }
    Ok(bits)
}

fn int_or_name(text: &str, b: &Bounds) -> Result<u32, String> {
    let lower = text.to_lowercase();
    if let Some(i) = b.names.iter().position(|n| !n.is_empty() && *n == lower) {
        return Ok(i as u32);
    }
    must_int(text)
}

fn must_int(text: &str) -> Result<u32, String> {
    match text.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {text}")),
        Ok(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
        Err(_) => Err(format!(
            "failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": invalid syntax"
        )),
    }
}

/// One comma-separated part: `*`, `?`, `a`, `a-b`, with an optional `/step`.
fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let mut extra = 0u64;
    let (start, mut end) = if low_high[0] == "*" || low_high[0] == "?" {
        extra = STAR;
        (b.min, b.max)
    } else {
        let start = int_or_name(low_high[0], b)?;
        let end = match low_high.len() {
            1 => start,
            2 => int_or_name(low_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_int(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    let mut bits = extra;
    let mut i = start;
    while i <= end {
        bits |= 1 << i;
        i += step;
    }
    Ok(bits)
}

fn has(bits: u64, i: i8) -> bool {
    i >= 0 && bits & (1 << i) != 0
}

impl Schedule {
    /// The first time after `after` the schedule fires, in `tz`; None when it never does
    /// within five years (`0 0 30 2 *`).
    pub fn next(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let (minute, hour, dom, month, dow) = match self {
            Schedule::Every(d) => return after.checked_add(*d).ok(),
            Schedule::Fields {
                minute,
                hour,
                dom,
                month,
                dow,
            } => (*minute, *hour, *dom, *month, *dow),
        };
        let start = after.to_zoned(tz.clone()).datetime();
        let mut day = start.date();
        let last = day.checked_add(jiff::Span::new().years(5)).ok()?;
        while day <= last {
            let dom_ok = has(dom, day.day());
            let dow_ok = has(dow, day.weekday().to_sunday_zero_offset());
            let day_ok = if dom & STAR != 0 || dow & STAR != 0 {
                dom_ok && dow_ok
            } else {
                dom_ok || dow_ok
            };
            if has(month, day.month()) && day_ok {
                for h in (0..24i8).filter(|h| has(hour, *h)) {
                    for m in (0..60i8).filter(|m| has(minute, *m)) {
                        let at =
                            DateTime::new(day.year(), day.month(), day.day(), h, m, 0, 0).ok()?;
                        if let Ok(z) = at.to_zoned(tz.clone())
                            && z.timestamp() > after
                        {
                            return Some(z.timestamp());
                        }
                    }
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The next `n` times it fires after `after`.
    pub fn upcoming(&self, after: Timestamp, tz: &TimeZone, n: usize) -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < n {
            match self.next(t, tz) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_api_servers_own_words() {
        // As the 1.36 API server answered `kubectl apply --dry-run=server` for each.
        let cases = [
            ("0 0 * *", "expected exactly 5 fields, found 4: [0 0 * *]"),
            ("61 * * * *", "end of range (61) above maximum (59): 61"),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            (
                "TZ=UTC 0 * * * *",
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ),
            (
                "0 0 L * *",
                "failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax",
            ),
        ];
        for (spec, says) in cases {
            assert_eq!(parse(spec).unwrap_err(), says, "{spec}");
        }
        for ok in [
            "@every 5m",
            "0 0 30 2 *",
            "@daily",
            "*/1 * * * *",
            "0 9 * * MON-FRI",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn next_fire_times() {
        let utc = TimeZone::UTC;
        let every_minute = parse("*/1 * * * *").unwrap();
        assert_eq!(
            every_minute.next(at("2026-12-05T15:28:32Z"), &utc),
            Some(at("2026-12-05T15:29:00Z"))
        );
        let weekdays = parse("0 9 * * MON-FRI").unwrap();
        // 2026-12-05 is a Saturday: next Monday.
        assert_eq!(
            weekdays.next(at("2026-12-05T15:28:32Z"), &utc),
            Some(at("2026-12-07T09:00:00Z"))
        );
        assert_eq!(
            parse("0 0 30 2 *")
                .unwrap()
                .next(at("2026-12-05T00:00:00Z"), &utc),
            None
        );
        // Day of month OR day of week when both are given, as cron does.
        let either = parse("0 0 1 * 1").unwrap();
        assert_eq!(
            either.next(at("2026-12-05T00:00:00Z"), &utc),
            Some(at("2026-12-07T00:00:00Z"))
        );
        assert_eq!(
            parse("@every 90s")
                .unwrap()
                .next(at("2026-12-05T00:00:00Z"), &utc),
            Some(at("2026-12-05T00:01:30Z"))
        );
    }
}
