//! The course: units, exercises and reusable checks, loaded from a folder (`units/`, `checks/`),
//! validated against the course JSON Schemas and compiled, with every problem reported at its
//! file, line and column. Nothing in here is specific to one exercise.

pub use crate::model;
mod exercise;
use exercise::load_exercise;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::check::{self, Compiled};
use crate::error::{Diagnostic, Error};
use crate::schema::Schema;
use crate::yaml::{self, Node, Source};
use model::{CheckFile, ExerciseFile, UnitFile};

pub struct Course {
    pub root: PathBuf,
    pub units: Vec<Unit>,
    pub checks: BTreeMap<String, check::Reusable>,
    /// Every exercise id the units list, loaded or not.
    pub listed: Vec<String>,
}

pub struct Unit {
    pub file: UnitFile,
    /// Path shown in messages, relative to the course root.
    pub path: String,
    pub dir: PathBuf,
    pub exercises: Vec<Exercise>,
}

pub struct Exercise {
    pub file: ExerciseFile,
    pub unit_id: String,
    pub unit_title: String,
    /// Path of `exercise.yaml`, relative to the course root.
    pub path: String,
    pub dir: PathBuf,
    pub assertions: Vec<Compiled>,
    /// Whole points per question of a quiz, in order.
    pub question_points: Vec<u32>,
    pub pitfalls: Vec<(model::Pitfall, regex::Regex)>,
    /// Its targets resolved, and what gathering lists for them.
    pub plan: crate::target::Plan,
}

impl Exercise {
    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// Target keys in order; the first is the default for assertions.
    pub fn target_keys(&self) -> Vec<String> {
        self.plan.targets.iter().map(|t| t.key.clone()).collect()
    }

    /// The targets, resolved.
    pub fn targets(&self) -> &[crate::target::TargetRef] {
        &self.plan.targets
    }

    /// The names of the target Jobs (what `run`, `wait` and timelines follow).
    pub fn job_names(&self) -> Vec<String> {
        self.plan
            .targets
            .iter()
            .filter(|t| t.is(crate::kinds::Known::Job))
            .filter_map(|t| t.name.clone())
            .collect()
    }

    /// A file of the exercise (reference or given), as a relative display name and full path.
    pub fn file_path(&self, course_root: &Path, relative: &str) -> Option<(String, PathBuf)> {
        let full = yaml::resolve_inside(&self.dir, relative)?;
        let shown = full
            .strip_prefix(course_root)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| full.display().to_string());
        Some((shown, full))
    }
}

/// The JSON Schemas of the course files, generated from [`model`].
pub struct CourseSchemas {
    pub unit: Schema,
    pub exercise: Schema,
    pub check: Schema,
}

pub fn schema_json<T: schemars::JsonSchema>() -> Json {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    serde_json::to_value(generator.into_root_schema_for::<T>()).expect("schemas serialise")
}

/// The compiled course schemas, from the shipped files embedded at build time (a test proves
/// they equal what [`schema_json`] generates from the model).
pub fn schemas() -> &'static CourseSchemas {
    static SCHEMAS: OnceLock<CourseSchemas> = OnceLock::new();
    let parse =
        |text: &str| Schema::compile(serde_json::from_str(text).expect("shipped schema is JSON"));
    SCHEMAS.get_or_init(|| CourseSchemas {
        unit: parse(include_str!("../../checks/schemas/unit.schema.json")),
        exercise: parse(include_str!("../../checks/schemas/exercise.schema.json")),
        check: parse(include_str!("../../checks/schemas/check.schema.json")),
    })
}

/// The schema files shipped in `checks/schemas/`, by file name.
pub fn schema_files() -> Vec<(&'static str, Json)> {
    vec![
        ("unit.schema.json", schema_json::<UnitFile>()),
        ("exercise.schema.json", schema_json::<ExerciseFile>()),
        ("check.schema.json", schema_json::<CheckFile>()),
    ]
}

/// Finds the course folder: the one given, else `KUBELAB_COURSE`, else the nearest folder at or
/// above the current one that has `units/`.
pub fn discover(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(p) = explicit {
        if p.join("units").is_dir() {
            return Ok(p.to_path_buf());
        }
        return Err(Error::Usage(format!(
            "{} is not a course folder: it has no units/ folder",
            p.display()
        )));
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    for dir in cwd.ancestors() {
        if looks_like_a_course(dir) {
            return Ok(dir.to_path_buf());
        }
    }
    Err(Error::Usage(
        "no course found: run kubelab inside a course folder (one with units/ holding a unit.yaml), \
         or pass --course DIR"
            .to_owned(),
    ))
}

/// A folder with `units/` and either reusable `checks/` or a unit in it (a course needs no
/// reusable checks; an empty `checks/` does not survive git): any other folder that merely
/// has a `units/` is not taken for a course.
fn looks_like_a_course(dir: &Path) -> bool {
    let units = dir.join("units");
    units.is_dir()
        && (dir.join("checks").is_dir()
            || std::fs::read_dir(&units).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|e| e.path().join("unit.yaml").is_file())
            }))
}

