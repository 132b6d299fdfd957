//! The course: units, exercises and reusable checks, loaded from a folder (`units/`, `checks/`),
//! validated against the course JSON Schemas and compiled, with every problem reported at its
//! file, line and column. Nothing in here is specific to one exercise.

pub mod lint;
pub mod model;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::check::{self, CompileContext, Compiled};
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
    pub pitfalls: Vec<(model::Pitfall, regex::Regex)>,
}

impl Exercise {
    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// Target names in order; the first is the default for assertions.
    pub fn target_names(&self) -> Vec<String> {
        self.file.targets.iter().map(|t| t.name.clone()).collect()
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
        if dir.join("units").is_dir() && dir.join("checks").is_dir() {
            return Ok(dir.to_path_buf());
        }
    }
    Err(Error::Usage(
        "no course found: run kubelab inside a course folder (one with units/ and checks/), \
         or pass --course DIR"
            .to_owned(),
    ))
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
    match serde_json::from_value::<T>(json) {
        Ok(v) => Some((v, node, source)),
        Err(e) => {
            diags.push(Diagnostic::file(shown, format!("cannot be read: {e}")));
            None
        }
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
        let mut listed = Vec::new();
        let schemas = schemas();

        // Reusable checks.
        let mut checks: BTreeMap<String, check::Reusable> = BTreeMap::new();
        let checks_dir = root.join("checks");
        for path in sorted_entries(&checks_dir) {
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let shown = relative(root, &path);
            let Some((check, node, _)) =
                load_typed::<CheckFile>(&path, &shown, &schemas.check, &mut diags)
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
            // A full load (lint, list) proves every check; a learner's check compiles only
            // the ones its exercise uses.
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

        // Units and their exercises.
        let mut units = Vec::new();
        let mut exercise_seen: HashMap<String, String> = HashMap::new();
        let mut unit_seen: HashMap<String, String> = HashMap::new();
        let units_dir = root.join("units");
        for dir in sorted_entries(&units_dir) {
            let unit_path = dir.join("unit.yaml");
            if !dir.is_dir() || !unit_path.is_file() {
                continue;
            }
            let shown = relative(root, &unit_path);
            let Some((unit_file, unit_node, _)) =
                load_typed::<UnitFile>(&unit_path, &shown, &schemas.unit, &mut diags)
            else {
                continue;
            };
            if let Some(other) = unit_seen.insert(unit_file.id.clone(), shown.clone()) {
                diags.push(
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
            let mut exercises = Vec::new();
            for (i, id) in unit_file.exercises.iter().enumerate() {
                let pointer = format!("/exercises/{i}");
                let Some(ex_dir) = yaml::resolve_inside(&dir, id) else {
                    diags.push(
                        Diagnostic::file(&shown, format!("`{id}` is not a plain exercise id"))
                            .at_pos(unit_node.locate(&pointer))
                            .field(yaml::pointer_to_path(&pointer)),
                    );
                    continue;
                };
                let ex_path = ex_dir.join("exercise.yaml");
                let ex_shown = relative(root, &ex_path);
                if !ex_path.is_file() {
                    diags.push(
                        Diagnostic::file(&shown, format!("exercise `{id}` has no file {ex_shown}"))
                            .at_pos(unit_node.locate(&pointer))
                            .field(yaml::pointer_to_path(&pointer))
                            .with_help(format!("create {ex_shown} or remove `{id}` from the list")),
                    );
                    continue;
                }
                if let Some(other) = exercise_seen.get(id) {
                    diags.push(
                        Diagnostic::file(
                            &shown,
                            format!("duplicate exercise id `{id}` (also listed by {other})"),
                        )
                        .at_pos(unit_node.locate(&pointer))
                        .field(yaml::pointer_to_path(&pointer))
                        .with_help("exercise ids must be unique in the whole course"),
                    );
                    continue;
                }
                exercise_seen.insert(id.clone(), shown.clone());
                listed.push(id.clone());
                if only.is_some_and(|o| o != id) {
                    continue;
                }
                if let Some(ex) = load_exercise(
                    root,
                    &ex_path,
                    &ex_shown,
                    id,
                    &unit_file,
                    &confidence_ids,
                    &checks,
                    &mut diags,
                ) {
                    exercises.push(ex);
                }
            }
            units.push(Unit {
                path: shown,
                dir,
                exercises,
                file: unit_file,
            });
        }
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

#[allow(clippy::too_many_arguments)]
fn load_exercise(
    root: &Path,
    path: &Path,
    shown: &str,
    listed_id: &str,
    unit: &UnitFile,
    confidence_ids: &[String],
    checks: &BTreeMap<String, check::Reusable>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Exercise> {
    let (file, node, _) = load_typed::<ExerciseFile>(path, shown, &schemas().exercise, diags)?;
    let before = diags.len();
    let at = |pointer: &str, msg: String| {
        Diagnostic::file(shown, msg)
            .at_pos(node.locate(pointer))
            .field(yaml::pointer_to_path(pointer))
    };
    if file.id != listed_id {
        diags.push(at(
            "/id",
            format!(
                "id `{}` differs from its folder name `{listed_id}`",
                file.id
            ),
        ));
    }
    let dir = path.parent().unwrap_or(root).to_path_buf();
    for (list, name) in [(&file.reference, "reference"), (&file.given, "given")] {
        for (i, rel) in list.iter().enumerate() {
            let pointer = format!("/{name}/{i}");
            match yaml::resolve_inside(&dir, rel) {
                None => diags.push(at(
                    &pointer,
                    format!("`{rel}` must be a path inside the exercise folder"),
                )),
                Some(p) if !p.is_file() => diags.push(
                    at(&pointer, format!("file not found: {}", relative(root, &p)))
                        .with_help("create it or fix the name"),
                ),
                Some(_) => {}
            }
        }
    }
    if file.learner_file.contains(['/', '\\']) || file.learner_file.starts_with('.') {
        diags.push(at(
            "/learner_file",
            "must be a plain file name such as `my-job.yaml`".to_owned(),
        ));
    }
    for (i, ev) in file.evidence.iter().enumerate() {
        if !confidence_ids.contains(ev) {
            diags.push(at(
                &format!("/evidence/{i}"),
                format!(
                    "unit `{}` has no confidence statement `{ev}` (it has: {})",
                    unit.id,
                    confidence_ids.join(", ")
                ),
            ));
        }
    }
    let mut target_names: Vec<String> = Vec::new();
    for (i, t) in file.targets.iter().enumerate() {
        if target_names.contains(&t.name) {
            diags.push(at(
                &format!("/targets/{i}/name"),
                format!("duplicate target `{}`", t.name),
            ));
        }
        if t.kind != "Job" {
            diags.push(at(
                &format!("/targets/{i}/kind"),
                format!("kind `{}` cannot be a target; only Job is gathered", t.kind),
            ));
        }
        target_names.push(t.name.clone());
    }
    let cx = CompileContext {
        targets: &target_names,
        checks,
    };
    let mut assertions = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for (i, a) in file.assertions.iter().enumerate() {
        let base = format!("/assertions/{i}");
        if ids.contains(&a.id.as_str()) {
            diags.push(at(
                &format!("{base}/id"),
                format!("duplicate assertion id `{}`", a.id),
            ));
        }
        ids.push(&a.id);
        match check::compile(a, &cx) {
            Ok(c) => assertions.push(c),
            Err(errors) => {
                for e in errors {
                    let mut pointer = format!("{base}{}", e.pointer);
                    // Point at the deepest part of the path that exists.
                    if node.locate(&pointer) == node.locate(&base) && !e.pointer.is_empty() {
                        pointer = base.clone();
                    }
                    diags.push(at(&pointer, e.message));
                }
            }
        }
    }
    if let Some(sel) = &file.cleanup_selector
        && let Err(m) = check::parse_selector(sel)
    {
        diags.push(at("/cleanup_selector", m));
    }
    let quiz = file.kind == model::ExerciseKind::Quiz;
    if quiz && file.questions.is_empty() {
        diags.push(at("", "a quiz needs `questions`".to_owned()));
    }
    if !quiz && !file.questions.is_empty() {
        diags.push(at("/questions", "only a quiz has questions".to_owned()));
    }
    for (i, q) in file.questions.iter().enumerate() {
        let numeric = q.min.is_some() || q.max.is_some();
        if numeric != q.one_of.is_empty() {
            diags.push(at(
                &format!("/questions/{i}"),
                "give either `min`/`max` (a number) or `in` (accepted answers)".to_owned(),
            ));
        }
    }
    let judged_offline = quiz || assertions.iter().any(|a| a.phase != model::Phase::Live);
    if file.reference.is_empty() && judged_offline {
        diags.push(at(
            "",
            "has assertions judged offline but no `reference` manifest to prove them".to_owned(),
        ));
    }
    let mut pitfalls = Vec::new();
    for (i, p) in file.pitfalls.iter().enumerate() {
        match regex::Regex::new(&p.pattern) {
            Ok(re) => pitfalls.push((p.clone(), re)),
            Err(e) => diags.push(at(
                &format!("/pitfalls/{i}/pattern"),
                format!(
                    "invalid regular expression: {}",
                    e.to_string().lines().last().unwrap_or("").trim()
                ),
            )),
        }
    }
    if diags.len() > before {
        return None;
    }
    Some(Exercise {
        unit_id: unit.id.clone(),
        unit_title: unit.title.clone(),
        path: shown.to_owned(),
        dir,
        assertions,
        pitfalls,
        file,
    })
}
