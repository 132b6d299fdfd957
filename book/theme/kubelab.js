// kubelab's course site: the quizzes and the confidence check, answered in the page and
// judged here, offline. The accepted answers and explanations come from units/ through the
// kubelab preprocessor (data-* attributes); the same rules as `kubelab check`.
(function () {
  "use strict";

  // Seconds as `kubelab check` reads them: a number, or a duration such as 90s, 1m30s, 2m.
  function seconds(text) {
    var t = text.trim().toLowerCase().replace(/\s+/g, "");
    if (/^\d+(\.\d+)?$/.test(t)) return parseFloat(t);
    if (!/^(\d+(\.\d+)?(h|m|s))+$/.test(t)) return NaN;
    var total = 0, scale = { h: 3600, m: 60, s: 1 };
    t.replace(/(\d+(?:\.\d+)?)(h|m|s)/g, function (_, n, u) { total += parseFloat(n) * scale[u]; });
    return total;
  }

  function accepted(q, answer) {
    var d = q.dataset;
    if (d.min !== undefined || d.max !== undefined) {
      var n = d.unit === "seconds" ? seconds(answer) : Number(answer.trim());
      if (answer.trim() === "" || isNaN(n)) return false;
      return (d.min === undefined || n >= Number(d.min)) && (d.max === undefined || n <= Number(d.max));
    }
    var accept = JSON.parse(d.accept || "[]");
    if (accept.length === 0) return answer.trim() !== "";
    return accept.some(function (a) { return a.toLowerCase() === answer.trim().toLowerCase(); });
  }

  function check(q) {
    var answer = q.querySelector(".kl-answer").value;
    var ok = accepted(q, answer);
    var feedback = q.querySelector(".kl-feedback");
    var verdict = q.querySelector(".kl-verdict");
    verdict.textContent = (answer.trim() === "" ? "No answer yet" : ok ? "Accepted" : "Not accepted") +
      ": expected " + q.dataset.expected + ".";
    q.classList.toggle("kl-right", ok);
    q.classList.toggle("kl-wrong", !ok);
    feedback.hidden = false;
    score(q.closest(".kl-quiz"));
  }

  function score(quiz) {
    var all = quiz.querySelectorAll(".kl-question");
    var answered = quiz.querySelectorAll(".kl-right, .kl-wrong").length;
    var right = quiz.querySelectorAll(".kl-right").length;
    var line = quiz.querySelector(".kl-score");
    if (!line) {
      line = document.createElement("p");
      line.className = "kl-score";
      line.setAttribute("aria-live", "polite");
      quiz.appendChild(line);
    }
    line.textContent = right + " of " + all.length + " accepted (" + answered + " answered).";
  }

  function confidence(box) {
    var statements = Array.prototype.slice.call(box.querySelectorAll(".kl-statement"));
    var feedback = box.querySelector(".kl-feedback");
    var ratings = statements.map(function (s) {
      var picked = s.querySelector("input:checked");
      return picked ? Number(picked.value) : null;
    });
    var missing = ratings.filter(function (r) { return r === null; }).length;
    feedback.hidden = false;
    feedback.textContent = "";
    if (missing > 0) {
      feedback.textContent = "Rate every statement first: " + missing + " left.";
      return;
    }
    var low = statements.filter(function (_, i) { return ratings[i] < 3; });
    var mean = ratings.reduce(function (a, b) { return a + b; }, 0) / ratings.length;
    var head = document.createElement("p");
    head.textContent = "Average " + mean.toFixed(1) + " of 5. " + (low.length === 0
      ? "Every rating is 3 or more: you are ready for the next unit."
      : "Below 3 on " + low.length + " statement" + (low.length > 1 ? "s" : "") + ": practise before you go on.");
    feedback.appendChild(head);
    if (low.length === 0) return;
    var list = document.createElement("ul");
    low.forEach(function (s) {
      var item = document.createElement("li");
      item.appendChild(document.createTextNode(s.querySelector("legend").textContent + " Practise with: "));
      JSON.parse(s.dataset.practice || "[]").forEach(function (p, i) {
        if (i > 0) item.appendChild(document.createTextNode(", "));
        var a = document.createElement("a");
        a.href = p.href;
        a.textContent = p.title;
        item.appendChild(a);
      });
      list.appendChild(item);
    });
    feedback.appendChild(list);
  }

  document.querySelectorAll(".kl-question").forEach(function (q) {
    q.querySelector(".kl-check").addEventListener("click", function () { check(q); });
    q.querySelector(".kl-answer").addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); check(q); }
    });
  });
  document.querySelectorAll(".kl-confidence").forEach(function (box) {
    box.querySelector(".kl-confidence-check").addEventListener("click", function () { confidence(box); });
  });
})();
