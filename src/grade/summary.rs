//! The terminal view of a gradebook: the class table, mean and median, each exercise's pass
//! rate, the most failed assertions and a histogram of totals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};

use super::gradebook::{Flag, Gradebook};
use crate::report::{clean, fmt_points};

const HISTOGRAM_BUCKETS: usize = 5;
const MOST_FAILED: usize = 5;
const BAR_WIDTH: usize = 30;

fn table(book: &Gradebook) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec![Cell::new("learner")];
    header.extend(book.columns.iter().map(|c| Cell::new(&c.id)));
    header.extend(["total", "%", "flags"].map(Cell::new));
    t.set_header(header);
    for l in &book.learners {
        let mut row = vec![Cell::new(clean(&l.learner))];
        for c in &book.columns {
            let text = l.exercise(&c.id).map_or("-".to_owned(), |e| {
                format!("{}/{}", fmt_points(e.points), e.maximum)
            });
            row.push(Cell::new(text).set_alignment(CellAlignment::Right));
        }
        row.push(Cell::new(fmt_points(l.total)).set_alignment(CellAlignment::Right));
        row.push(Cell::new(fmt_points(l.percent)).set_alignment(CellAlignment::Right));
        let flags: Vec<&str> = l.flags.iter().map(|f| f.as_str()).collect();
        row.push(Cell::new(flags.join(" ")));
        t.add_row(row);
    }
    t
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn pass_rates(book: &Gradebook, out: &mut String) {
    let _ = writeln!(out, "\nPass rate per exercise:");
    let width = book.columns.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for c in &book.columns {
        let passed = book
            .learners
            .iter()
            .filter(|l| l.exercise(&c.id).is_some_and(|e| e.passed))
            .count();
        let _ = writeln!(
            out,
            "  {:width$}  {passed} of {} passed",
            c.id,
            book.learners.len()
        );
    }
}

fn most_failed(book: &Gradebook, out: &mut String) {
    let mut failures: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in book.learners.iter().flat_map(|l| &l.exercises) {
        for a in e
            .assertions
            .iter()
            .filter(|a| a.status == crate::verdict::Status::Fail)
        {
            *failures
                .entry((e.exercise.clone(), a.id.clone()))
                .or_default() += 1;
        }
    }
    if failures.is_empty() {
        return;
    }
    let mut ranked: Vec<_> = failures.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let _ = writeln!(out, "\nMost failed assertions:");
    let names: Vec<String> = ranked
        .iter()
        .take(MOST_FAILED)
        .map(|((ex, id), _)| format!("{ex}/{id}"))
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    for (name, (_, n)) in names.iter().zip(&ranked) {
        let _ = writeln!(out, "  {name:width$}  {n} learner(s)");
    }
}

fn histogram(book: &Gradebook, out: &mut String) {
    let mut counts = [0usize; HISTOGRAM_BUCKETS];
    for l in &book.learners {
        let bucket = ((l.percent / 100.0) * HISTOGRAM_BUCKETS as f64) as usize;
        counts[bucket.min(HISTOGRAM_BUCKETS - 1)] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(0).max(1);
    let _ = writeln!(out, "\nTotals (percent of the maximum):");
    let step = 100 / HISTOGRAM_BUCKETS;
    for (i, n) in counts.iter().enumerate() {
        let bar = "█".repeat((n * BAR_WIDTH).div_ceil(most));
        let high = if i + 1 == HISTOGRAM_BUCKETS {
            "100]".to_owned()
        } else {
            format!("{:>3})", (i + 1) * step)
        };
        let _ = writeln!(out, "  [{:>3}-{high} {bar} {n}", i * step);
    }
}

/// The whole summary, ending with a newline.
pub fn render(book: &Gradebook) -> String {
    let mut out = format!("{}\n", table(book));
    let mut totals: Vec<f64> = book.learners.iter().map(|l| f64::from(l.total)).collect();
    totals.sort_by(f64::total_cmp);
    let mean = if totals.is_empty() {
        0.0
    } else {
        totals.iter().sum::<f64>() / totals.len() as f64
    };
    let _ = writeln!(
        out,
        "{} learner(s); mean {} and median {} of {} points",
        book.learners.len(),
        fmt_points(round1(mean)),
        fmt_points(round1(median(&totals))),
        book.maximum()
    );
    for flag in [Flag::Missing, Flag::Late, Flag::Tampered, Flag::Mismatch] {
        let n = book
            .learners
            .iter()
            .filter(|l| l.flags.contains(&flag))
            .count();
        if n > 0 {
            let _ = writeln!(out, "{n} flagged {}", flag.as_str());
        }
    }
    pass_rates(book, &mut out);
    most_failed(book, &mut out);
    histogram(book, &mut out);
    out
}
