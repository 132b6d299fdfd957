//! The gradebook in the layouts a school's LMS imports, one column per exercise:
//! - Canvas (Grades > Import): `Student, ID, SIS User ID, SIS Login ID, Section`, then one
//!   column per assignment (a name Canvas does not know becomes a new assignment), a second
//!   row `Points Possible` giving each one's points, and the read-only `Final Score` Canvas's
//!   own export ends with (a percentage; Canvas ignores it on import, so the total is shown
//!   without being imported as an assignment).
//! - Moodle (Grades > Import > CSV file): users are matched on a column the instructor picks,
//!   "Map from" `ID number` to `useridnumber`, `Email address` to `useremail` or `Username`;
//!   each exercise column maps to a grade item (or a new one), `Course total` as Moodle's
//!   export names it.
//! - csv: the same columns in plain words, for any other system.
//!
//! The roster's `lms_id` is the LMS's id for the learner (Canvas's SIS User ID, Moodle's ID
//! number); every text cell is guarded against spreadsheet formulas.

use super::gradebook::Gradebook;
use super::outputs::cell;
use crate::report::fmt_points;

/// Which LMS's import layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lms {
    Canvas,
    Moodle,
    Csv,
}

impl Lms {
    /// The file written beside the gradebook.
    pub fn file_name(self) -> &'static str {
        match self {
            Lms::Canvas => "canvas-import.csv",
            Lms::Moodle => "moodle-import.csv",
            Lms::Csv => "lms-import.csv",
        }
    }
}

/// Exercise titles as column names; a title two exercises share gets its id added.
fn exercise_columns(book: &Gradebook) -> Vec<String> {
    book.columns
        .iter()
        .map(|c| {
            let shared = book.columns.iter().filter(|o| o.title == c.title).count() > 1;
            let name = if shared {
                format!("{} [{}]", c.title, c.id)
            } else {
                c.title.clone()
            };
            cell(&name)
        })
        .collect()
}

fn write(rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("in-memory CSV");
    }
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV of UTF-8 text")
}

/// The points of each exercise of a learner, in column order (0 when it was not graded).
fn points(book: &Gradebook, l: &super::gradebook::LearnerGrade) -> Vec<String> {
    book.columns
        .iter()
        .map(|c| l.exercise(&c.id).map_or(0, |e| e.points).to_string())
        .collect()
}

/// The import file's text.
pub fn text(book: &Gradebook, lms: Lms) -> String {
    let exercises = exercise_columns(book);
    let mut rows = Vec::new();
    match lms {
        Lms::Canvas => {
            let mut header: Vec<String> =
                ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
                    .map(str::to_owned)
                    .to_vec();
            header.extend(exercises);
            header.push("Final Score".into());
            rows.push(header);
            let mut possible = vec!["Points Possible".to_owned()];
            possible.extend(std::iter::repeat_n(String::new(), 4));
            possible.extend(book.columns.iter().map(|c| c.points.to_string()));
            possible.push(String::new());
            rows.push(possible);
            for l in &book.learners {
                let mut row = vec![
                    cell(&l.learner),
                    String::new(),
                    cell(l.lms_id.as_deref().unwrap_or("")),
                    cell(&l.learner),
                    String::new(),
                ];
                row.extend(points(book, l));
                row.push(fmt_points(l.percent));
                rows.push(row);
            }
        }
        Lms::Moodle => {
            let mut header: Vec<String> = ["Username", "ID number", "Email address"]
                .map(str::to_owned)
                .to_vec();
            header.extend(exercises);
            header.push("Course total".into());
            rows.push(header);
            for l in &book.learners {
                let email = if l.learner.contains('@') {
                    cell(&l.learner)
                } else {
                    String::new()
                };
                let mut row = vec![
                    cell(&l.learner),
                    cell(l.lms_id.as_deref().unwrap_or("")),
                    email,
                ];
                row.extend(points(book, l));
                row.push(l.total.to_string());
                rows.push(row);
            }
        }
        Lms::Csv => {
            let mut header: Vec<String> = ["learner", "lms_id"].map(str::to_owned).to_vec();
            header.extend(exercises);
            header.extend(["total", "maximum"].map(str::to_owned));
            rows.push(header);
            for l in &book.learners {
                let mut row = vec![cell(&l.learner), cell(l.lms_id.as_deref().unwrap_or(""))];
                row.extend(points(book, l));
                row.extend([l.total.to_string(), l.maximum.to_string()]);
                rows.push(row);
            }
        }
    }
    write(rows)
}
