//! A Job's pods over time, as a Gantt chart: one row per pod (waiting, then running; failures
//! marked), and a row of how many pods were active, with the parallelism cap. Rendered for the
//! terminal and as SVG for the course site. Drawn from derived facts, so live and bundles agree.

use std::fmt::Write as _;

use crate::facts::{JobFacts as Facts, Run};
use crate::text::clean;

/// The time span shown: from the Job's start to the last event of any pod.
fn span(f: &Facts) -> f64 {
    f.runs
        .iter()
        .map(|r| r.finished.or(r.started).unwrap_or(r.created))
        .fold(f.duration_seconds.unwrap_or(0.0), f64::max)
        .max(1.0)
}

/// Active pods (created, not finished) at time `t`.
fn active_at(runs: &[Run], t: f64) -> usize {
    runs.iter()
        .filter(|r| r.created <= t && r.finished.is_none_or(|e| e > t))
        .count()
}

fn short_name(pod: &str, job: &str) -> String {
    let s = pod.strip_prefix(&format!("{job}-")).unwrap_or(pod);
    clean(s).chars().take(20).collect()
}

/// The terminal chart, `width` columns for the time axis.
pub fn render_terminal(job: &str, f: &Facts, width: usize) -> String {
    let mut out = String::new();
    let total = span(f);
    let col = |t: f64| {
        ((t / total) * width as f64)
            .round()
            .clamp(0.0, width as f64) as usize
    };
    let cap = f.parallelism.map(|p| p.max(0) as usize);
    let _ = writeln!(
        out,
        "{job}: {} pods over {}{}",
        f.runs.len(),
        crate::text::format_seconds(total),
        cap.map(|c| format!(", parallelism cap {c}"))
            .unwrap_or_default()
    );
    let label_width = f
        .runs
        .iter()
        .map(|r| short_name(&r.pod, job).chars().count())
        .max()
        .unwrap_or(3)
        .max(6);
    for r in &f.runs {
        let mut row = vec![' '; width + 1];
        let created = col(r.created);
        let started = r.started.map(col);
        let end = r.finished.map(col).unwrap_or(width);
        let run_from = started.unwrap_or(end);
        for c in row.iter_mut().take(run_from).skip(created) {
            *c = '·';
        }
        if started.is_some() {
            for c in row.iter_mut().take(end.max(run_from + 1)).skip(run_from) {
                *c = '█';
            }
        }
        let mark = match r.phase.as_str() {
            "Failed" => '✗',
            "Succeeded" => ' ',
            _ => '…',
        };
        if end <= width {
            row[end.min(width)] = mark;
        }
        let bar: String = row.into_iter().collect();
        let _ = writeln!(out, "  {:label_width$} │{bar}│", short_name(&r.pod, job));
    }
    // How many pods were active in each column; `*` where the cap was reached.
    let mut active_row = String::new();
    for c in 0..=width {
        let t = (c as f64 + 0.5) / width as f64 * total;
        let n = active_at(&f.runs, t);
        active_row.push(match (n, cap) {
            (0, _) => ' ',
            (n, Some(c)) if n >= c => '*',
            (n, _) if n < 10 => char::from_digit(n as u32, 10).unwrap_or('+'),
            _ => '+',
        });
    }
    let _ = writeln!(out, "  {:label_width$} │{active_row}│", "active");
    let _ = writeln!(
        out,
        "  {:label_width$}  0s{:>w$}",
        "",
        crate::text::format_seconds(total),
        w = width - 1
    );
    let _ = writeln!(
        out,
        "  · waiting  █ running  ✗ failed  … unfinished{}",
        cap.map(|c| format!("  * {c} active (the cap)"))
            .unwrap_or_default()
    );
    out
}

