//! The board's one page: self-contained (no CDN, works offline), learners by exercises, each
//! cell its verdict, points and last change; a cell opens that learner's feedback. Updated in
//! place from the server's events, readable at 390 px (the learner column stays while the
//! table scrolls) and in print. Every text from the class is set as text, never as HTML.

/// Only this page's own inline script and style, and requests back to the board.
pub const CSP: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";

pub const HTML: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kubelab class board</title>
<style>
  :root { --pass: #1a7f37; --fail: #cf222e; --todo: #6e7781; --miss: #9a6700; font-family: system-ui, sans-serif; }
  body { margin: 0.5rem; color: #1f2328; }
  h1 { font-size: 1.2rem; margin: 0.2rem 0; }
  #meta { color: #57606a; font-size: 0.85rem; margin-bottom: 0.5rem; }
  .scroll { overflow-x: auto; max-width: 100%; }
  table { border-collapse: collapse; font-size: 0.85rem; }
  th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; }
  th.learner, td.learner { position: sticky; left: 0; background: #fff; z-index: 1; max-width: 10rem; overflow-wrap: anywhere; }
  thead th { background: #f6f8fa; }
  td.cell { cursor: pointer; min-width: 6rem; }
  td.cell:focus { outline: 2px solid #0969da; }
  .passed { color: var(--pass); } .failed { color: var(--fail); }
  .not-attempted { color: var(--todo); } .missing { color: var(--miss); }
  td.passed { background: #dafbe1; } td.failed { background: #ffebe9; }
  .mark { font-weight: bold; } .changed { display: block; color: #57606a; font-size: 0.75rem; }
  #feedback { white-space: pre-wrap; border: 1px solid #d0d7de; padding: 0.5rem; margin-top: 0.5rem; font-size: 0.85rem; }
  #feedback[hidden] { display: none; }
  @media print { #feedback, #live { display: none; } td.cell { cursor: auto; } .scroll { overflow: visible; } }
</style>
</head>
<body>
<h1>kubelab class board</h1>
<div id="meta"><span id="live">connecting…</span> <span id="counts"></span></div>
<div class="scroll"><table id="board"><thead></thead><tbody></tbody></table></div>
<pre id="feedback" hidden></pre>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const marks = {"passed": "✓", "failed": "✗", "not-attempted": "○", "missing": "–"};
function ago(at) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(at)) / 1000));
  return s < 60 ? s + "s ago" : s < 3600 ? Math.round(s / 60) + "m ago" : Math.round(s / 3600) + "h ago";
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
async function showFeedback(learner) {
  const box = document.getElementById("feedback");
  const r = await fetch("feedback/" + encodeURIComponent(learner) + q);
  box.textContent = r.ok ? await r.text() : "no feedback for " + learner;
  box.hidden = false;
  box.scrollIntoView({block: "nearest"});
}
function render(view) {
  const head = document.querySelector("#board thead");
  const body = document.querySelector("#board tbody");
  const hr = el("tr");
  hr.appendChild(el("th", "learner", "learner"));
  for (const x of view.exercises) {
    const th = el("th", x.title);
    th.title = x.id + " · " + x.points + " points";
    hr.appendChild(th);
  }
  hr.appendChild(el("th", "total"));
  head.replaceChildren(hr);
  const rows = [];
  for (const r of view.rows) {
    const tr = el("tr");
    tr.dataset.learner = r.learner;
    tr.appendChild(el("td", r.learner, "learner"));
    r.cells.forEach((c, i) => {
      const td = el("td", undefined, "cell " + c.status);
      td.dataset.exercise = view.exercises[i].id;
      td.dataset.status = c.status;
      td.tabIndex = 0;
      td.appendChild(el("span", marks[c.status] + " ", "mark"));
      td.appendChild(el("span", c.points + "/" + c.maximum));
      if (c.changed) td.appendChild(el("span", ago(c.changed.at) + ": " + c.changed.what, "changed"));
      td.title = c.status.replace("-", " ") + ": open " + r.learner + "'s feedback";
      td.addEventListener("click", () => showFeedback(r.learner));
      td.addEventListener("keydown", (e) => { if (e.key === "Enter") showFeedback(r.learner); });
      tr.appendChild(td);
    });
    tr.appendChild(el("td", r.total + "/" + r.maximum));
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  document.getElementById("counts").textContent =
    view.rows.length + " learners · update " + view.version + " · " + view.rejudged +
    " namespaces re-judged · " + view.api_calls + " API calls";
  document.body.dataset.version = view.version;
}
fetch("state" + q).then((r) => r.json()).then(render);
const source = new EventSource("events" + q);
source.addEventListener("board", (e) => render(JSON.parse(e.data)));
source.onopen = () => { document.getElementById("live").textContent = "live"; };
source.onerror = () => { document.getElementById("live").textContent = "reconnecting…"; };
</script>
</body>
</html>
"##;
