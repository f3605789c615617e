/* Teachers' pages: the new-session form (time zone, age band), the live
   dashboard (counts, charts, a child's "I'd like to talk" alert), the projector
   (live vote chart, keyboard, lesson timer, full screen) and the print buttons.
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

  /* ------------------------------------------------------------ new session */
  var newSession = document.getElementById("new-session");
  if (newSession) {
    var zone = document.getElementById("time-zone");
    try {
      if (zone) zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) { /* the school's times are then shown in UTC */ }
    // an age band offers only its stories (the server checks it again)
    var filterStories = function () {
      var picked = newSession.querySelector('input[name="age_band"]:checked');
      var band = picked ? picked.value : "";
      Array.prototype.forEach.call(newSession.querySelectorAll(".story-picker li"), function (li) {
        var fits = !band || li.getAttribute("data-band") === band;
        li.hidden = !fits;
        if (!fits) li.querySelector("input").checked = false;
      });
    };
    Array.prototype.forEach.call(newSession.querySelectorAll('input[name="age_band"]'), function (r) {
      r.addEventListener("change", filterStories);
    });
    filterStories();
  }

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
      alertOne: dash.getAttribute("data-alert-one"),
      alertSummary: dash.getAttribute("data-alert-summary"),
      alertSeen: dash.getAttribute("data-alert-seen"),
    };
    var label = function (c) { return c && c.few ? words.few : String(c ? c.count : 0); };
    var countCell = function (c) {
      var td = el("td", "num");
      td.appendChild(el("span", "count", label(c)));
      return td;
    };
    var rowHead = function (text) {
      var th = el("th", null, text);
      th.setAttribute("scope", "row");
      return th;
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

    var renderAlerts = function (alerts) {
      var box = document.getElementById("alerts");
      var list = document.getElementById("alert-list");
      if (!box || !list) return;
      alerts = alerts || [];
      var key = alerts.map(function (a) { return a.id; }).join(",");
      if (list.getAttribute("data-key") === key) return;
      list.setAttribute("data-key", key);
      clear(list);
      alerts.forEach(function (a) {
        var li = el("li");
        li.setAttribute("data-alert", String(a.id));
        li.appendChild(el("span", "alert-text", fmt(words.alertOne, { name: a.name, time: a.time })));
        var form = el("form", "inline-form");
        form.method = "post";
        form.action = dash.getAttribute("data-endpoint").replace(/data\.json$/, "alerts/" + a.id + "/seen");
        var token = el("input");
        token.type = "hidden";
        token.name = dash.getAttribute("data-csrf-field");
        token.value = dash.getAttribute("data-csrf");
        form.appendChild(token);
        var button = el("button", "secondary small", words.alertSeen);
        button.type = "submit";
        form.appendChild(button);
        li.appendChild(form);
        list.appendChild(li);
      });
      document.getElementById("alerts-count").textContent = fmt(words.alertSummary, { n: alerts.length });
      box.hidden = alerts.length === 0;
    };

    var render = function (data) {
      document.getElementById("joined-count").textContent = String(data.joined);
      document.getElementById("active-count").textContent = label(data.active);
      var status = document.getElementById("status");
      status.textContent = data.status === "open" ? words.open : words.ended;
      status.className = "status status-" + data.status;
      renderAlerts(data.alerts);

      var names = document.getElementById("pseudonyms");
      clear(names);
      (data.pseudonyms || []).forEach(function (name) { names.appendChild(el("li", "chip", name)); });
      document.getElementById("no-one").hidden = (data.pseudonyms || []).length > 0;

      var stories = document.getElementById("stories-body");
      clear(stories);
      (data.stories || []).forEach(function (s) {
        var tr = el("tr");
        tr.setAttribute("data-story", s.id);
        tr.appendChild(rowHead(s.title));
        tr.appendChild(countCell(s.started));
        tr.appendChild(countCell(s.finished));
        tr.appendChild(el("td", "num", s.average_score === null ? words.notYet : fmt(words.score, { n: s.average_score })));
        stories.appendChild(tr);
      });

      var tactics = document.getElementById("tactics-body");
      clear(tactics);
      (data.tactics || []).forEach(function (x) {
        var tr = el("tr");
        tr.setAttribute("data-tactic", x.id);
        tr.appendChild(rowHead(x.name));
        tr.appendChild(countCell(x.spotted));
        tr.appendChild(countCell(x.missed));
        tactics.appendChild(tr);
      });
      emptyRow(tactics, 3);

      (data.steps || []).forEach(function (story) {
        var table = document.querySelector('.steps-table[data-story="' + story.id + '"]');
        if (!table) return;
        story.steps.forEach(function (step) {
          var cells = table.querySelectorAll('tr[data-step="' + step.id + '"] .count');
          if (cells.length === 2) {
            cells[0].textContent = label(step.safe);
            cells[1].textContent = label(step.risky);
          }
        });
      });

      var quiz = data.quiz || {};
      document.getElementById("quiz-learners").textContent = label(quiz.learners);
      document.getElementById("quiz-right").textContent = percentText(quiz.right_percent);
      var bands = quiz.bands || {};
      Array.prototype.forEach.call(document.querySelectorAll("#bands-body tr"), function (tr) {
        var c = bands[tr.getAttribute("data-band")] || { count: 0, few: false };
        var td = tr.querySelector("td");
        clear(td);
        td.appendChild(el("span", "count", label(c)));
      });
      var quizBody = document.getElementById("quiz-body");
      clear(quizBody);
      (quiz.by_tactic || []).forEach(function (x) {
        var tr = el("tr");
        tr.setAttribute("data-tactic", x.id);
        tr.appendChild(rowHead(x.name));
        tr.appendChild(countCell(x.learners));
        tr.appendChild(el("td", "num", percentText(x.right_percent)));
        quizBody.appendChild(tr);
      });
      emptyRow(quizBody, 3);
      if (window.LumiCharts) window.LumiCharts.figures(dash, data);
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
  if (projector) {
    var code = projector.getAttribute("data-code");
    var few = projector.getAttribute("data-few");

    /* Lesson timer: counts up from "start", kept in this browser per class (the
       page reloads at every step), paused and reset by the teacher. */
    var TIMER_KEY = "lumi.timer." + code;
    var clock = document.getElementById("timer-value");
    var toggle = document.getElementById("timer-toggle");
    var readTimer = function () {
      try {
        var saved = JSON.parse(window.localStorage.getItem(TIMER_KEY) || "null");
        if (saved && typeof saved.elapsed === "number") return saved;
      } catch (e) { /* blocked storage: the timer lives in this page only */ }
      return { elapsed: 0, since: null };
    };
    var timer = readTimer();
    var saveTimer = function () {
      try { window.localStorage.setItem(TIMER_KEY, JSON.stringify(timer)); } catch (e) { /* ignore */ }
    };
    var showTimer = function () {
      var ms = timer.elapsed + (timer.since ? Date.now() - timer.since : 0);
      var seconds = Math.floor(ms / 1000);
      clock.textContent = ("0" + Math.floor(seconds / 60)).slice(-2) + ":" + ("0" + (seconds % 60)).slice(-2);
      toggle.textContent = projector.getAttribute(timer.since ? "data-timer-pause" : "data-timer-start");
      toggle.setAttribute("aria-pressed", timer.since ? "true" : "false");
    };
    var toggleTimer = function () {
      if (timer.since) {
        timer.elapsed += Date.now() - timer.since;
        timer.since = null;
      } else {
        timer.since = Date.now();
      }
      saveTimer();
      showTimer();
    };
    toggle.addEventListener("click", toggleTimer);
    document.getElementById("timer-reset").addEventListener("click", function () {
      timer = { elapsed: 0, since: null };
      saveTimer();
      showTimer();
    });
    showTimer();
    window.setInterval(showTimer, 1000);

    var fullscreen = function () {
      if (document.fullscreenElement) {
        if (document.exitFullscreen) document.exitFullscreen();
      } else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () { /* not allowed here */ });
      }
    };
    document.getElementById("fullscreen").addEventListener("click", fullscreen);

    /* Keyboard: Space or -> the main action, R show the answers, T timer, F full screen. */
    var press = function (button) {
      if (!button) return false;
      button.click();
      return true;
    };
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      var onControl = target && target.closest && target.closest("button, a, input, select, textarea");
      var key = event.key;
      var done = false;
      if ((key === " " || key === "Spacebar" || key === "ArrowRight" || key === "PageDown") && !onControl) {
        done = press(projector.querySelector('[data-key="1"]'));
      } else if (key === "ArrowRight" && onControl) {
        done = press(projector.querySelector('[data-key="1"]'));
      } else if (key === "r" || key === "R") {
        done = press(document.getElementById("reveal"));
      } else if (key === "t" || key === "T") {
        toggleTimer();
        done = true;
      } else if (key === "f" || key === "F") {
        fullscreen();
        done = true;
      } else if (key === "ArrowDown" || key === "ArrowUp") {
        var buttons = Array.prototype.slice.call(projector.querySelectorAll(".pj-controls .controls:first-child button, .story-buttons button"));
        if (buttons.length) {
          var at = buttons.indexOf(document.activeElement);
          var next = key === "ArrowDown" ? at + 1 : at - 1;
          buttons[(next + buttons.length) % buttons.length].focus();
          done = true;
        }
      }
      if (done) event.preventDefault();
    });

    /* The live vote: counts and the bar chart, every 2 s until the answers are shown. */
    if (projector.getAttribute("data-mode") === "choice") {
      var url = projector.getAttribute("data-endpoint");
      var round = Number(projector.getAttribute("data-round"));
      var revealed = projector.getAttribute("data-revealed") === "1";
      var wait = Math.max(1000, Number(projector.getAttribute("data-refresh")) || 2000);
      var canvas = document.getElementById("vote-chart");
      var update = function (data) {
        if (data.round !== round || data.revealed !== revealed) {
          window.location.reload(); // another window moved the story on
          return;
        }
        (data.choices || []).forEach(function (c) {
          var item = projector.querySelector('[data-choice="' + c.id + '"]');
          if (item) item.querySelector(".count").textContent = c.label;
        });
        document.getElementById("vote-total").textContent = data.total_label;
        if (window.LumiCharts && canvas) window.LumiCharts.votes(canvas, data, few);
        projector.setAttribute("data-loaded", String(Number(projector.getAttribute("data-loaded") || "0") + 1));
      };
      var tick = function () {
        if (document.hidden) return;
        getJSON(url).then(update).catch(function () { /* next time */ });
      };
      tick();
      if (!revealed) window.setInterval(tick, wait);
    }
  }
})();
