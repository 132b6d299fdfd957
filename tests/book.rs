//! The course site: built by mdBook with kubelab's preprocessor from units/, then read as files
//! (every unit and exercise has its page, every internal link and image resolves, nothing
//! comes from elsewhere) and in a real headless Chromium (instructions, folded hints,
//! timelines, the quiz and the confidence check answered in the page, search, a phone-width
//! screenshot). Needs `mdbook` (MDBOOK or PATH) and, for the browser, `chromium` (CHROMIUM or
//! PATH); without them the tests say so and pass, except under CI, which installs both.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::browser::{Browser, find_chromium, png_size};
use common::{kubelab_env, root};
use kubelab::course::Course;

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

fn mdbook() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MDBOOK") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("mdbook"))
        .find(|p| p.is_file())
}

/// A tool the test needs: found, or a skip line (a failure under CI).
fn need(tool: Option<PathBuf>, what: &str) -> Option<PathBuf> {
    if tool.is_none() {
        assert!(
            !in_ci(),
            "{what} is missing, and CI must run the course-site tests"
        );
        eprintln!("skipped: {what} is not installed (see README: the course site)");
    }
    tool
}

/// Builds a course's site into `dest` with `kubelab book build`.
fn build(course: &Path, dest: &Path, mdbook: &Path) {
    let dest = dest.display().to_string();
    let mdbook = mdbook.display().to_string();
    let run = kubelab_env(
        course,
        &["book", "build", "--dest", &dest],
        None,
        &[("MDBOOK", &mdbook)],
    );
    assert_eq!(
        run.code, 0,
        "book build failed:\n{}{}",
        run.stdout, run.stderr
    );
}

/// The repository's course site, built once for all tests here.
fn site() -> Option<&'static Path> {
    static SITE: OnceLock<Option<PathBuf>> = OnceLock::new();
    SITE.get_or_init(|| {
        let mdbook = need(mdbook(), "mdbook")?;
        let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("course-site");
        let _ = std::fs::remove_dir_all(&dest);
        build(&root(), &dest, &mdbook);
        Some(dest)
    })
    .as_deref()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("site folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(html_files(&path));
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    out
}

/// `href`, `src` and `xlink:href` values of a page.
fn references(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"\s(?:href|src|xlink:href)="([^"]*)""#).expect("regex");
    re.captures_iter(html)
        .map(|c| c[1].replace("&amp;", "&"))
        .collect()
}

#[test]
fn every_unit_and_exercise_has_its_page() {
    let Some(site) = site() else { return };
    let course = Course::load(&root()).expect("course");
    let tags = regex::Regex::new("<[^>]+>").expect("regex");
    for unit in &course.units {
        let dir = site.join(kubelab::book::unit_dir(unit));
        let page = read(&dir.join("index.html"));
        let text = tags.replace_all(&page, "");
        assert!(
            text.contains(&unit.file.title.replace('&', "&amp;")),
            "unit page lacks its title"
        );
        for objective in &unit.file.objectives {
            let words = objective
                .replace('`', "")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                text.contains(&words),
                "unit page lacks objective {objective:?}"
            );
        }
        assert_eq!(
            page.matches("class=\"kl-statement\"").count(),
            unit.file.confidence.len()
        );
        for ex in &unit.exercises {
            let page = read(&dir.join(format!("{}.html", ex.id())));
            assert!(
                page.contains(&format!("kubelab check {}", ex.id())),
                "{}: no check command",
                ex.id()
            );
            assert_eq!(
                page.matches("<details class=\"kl-hint\">").count(),
                ex.file.hints.len(),
                "{}: one folded block per hint",
                ex.id()
            );
            assert_eq!(
                page.matches("<details class=\"kl-solution\">").count(),
                ex.file.reference.len(),
                "{}: the reference, folded",
                ex.id()
            );
            // Timelines draw Jobs' pods: a sample of a Job exercise has them; every sample shows
            // what kubelab said about it.
            let charts = page.matches("<figure class=\"kl-timeline\">").count();
            let jobs = !ex.job_names().is_empty();
            assert_eq!(
                charts > 0,
                !ex.file.samples.is_empty() && jobs,
                "{}: timelines of its recorded runs",
                ex.id()
            );
            assert_eq!(
                page.matches("class=\"kl-verdicts\"").count(),
                ex.file.samples.len(),
                "{}: what kubelab said of each recorded run",
                ex.id()
            );
            assert_eq!(
                page.matches("class=\"kl-question\"").count(),
                ex.file.questions.len(),
                "{}: a quiz question per question",
                ex.id()
            );
        }
    }
}

#[test]
fn every_internal_link_and_image_resolves_and_nothing_comes_from_elsewhere() {
    let Some(site) = site() else { return };
    let pages = html_files(site);
    assert!(pages.len() > 12, "only {} pages", pages.len());
    let mut checked = 0;
    for page in &pages {
        // mdBook's 404 page is served from any depth, so it links from the site's root.
        if page.file_name().is_some_and(|n| n == "404.html") {
            continue;
        }
        let html = read(page);
        for link in references(&html) {
            let external =
                link.starts_with("http:") || link.starts_with("https:") || link.starts_with("//");
            if external {
                // Links out are fine; loading a script, style, font or image from elsewhere is not.
                let loads = regex::Regex::new(&format!(
                    r#"<(script|img|link|iframe)[^>]*(src|href)="{}""#,
                    regex::escape(&link)
                ))
                .expect("regex");
                let stylesheet_or_media = loads
                    .find(&html)
                    .is_some_and(|m| !m.as_str().starts_with("<link rel=\"canonical\""));
                assert!(
                    !stylesheet_or_media,
                    "{} loads {link} from elsewhere",
                    page.display()
                );
                continue;
            }
            if link.starts_with('#')
                || link.starts_with("mailto:")
                || link.starts_with("javascript:")
                || link.starts_with("data:")
                || link.is_empty()
            {
                continue;
            }
            let path = link.split(['#', '?']).next().unwrap_or_default();
            let target = page.parent().expect("folder").join(path);
            let target = if link.ends_with('/') || target.is_dir() {
                target.join("index.html")
            } else {
                target
            };
            assert!(
                target.exists(),
                "{}: {link} does not resolve",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} internal references checked");
}

#[test]
fn search_index_knows_the_exercises() {
    let Some(site) = site() else { return };
    let index = std::fs::read_dir(site)
        .expect("site")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("searchindex"))
        })
        .expect("a search index");
    let text = read(&index);
    let course = Course::load(&root()).expect("course");
    for ex in course.exercises() {
        assert!(
            text.contains(&format!("{}.html", ex.id())),
            "search index lacks {}",
            ex.id()
        );
    }
}