/// Reads and validates one course file into its typed form, positioned diagnostics on failure.
fn load_typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    shown: &str,
    schema: &Schema,
    diags: &mut Vec<Diagnostic>,
) -> Option<(T, Node, Source)> {
    let source = match Source::read(path, shown) {
        Ok(s) => s,
        Err(e) => {
            diags.extend(e.diagnostics());
            return None;
        }
    };
    let node = match yaml::parse_single(&source) {
        Ok(n) => n,
        Err(e) => {
            diags.extend(e.diagnostics());
            return None;
        }
    };
    let json = node.to_json();
    let problems = schema.check(&source, &node, &json);
    if !problems.is_empty() {
        diags.extend(problems);
        return None;
    }
    match serde_path_to_error::deserialize::<_, T>(json) {
        Ok(v) => Some((v, node, source)),
        Err(e) => {
            let pointer = path_pointer(e.path());
            diags.push(
                Diagnostic::file(shown, format!("cannot be read: {}", e.inner()))
                    .at_pos(node.locate(&pointer))
                    .field(yaml::pointer_to_path(&pointer)),
            );
            None
        }
    }
}

/// A serde path (`assertions[1].points`) as a JSON pointer.
fn path_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// What to do about a course problem that says no more itself: the documentation of the field
/// it is in, from the course file's schema.
fn field_help(d: &Diagnostic) -> String {
    let schema = if d.file.ends_with("unit.yaml") {
        &schemas().unit
    } else if d.file.starts_with("checks") {
        &schemas().check
    } else {
        &schemas().exercise
    };
    let field = d.field.as_deref().unwrap_or("");
    match schema.doc(&yaml::path_to_pointer(field)) {
        Some(doc) if !field.is_empty() => format!("`{field}` is documented as: {doc}"),
        _ => "every field of a course file is documented in checks/schemas/ (`kubelab schemas`); fix it and run `kubelab lint`".into(),
    }
}

fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

impl Course {
    /// Loads the whole course; every problem in every file is reported at once.
    pub fn load(root: &Path) -> Result<Course, Error> {
        Course::load_filtered(root, None)
    }

    /// Loads the units and checks but only the one exercise asked for, so a learner's check
    /// costs the same however large the course grows (other exercises are `lint`'s business).
    pub fn load_for(root: &Path, exercise: &str) -> Result<Course, Error> {
        Course::load_filtered(root, Some(exercise))
    }

    fn load_filtered(root: &Path, only: Option<&str>) -> Result<Course, Error> {
        let mut diags = Vec::new();
        let checks = load_checks(root, only, &mut diags);
        let mut loading = Loading {
            root,
            only,
            checks: &checks,
            diags,
            listed: Vec::new(),
            exercise_seen: HashMap::new(),
            unit_seen: HashMap::new(),
        };
        let units_dir = root.join("units");
        let mut units: Vec<Unit> = sorted_entries(&units_dir)
            .into_iter()
            .filter_map(|dir| loading.unit(dir))
            .collect();
        let Loading {
            mut diags, listed, ..
        } = loading;
        if units.is_empty() && diags.is_empty() {
            diags.push(
                Diagnostic::file(
                    relative(root, &units_dir),
                    "holds no unit (no units/*/unit.yaml)",
                )
                .with_help("create units/NN-name/unit.yaml"),
            );
        }
        if !diags.is_empty() {
            for d in diags.iter_mut().filter(|d| d.help.is_none()) {
                d.help = Some(field_help(d));
            }
            return Err(Error::Input(diags));
        }
        units.sort_by_key(|u| u.file.number);
        Ok(Course {
            root: root.to_path_buf(),
            units,
            checks,
            listed,
        })
    }

    pub fn exercises(&self) -> impl Iterator<Item = &Exercise> {
        self.units.iter().flat_map(|u| u.exercises.iter())
    }

    pub fn exercise(&self, id: &str) -> Result<&Exercise, Error> {
        if let Some(ex) = self.exercises().find(|e| e.id() == id) {
            return Ok(ex);
        }
        let known = &self.listed;
        let mut msg = format!("no exercise `{id}` in this course");
        match crate::schema::suggest(id, known) {
            Some(s) => msg.push_str(&format!("; did you mean `{s}`?")),
            None => msg.push_str("; `kubelab list` shows them all"),
        }
        Err(Error::Usage(msg))
    }

