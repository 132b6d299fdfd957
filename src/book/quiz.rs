//! The interactive parts of the site, as plain HTML the book's own script
//! (`book/theme/kubelab.js`) brings to life offline: a quiz exercise's questions with their
//! accepted answers and explanations, and a unit's confidence check with what to practise.

use std::fmt::Write as _;

use serde_json::json;

use super::html_escape;
use crate::course::{Exercise, Unit};

/// A quiz exercise's questions, answerable in the page.
pub fn questions(ex: &Exercise) -> String {
    let mut html = String::new();
    let _ = writeln!(
        html,
        "## Try it here\n\nAnswer in the page to see whether your answer is accepted and why. Numbers may carry units where seconds are asked for (`90s`, `2m`). Then write the same answers into `{}` and check them with kubelab.\n",
        ex.file.learner_file
    );
    let _ = writeln!(
        html,
        "<div class=\"kl-quiz\" data-exercise=\"{}\">",
        ex.id()
    );
    for (i, q) in ex.file.questions.iter().enumerate() {
        let _ = write!(
            html,
            "<div class=\"kl-question\" id=\"q-{id}\" data-question=\"{id}\" data-expected=\"{expected}\" data-accept=\"{accept}\"",
            id = q.id,
            expected = html_escape(&crate::quiz::describe(q)),
            accept = html_escape(&json!(q.one_of).to_string()),
        );
        for (name, value) in [("min", q.min), ("max", q.max)] {
            if let Some(v) = value {
                let _ = write!(html, " data-{name}=\"{v}\"");
            }
        }
        if let Some(unit) = &q.unit {
            let _ = write!(html, " data-unit=\"{}\"", html_escape(unit));
        }
        let _ = writeln!(
            html,
            ">\n<p class=\"kl-prompt\"><strong>{n}.</strong> {prompt}</p>\n<p class=\"kl-answer-row\"><input type=\"text\" class=\"kl-answer\" aria-label=\"Your answer to question {n}\" autocomplete=\"off\"> <button type=\"button\" class=\"kl-check\">Check</button></p>\n<div class=\"kl-feedback\" aria-live=\"polite\" hidden><p class=\"kl-verdict\"></p><p class=\"kl-explanation\">{explanation}</p></div>\n</div>",
            n = i + 1,
            prompt = html_escape(q.prompt.trim()),
            explanation = html_escape(q.explanation.trim()),
        );
    }
    let _ = writeln!(html, "</div>\n");
    let skeleton: String = ex
        .file
        .questions
        .iter()
        .map(|q| format!("{}: \n", q.id))
        .collect();
    let _ = writeln!(
        html,
        "`{}` has one line per question:\n\n```yaml\n{skeleton}```\n",
        ex.file.learner_file
    );
    html
}

/// The unit's confidence check: rate each statement 1-5; statements rated below 3 point at
/// the exercises that give evidence for them.
pub fn confidence(unit: &Unit) -> String {
    let mut html = String::new();
    let _ = writeln!(
        html,
        "## Confidence check\n\nRate each statement from 1 (not yet) to 5 (confidently). Any rating below 3 means: practise before you go on; the page says with which exercises. `kubelab confidence --self-rating 4,3,5,2,4` compares the same ratings with your results.\n"
    );
    let _ = writeln!(
        html,
        "<div class=\"kl-confidence\" data-unit=\"{}\">",
        unit.file.id
    );
    for c in &unit.file.confidence {
        let practice: Vec<_> = unit
            .exercises
            .iter()
            .filter(|e| e.file.evidence.contains(&c.id))
            .map(|e| json!({"title": e.file.title, "href": format!("{}.html", e.id())}))
            .collect();
        let _ = writeln!(
            html,
            "<fieldset class=\"kl-statement\" data-statement=\"{id}\" data-practice=\"{practice}\">\n<legend>{text}</legend>",
            id = c.id,
            practice = html_escape(&json!(practice).to_string()),
            text = html_escape(&c.statement),
        );
        for r in 1..=5 {
            let _ = writeln!(
                html,
                "<label><input type=\"radio\" name=\"kl-{unit}-{id}\" value=\"{r}\"> {r}</label>",
                unit = unit.file.id,
                id = c.id
            );
        }
        let _ = writeln!(html, "</fieldset>");
    }
    let _ = writeln!(
        html,
        "<p><button type=\"button\" class=\"kl-confidence-check\">What should I practise?</button></p>\n<div class=\"kl-feedback\" aria-live=\"polite\" hidden></div>\n</div>\n"
    );
    html
}