fn escape(s: &str) -> String {
    clean(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG chart.
pub fn render_svg(job: &str, f: &Facts) -> String {
    let l = Layout::new(f);
    let height = l.strip_top + l.strip_h + 50.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="sans-serif" font-size="12">"#,
        w = l.left + l.chart_w + 30.0
    );
    let _ = writeln!(
        s,
        r#"<title>{} pods of Job {} over time</title>"#,
        f.runs.len(),
        escape(job)
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-weight="bold">Job {}: {} pods{}</text>"#,
        escape(job),
        f.runs.len(),
        f.parallelism
            .map(|p| format!(", parallelism {p}"))
            .unwrap_or_default()
    );
    svg_rows(&mut s, job, f, &l);
    svg_active(&mut s, f, &l);
    svg_axis(&mut s, &l);
    s.push_str("</svg>\n");
    s
}

/// Where things go in the SVG: the label column, the rows, the strip of active pods.
struct Layout {
    left: f64,
    top: f64,
    row_h: f64,
    chart_w: f64,
    total: f64,
    strip_top: f64,
    strip_h: f64,
}

impl Layout {
    fn new(f: &Facts) -> Layout {
        let (left, top, row_h, chart_w) = (150.0, 40.0, 18.0, 640.0);
        Layout {
            left,
            top,
            row_h,
            chart_w,
            total: span(f),
            strip_top: top + f.runs.len() as f64 * row_h + 20.0,
            strip_h: 60.0,
        }
    }

    fn x(&self, t: f64) -> f64 {
        self.left + t / self.total * self.chart_w
    }
}

/// One row per pod: waiting (grey), then running, coloured by how it ended.
fn svg_rows(s: &mut String, job: &str, f: &Facts, l: &Layout) {
    for (i, r) in f.runs.iter().enumerate() {
        let y = l.top + i as f64 * l.row_h;
        let end = r.finished.unwrap_or(l.total);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            l.left - 6.0,
            y + 12.0,
            escape(&short_name(&r.pod, job))
        );
        let run_from = r.started.unwrap_or(end);
        if run_from > r.created {
            let _ = writeln!(
                s,
                r##"<rect class="waiting" x="{:.1}" y="{:.1}" width="{:.1}" height="{}" fill="#d0d0d0"/>"##,
                l.x(r.created),
                y + 3.0,
                (l.x(run_from) - l.x(r.created)).max(0.5),
                l.row_h - 6.0
            );
        }
        let colour = match r.phase.as_str() {
            "Failed" => "#d9534f",
            "Succeeded" => "#5cb85c",
            _ => "#f0ad4e",
        };
        let _ = writeln!(
            s,
            r#"<rect class="pod" data-pod="{}" data-phase="{}" x="{:.1}" y="{:.1}" width="{:.1}" height="{}" fill="{colour}"><title>{} {}{}</title></rect>"#,
            escape(&r.pod),
            escape(&r.phase),
            l.x(run_from),
            y + 2.0,
            (l.x(end) - l.x(run_from)).max(1.0),
            l.row_h - 4.0,
            escape(&r.pod),
            escape(&r.phase),
            r.seconds
                .map(|d| format!(", ran {d} s"))
                .unwrap_or_default()
        );
    }
}

/// Active pods over time, and the cap.
fn svg_active(s: &mut String, f: &Facts, l: &Layout) {
    let peak = f.runs.len().max(1) as f64;
    let scale = f.parallelism.map_or(peak, |p| peak.max(p as f64)).max(1.0);
    let y_of = |n: f64| l.strip_top + l.strip_h - n / scale * l.strip_h;
    let mut edges: Vec<f64> = f
        .runs
        .iter()
        .flat_map(|r| [Some(r.created), r.finished])
        .flatten()
        .collect();
    edges.push(0.0);
    edges.push(l.total);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let mut points = Vec::new();
    for w in edges.windows(2) {
        let n = active_at(&f.runs, (w[0] + w[1]) / 2.0) as f64;
        points.push(format!(
            "{:.1},{:.1} {:.1},{:.1}",
            l.x(w[0]),
            y_of(n),
            l.x(w[1]),
            y_of(n)
        ));
    }
    let _ = writeln!(
        s,
        r##"<polyline class="active" fill="none" stroke="#337ab7" stroke-width="2" points="{}"/>"##,
        points.join(" ")
    );
    if let Some(p) = f.parallelism {
        let _ = writeln!(
            s,
            r##"<line class="cap" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d9534f" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" fill="#d9534f">cap {p}</text>"##,
            l.left + l.chart_w,
            l.left + l.chart_w + 2.0,
            y_of(p as f64) + 4.0,
            left = l.left,
            y = y_of(p as f64)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{:.1}" text-anchor="end">active</text>"#,
        l.left - 6.0,
        l.strip_top + l.strip_h / 2.0
    );
}

fn svg_axis(s: &mut String, l: &Layout) {
    let axis_y = l.strip_top + l.strip_h + 20.0;
    for i in 0..=4 {
        let t = l.total * i as f64 / 4.0;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{axis_y:.1}" text-anchor="middle">{}</text>"#,
            l.x(t),
            crate::text::format_seconds(t)
        );
    }
}