    pub fn unit(&self, id: &str) -> Result<&Unit, Error> {
        self.units.iter().find(|u| u.file.id == id).ok_or_else(|| {
            Error::Usage(format!(
                "no unit `{id}`; units: {}",
                self.units
                    .iter()
                    .map(|u| u.file.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    pub fn unit_of(&self, ex: &Exercise) -> Option<&Unit> {
        self.units.iter().find(|u| u.file.id == ex.unit_id)
    }
}

/// The reusable checks in checks/. A full load (lint, list) proves every check; a learner's
/// check compiles only the ones its exercise uses.
fn load_checks(
    root: &Path,
    only: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, check::Reusable> {
    let mut checks = BTreeMap::new();
    for path in sorted_entries(&root.join("checks")) {
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let shown = relative(root, &path);
        let Some((check, node, _)) =
            load_typed::<CheckFile>(&path, &shown, &schemas().check, diags)
        else {
            continue;
        };
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if check.id != stem {
            diags.push(
                Diagnostic::file(
                    &shown,
                    format!("id `{}` differs from the file name", check.id),
                )
                .at_pos(node.locate("/id"))
                .field("id")
                .with_help(format!("name the file {}.yaml or change the id", check.id)),
            );
        }
        let reusable = check::Reusable::new(check.clone());
        if only.is_none()
            && let Err((field, m)) = reusable.programs()
        {
            diags.push(
                Diagnostic::file(&shown, m.clone())
                    .at_pos(node.locate(&format!("/{field}")))
                    .field(field.clone()),
            );
        }
        checks.insert(check.id.clone(), reusable);
    }
    checks
}

/// Loading the units: every problem found, and the ids seen so far (they must be unique).
struct Loading<'a> {
    root: &'a Path,
    /// Load only this exercise (the others are listed, not compiled).
    only: Option<&'a str>,
    checks: &'a BTreeMap<String, check::Reusable>,
    diags: Vec<Diagnostic>,
    listed: Vec<String>,
    exercise_seen: HashMap<String, String>,
    unit_seen: HashMap<String, String>,
}

impl Loading<'_> {
    /// `units/NN-name/`: its unit.yaml and the exercises it lists.
    fn unit(&mut self, dir: PathBuf) -> Option<Unit> {
        let unit_path = dir.join("unit.yaml");
        if !dir.is_dir() || !unit_path.is_file() {
            return None;
        }
        let shown = relative(self.root, &unit_path);
        let (unit_file, unit_node, _) =
            load_typed::<UnitFile>(&unit_path, &shown, &schemas().unit, &mut self.diags)?;
        if let Some(other) = self.unit_seen.insert(unit_file.id.clone(), shown.clone()) {
            self.diags.push(
                Diagnostic::file(
                    &shown,
                    format!("duplicate unit id `{}` (also in {other})", unit_file.id),
                )
                .at_pos(unit_node.locate("/id"))
                .field("id"),
            );
        }
        let confidence_ids: Vec<String> =
            unit_file.confidence.iter().map(|c| c.id.clone()).collect();
        for (i, id) in confidence_ids.iter().enumerate() {
            if confidence_ids[..i].contains(id) {
                self.diags.push(
                    Diagnostic::file(&shown, format!("duplicate confidence statement id `{id}`"))
                        .at_pos(unit_node.locate(&format!("/confidence/{i}/id")))
                        .field(format!("confidence[{i}].id"))
                        .with_help(
                            "give each statement its own id: exercises name them in `evidence`",
                        ),
                );
            }
        }
        let mut exercises = Vec::new();
        for (i, id) in unit_file.exercises.iter().enumerate() {
            let pointer = format!("/exercises/{i}");
            let Some((ex_path, ex_shown)) =
                self.listed_exercise(&dir, &shown, &unit_node, id, &pointer)
            else {
                continue;
            };
            if self.only.is_some_and(|o| o != id) {
                continue;
            }
            if let Some(ex) = load_exercise(
                self.root,
                &ex_path,
                &ex_shown,
                id,
                &unit_file,
                &confidence_ids,
                self.checks,
                &mut self.diags,
            ) {
                exercises.push(ex);
            }
        }
        Some(Unit {
            path: shown,
            dir,
            exercises,
            file: unit_file,
        })
    }

    /// An exercise a unit lists: its exercise.yaml, when the id is plain, the file exists and
    /// no other unit lists it too.
    fn listed_exercise(
        &mut self,
        dir: &Path,
        shown: &str,
        unit_node: &yaml::Node,
        id: &str,
        pointer: &str,
    ) -> Option<(PathBuf, String)> {
        let at = |d: Diagnostic| {
            d.at_pos(unit_node.locate(pointer))
                .field(yaml::pointer_to_path(pointer))
        };
        let Some(ex_dir) = yaml::resolve_inside(dir, id) else {
            self.diags.push(at(Diagnostic::file(
                shown,
                format!("`{id}` is not a plain exercise id"),
            )));
            return None;
        };
        let ex_path = ex_dir.join("exercise.yaml");
        let ex_shown = relative(self.root, &ex_path);
        if !ex_path.is_file() {
            self.diags.push(
                at(Diagnostic::file(
                    shown,
                    format!("exercise `{id}` has no file {ex_shown}"),
                ))
                .with_help(format!("create {ex_shown} or remove `{id}` from the list")),
            );
            return None;
        }
        if let Some(other) = self.exercise_seen.get(id) {
            self.diags.push(
                at(Diagnostic::file(
                    shown,
                    format!("duplicate exercise id `{id}` (also listed by {other})"),
                ))
                .with_help("exercise ids must be unique in the whole course"),
            );
            return None;
        }
        self.exercise_seen.insert(id.to_owned(), shown.to_owned());
        self.listed.push(id.to_owned());
        Some((ex_path, ex_shown))
    }
}
