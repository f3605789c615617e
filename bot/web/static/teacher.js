/* Teachers' pages: the live dashboard and the projector's vote counts refresh
   themselves from same-origin JSON; the lesson plan's print button.
   Plain JavaScript, no framework. Everything is written with textContent:
   the JSON holds counts, ids, titles and class names only. */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }
  function fmt(template, params) {
    return String(template || "").replace(/%\{(\w+)\}/g, function (all, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : all;
    });
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) {
        window.location.assign("/teacher/login");
        throw new Error("signed out");
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  /* ------------------------------------------------------------ print button */
  var printButton = document.getElementById("print-button");
  if (printButton) printButton.addEventListener("click", function () { window.print(); });

  /* ------------------------------------------------------------ dashboard */
  var dash = document.getElementById("dashboard");
  if (dash) {
    var words = {
      few: dash.getAttribute("data-few"),
      notYet: dash.getAttribute("data-not-yet"),
      percent: dash.getAttribute("data-percent"),
      score: dash.getAttribute("data-score"),
      updated: dash.getAttribute("data-updated"),
      offline: dash.getAttribute("data-offline"),
      open: dash.getAttribute("data-status-open"),
      ended: dash.getAttribute("data-status-ended"),
    };
    var label = function (c) { return c && c.few ? words.few : String(c ? c.count : 0); };
    var bar = function (c, max, kind) {
      var p = el("progress", "bar bar-" + kind + (c && c.few ? " few" : ""));
      p.max = Math.max(1, max);
      p.value = c && c.count ? c.count : 0;
      p.setAttribute("aria-hidden", "true");
      return p;
    };
    var countCell = function (c, max, kind) {
      var td = el("td", "num");
      td.appendChild(el("span", "count", label(c)));
      if (kind) td.appendChild(bar(c, max, kind));
      return td;
    };
    var emptyRow = function (body, columns) {
      if (body.childNodes.length) return;
      var tr = el("tr", "empty-row");
      var td = el("td", null, words.notYet);
      td.setAttribute("colspan", String(columns));
      tr.appendChild(td);
      body.appendChild(tr);
    };
    var percentText = function (n) { return n === null || n === undefined ? words.notYet : fmt(words.percent, { n: n }); };

    var render = function (data) {
      var max = Math.max(1, data.joined || 0);
      document.getElementById("joined-count").textContent = String(data.joined);
      document.getElementById("active-count").textContent = label(data.active);
      var status = document.getElementById("status");
      status.textContent = data.status === "open" ? words.open : words.ended;
      status.className = "status status-" + data.status;

      var names = document.getElementById("pseudonyms");
      clear(names);
      (data.pseudonyms || []).forEach(function (name) { names.appendChild(el("li", "chip", name)); });
      document.getElementById("no-one").hidden = (data.pseudonyms || []).length > 0;

      var stories = document.getElementById("stories-body");
      clear(stories);
      (data.stories || []).forEach(function (s) {
        var tr = el("tr");
        tr.setAttribute("data-story", s.id);
        var th = el("th", null, s.title);
        th.setAttribute("scope", "row");
        tr.appendChild(th);
        tr.appendChild(countCell(s.started, max, "started"));
        tr.appendChild(countCell(s.finished, max, "finished"));
        tr.appendChild(el("td", "num", s.average_score === null ? words.notYet : fmt(words.score, { n: s.average_score })));
        stories.appendChild(tr);
      });

      var tactics = document.getElementById("tactics-body");
      clear(tactics);
      (data.tactics || []).forEach(function (x) {
        var tr = el("tr");
        tr.setAttribute("data-tactic", x.id);
        var th = el("th", null, x.name);
        th.setAttribute("scope", "row");
        tr.appendChild(th);
        tr.appendChild(countCell(x.spotted, max, "spotted"));
        tr.appendChild(countCell(x.missed, max, "missed"));
        tactics.appendChild(tr);
      });
      emptyRow(tactics, 3);

      var quiz = data.quiz || {};
      document.getElementById("quiz-learners").textContent = label(quiz.learners);
      document.getElementById("quiz-right").textContent = percentText(quiz.right_percent);
      var bands = quiz.bands || {};
      Array.prototype.forEach.call(document.querySelectorAll("#bands-body tr"), function (tr) {
        var band = tr.getAttribute("data-band");
        var c = bands[band] || { count: 0, few: false };
        var td = tr.querySelector("td");
        clear(td);
        td.appendChild(el("span", "count", label(c)));
        td.appendChild(bar(c, max, band));
      });
      var quizBody = document.getElementById("quiz-body");
      clear(quizBody);
      (quiz.by_tactic || []).forEach(function (x) {
        var tr = el("tr");
        tr.setAttribute("data-tactic", x.id);
        var th = el("th", null, x.name);
        th.setAttribute("scope", "row");
        tr.appendChild(th);
        tr.appendChild(countCell(x.learners, max, null));
        tr.appendChild(el("td", "num", percentText(x.right_percent)));
        quizBody.appendChild(tr);
      });
      emptyRow(quizBody, 3);
      var now = new Date();
      var time = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2) + ":" + ("0" + now.getSeconds()).slice(-2);
      document.getElementById("updated").textContent = fmt(words.updated, { time: time });
      dash.setAttribute("data-loaded", String(Number(dash.getAttribute("data-loaded") || "0") + 1));
    };

    var endpoint = dash.getAttribute("data-endpoint");
    var every = Math.max(2000, Number(dash.getAttribute("data-refresh")) || 4000);
    var refresh = function () {
      if (document.hidden) return;
      getJSON(endpoint).then(render).catch(function () {
        document.getElementById("updated").textContent = words.offline;
      });
    };
    refresh();
    window.setInterval(refresh, every);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  }

  /* ------------------------------------------------------------ projector */
  var projector = document.getElementById("projector");
  if (projector && projector.getAttribute("data-mode") === "choice") {
    var url = projector.getAttribute("data-endpoint");
    var round = Number(projector.getAttribute("data-round"));
    var revealed = projector.getAttribute("data-revealed") === "1";
    var wait = Math.max(1000, Number(projector.getAttribute("data-refresh")) || 2000);
    var update = function (data) {
      if (data.round !== round || data.revealed !== revealed) {
        window.location.reload(); // another window moved the story on
        return;
      }
      (data.choices || []).forEach(function (c) {
        var item = projector.querySelector('[data-choice="' + c.id + '"]');
        if (!item) return;
        item.querySelector(".count").textContent = c.label;
        var p = item.querySelector("progress");
        p.value = c.bar;
        p.classList.toggle("few", !!(c.votes && c.votes.few));
      });
      document.getElementById("vote-total").textContent = data.total_label;
      projector.setAttribute("data-loaded", String(Number(projector.getAttribute("data-loaded") || "0") + 1));
    };
    var tick = function () {
      if (document.hidden) return;
      getJSON(url).then(update).catch(function () { /* next time */ });
    };
    tick();
    if (!revealed) window.setInterval(tick, wait);
  }
})();