#[test]
fn a_new_exercise_gets_its_page_with_no_other_edit() {
    let Some(mdbook) = need(mdbook(), "mdbook") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let course = tmp.path();
    common::copy_tree(&root().join("tests/fixtures/courses/good"), course);
    common::copy_tree(&root().join("book"), &course.join("book"));
    let _ = std::fs::remove_dir_all(course.join("book/site"));
    let unit_yaml = std::fs::read_dir(course.join("units"))
        .expect("units")
        .map(|e| e.expect("entry").path().join("unit.yaml"))
        .find(|p| p.is_file())
        .expect("a unit");
    let unit_dir = unit_yaml.parent().expect("unit folder").to_path_buf();
    std::fs::create_dir_all(unit_dir.join("added-later")).expect("mkdir");
    std::fs::write(
        unit_dir.join("added-later/exercise.yaml"),
        "id: added-later\ntitle: \"Added later: a Job of one's own\"\nkind: build\npoints: 5\nlearner_file: added.yaml\nreference: [added.yaml]\ninstructions: |\n  # Write it\n\n  Write a Job named `added`.\ntargets:\n  - name: added\nhints:\n  - \"Start from `kubectl create job added --image=busybox:1.35 --dry-run=client -o yaml`.\"\nassertions:\n  - id: completions\n    field: {path: spec.completions, equals: 1}\n    pass: \"completions is {value}\"\n    fail: \"completions is {value}; set it to 1\"\n    hint: \"Set spec.completions: 1.\"\n",
    )
    .expect("write exercise");
    std::fs::write(
        unit_dir.join("added-later/added.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: added\nspec:\n  completions: 1\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: work\n        image: busybox:1.35\n        command: [\"sh\", \"-c\", \"echo done\"]\n",
    )
    .expect("write reference");
    let listed = read(&unit_yaml).replacen("exercises:\n", "exercises:\n  - added-later\n", 1);
    assert!(
        listed.contains("- added-later"),
        "the fixture's unit.yaml lists exercises"
    );
    std::fs::write(&unit_yaml, listed).expect("list it");
    let dest = course.join("site");
    build(course, &dest, &mdbook);
    let folder = unit_dir
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let page = read(&dest.join("units").join(&folder).join("added-later.html"));
    assert!(
        page.contains("Added later: a Job of one"),
        "the new exercise's page"
    );
    assert!(page.contains("kubectl create job added"), "its hint");
    let unit_page = read(&dest.join("units").join(&folder).join("index.html"));
    assert!(unit_page.contains("added-later.html"), "the unit links it");
}

fn url(site: &Path, page: &str) -> String {
    format!("file://{}", site.join(page).display())
}

fn save(name: &str, png: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("course-site-screenshots");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write screenshot");
    path
}

#[test]
fn the_site_works_in_a_real_browser() {
    let Some(site) = site() else { return };
    let Some(chromium) = need(find_chromium(), "chromium") else {
        return;
    };
    let mut b = Browser::launch(&chromium);
    b.viewport(1280, 900, false);
    exercise_page(&mut b, site);
    race_page(&mut b, site);
    quiz(&mut b, site);
    confidence_check(&mut b, site);
    search(&mut b, site);
    phone(&mut b, site);
}

fn exercise_page(b: &mut Browser, site: &Path) {
    b.open(&url(
        site,
        "units/03-parallel-processing/parallel-processing.html",
    ));
    let seen = b.eval(
        "({title: document.querySelector('main h1').textContent,
          instructions: document.querySelector('main').innerText.includes('parallelism'),
          hints: [...document.querySelectorAll('details.kl-hint')].map(d => d.open),
          timelines: document.querySelectorAll('figure.kl-timeline svg').length,
          solutionOpen: document.querySelector('details.kl-solution').open})",
    );
    assert_eq!(
        seen["title"], "Parallel processing: 10 items, 3 workers",
        "{seen}"
    );
    assert_eq!(seen["instructions"], true);
    assert!(!seen["hints"].as_array().expect("hints").is_empty());
    assert!(
        seen["hints"]
            .as_array()
            .expect("hints")
            .iter()
            .all(|h| h == false),
        "hints start folded"
    );
    assert_eq!(seen["solutionOpen"], false, "the reference starts folded");
    assert!(
        seen["timelines"].as_u64().expect("count") >= 1,
        "the recorded run's timeline"
    );
    // Opening the first hint shows it, and only it.
    let opened = b.eval(
        "(() => { const d = document.querySelectorAll('details.kl-hint'); d[0].querySelector('summary').click();
                 return [...d].map(x => x.open); })()",
    );
    assert_eq!(opened[0], true, "{opened}");
    assert!(
        opened.as_array().expect("list")[1..]
            .iter()
            .all(|h| h == false),
        "{opened}"
    );
    let png = b.screenshot();
    assert_eq!(png_size(&png), (1280, 900));
    save("exercise.png", &png);
}

fn race_page(b: &mut Browser, site: &Path) {
    b.open(&url(site, "units/03-parallel-processing/race.html"));
    let text = b
        .eval("document.querySelector('main').innerText")
        .as_str()
        .expect("text")
        .to_owned();
    assert!(text.contains("What a run looks like"), "{text}");
    assert!(
        regex::Regex::new(r"oneshot \d+(\.\d+)? s, parallel \d+(\.\d+)? s: speed-up")
            .expect("re")
            .is_match(&text),
        "measured durations: {text}"
    );
    assert!(text.contains("start-up"), "why a loaded node can tie");
    let course = Course::load(&root()).expect("course");
    let runs = course.exercise("race").expect("race").file.samples.len();
    let charts = b.eval("document.querySelectorAll('figure.kl-timeline svg').length");
    assert_eq!(charts, 2 * runs, "two Jobs in each of {runs} recorded runs");
    b.eval("document.querySelector('figure.kl-timeline').scrollIntoView()");
    save("race.png", &b.screenshot());
}

fn quiz(b: &mut Browser, site: &Path) {
    b.open(&url(
        site,
        "units/03-parallel-processing/self-assessment.html",
    ));
    let answer = |b: &mut Browser, q: &str, text: &str| {
        b.eval(&format!(
            "(() => {{ const q = document.getElementById('q-{q}'); q.querySelector('.kl-answer').value = {text:?};
                      q.querySelector('.kl-check').click();
                      return {{verdict: q.querySelector('.kl-verdict').textContent, shown: !q.querySelector('.kl-feedback').hidden,
                               explanation: q.querySelector('.kl-explanation').innerText}}; }})()"
        ))
    };
    let hidden = b.eval("document.querySelector('#q-images-parallelism .kl-feedback').hidden");
    assert_eq!(hidden, true, "explanations wait for an answer");
    let right = answer(b, "images-parallelism", "8");
    assert!(
        right["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("Accepted"),
        "{right}"
    );
    assert_eq!(right["shown"], true);
    assert!(
        right["explanation"]
            .as_str()
            .expect("text")
            .contains("One worker per core"),
        "{right}"
    );
    let wrong = answer(b, "images-parallelism", "100");
    assert!(
        wrong["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("Not accepted: expected between 4 and 8"),
        "{wrong}"
    );
    let duration = answer(b, "images-duration", "2m");
    assert!(
        duration["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("Accepted"),
        "2m is 120 s: {duration}"
    );
    let text = answer(b, "files-doubling", " No ");
    assert!(
        text["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("Accepted"),
        "{text}"
    );
    let score = b.eval("document.querySelector('.kl-score').textContent");
    assert_eq!(score, "2 of 6 accepted (3 answered).");
    save("quiz.png", &b.screenshot());
}

fn confidence_check(b: &mut Browser, site: &Path) {
    b.open(&url(site, "units/03-parallel-processing/index.html"));
    let feedback = b.eval(
        "(() => { const s = [...document.querySelectorAll('.kl-statement')];
                 s.forEach((f, i) => f.querySelector(`input[value='${i === 1 ? 2 : 4}']`).click());
                 document.querySelector('.kl-confidence-check').click();
                 const fb = document.querySelector('.kl-confidence .kl-feedback');
                 return {hidden: fb.hidden, text: fb.innerText, links: [...fb.querySelectorAll('a')].map(a => a.getAttribute('href'))}; })()",
    );
    assert_eq!(feedback["hidden"], false);
    let text = feedback["text"].as_str().expect("text");
    assert!(text.contains("Below 3 on 1 statement"), "{feedback}");
    assert!(
        text.contains("design a parallel Job"),
        "names the statement: {feedback}"
    );
    let links: BTreeSet<&str> = feedback["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(
        links.contains("image-processor.html"),
        "practice with the exercises that give evidence: {feedback}"
    );
    for link in links {
        assert!(
            site.join("units/03-parallel-processing")
                .join(link)
                .is_file(),
            "{link} resolves"
        );
    }
}

fn search(b: &mut Browser, site: &Path) {
    b.open(&url(site, "index.html"));
    b.eval(
        "(() => { document.getElementById('mdbook-search-toggle').click();
                 const bar = document.getElementById('mdbook-searchbar');
                 bar.value = 'backoffLimit'; bar.dispatchEvent(new KeyboardEvent('keyup', {key: 'l'}));
                 bar.dispatchEvent(new Event('input')); })()",
    );
    b.wait_for("document.querySelectorAll('#mdbook-searchresults li').length > 0");
    let hits = b.eval("[...document.querySelectorAll('#mdbook-searchresults li a')].map(a => a.getAttribute('href'))");
    assert!(
        hits.as_array().expect("hits").iter().any(|h| h
            .as_str()
            .is_some_and(|h| h.contains("unreliable-workers.html"))),
        "searching backoffLimit finds the unreliable-workers exercise: {hits}"
    );
}

fn phone(b: &mut Browser, site: &Path) {
    b.viewport(390, 844, true);
    b.open(&url(site, "units/03-parallel-processing/race.html"));
    let layout = b.eval(
        "({width: window.innerWidth, page: document.documentElement.scrollWidth,
          svg: document.querySelector('figure.kl-timeline svg').getBoundingClientRect().width,
          sidebarHidden: !document.documentElement.classList.contains('sidebar-visible'),
          sidebarRight: document.getElementById('mdbook-sidebar').getBoundingClientRect().right})",
    );
    assert_eq!(layout["width"], 390, "{layout}");
    assert!(
        layout["page"].as_u64().expect("width") <= 390,
        "nothing wider than the phone: {layout}"
    );
    assert!(
        layout["svg"].as_f64().expect("svg") <= 390.0,
        "timelines shrink to fit: {layout}"
    );
    assert_eq!(
        layout["sidebarHidden"], true,
        "the sidebar folds away: {layout}"
    );
    assert!(
        layout["sidebarRight"].as_f64().expect("edge") <= 0.0,
        "off the screen: {layout}"
    );
    let png = b.screenshot();
    assert_eq!(png_size(&png).0, 390);
    save("race-390px.png", &png);
}
