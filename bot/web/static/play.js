/* Lumi's play payloads (issue 20): a story's picture (story_picture), the
   manipulator's message as it would look on a phone or in a game chat
   (story_message) with its "spot the trick" game, and the end of a quiz
   (quiz_end). Loaded before chat.js, which calls LumiPlay.create(api).
   Everything is built with textContent and setAttribute: never innerHTML. */
(function () {
  "use strict";

  var APPS = ["game_chat", "dm", "photo_chat", "video_call", "live", "group"];
  var APP_ICONS = { game_chat: "🎮", dm: "💬", photo_chat: "📷", video_call: "📹", live: "🔴", group: "👥" };
  var COLOURS = ["blue", "green", "orange", "pink", "purple", "red", "teal", "brown"];
  var PICTURE_ID = /^[a-z0-9_]{1,40}$/;
  var TIME = /^[0-2][0-9]:[0-5][0-9]$/;

  function create(api) {
    var el = api.el;
    var tr = api.tr;

    function str(value) { return typeof value === "string" ? value : ""; }

    function tacticName(id) {
      var s = api.strings();
      return (s && s.tactics && s.tactics[id]) || String(id);
    }
    function tacticShort(id) {
      var s = api.strings();
      return (s && s.tactic_short && s.tactic_short[id]) || "";
    }

    /* ----------------------------------------------------------- picture */

    function renderPicture(c) {
      var s = api.strings();
      var known = s && Array.isArray(s.pictures) ? s.pictures : [];
      var id = PICTURE_ID.test(str(c.picture)) && known.indexOf(c.picture) >= 0 ? c.picture : "default";
      var figure = el("figure", "story-picture");
      var img = el("img");
      img.setAttribute("src", "/static/stories/" + id + ".svg");
      img.setAttribute("alt", str(c.alt));
      img.setAttribute("width", "320");
      img.setAttribute("height", "180");
      figure.appendChild(img);
      return figure;
    }

    /* ----------------------------------------------------------- message mock-up */

    function segmentsOf(c) {
      var text = str(c.text);
      var list = Array.isArray(c.segments) ? c.segments : [];
      var joined = list.map(function (s) { return s && typeof s.text === "string" ? s.text : ""; }).join("");
      if (!list.length || joined !== text) return [{ text: text, tactic: null }];
      return list.map(function (s) {
        return { text: s.text, tactic: typeof s.tactic === "string" && s.tactic ? s.tactic : null };
      });
    }

    function moveFocus(words, from, to) {
      if (to < 0 || to >= words.length) return;
      words[from].setAttribute("tabindex", "-1");
      words[to].setAttribute("tabindex", "0");
      words[to].focus();
    }

    function spotGame(textNode, pieces, feedback) {
      var words = [];
      var tricks = 0;
      pieces.forEach(function (piece, index) {
        if (piece.tactic) tricks += 1;
        piece.text.split(/(\s+)/).forEach(function (part) {
          if (!part) return;
          if (/^\s+$/.test(part)) {
            textNode.appendChild(document.createTextNode(part));
            return;
          }
          var word = el("button", "spot-word", part);
          word.type = "button";
          word.setAttribute("tabindex", words.length ? "-1" : "0");
          word.setAttribute("aria-pressed", "false");
          word.setAttribute("data-seg", String(index));
          if (piece.tactic) word.setAttribute("data-tactic", piece.tactic);
          words.push(word);
          textNode.appendChild(word);
        });
      });
      var found = {};
      words.forEach(function (word, position) {
        word.addEventListener("keydown", function (event) {
          var keys = { ArrowRight: position + 1, ArrowDown: position + 1, ArrowLeft: position - 1, ArrowUp: position - 1, Home: 0, End: words.length - 1 };
          if (Object.prototype.hasOwnProperty.call(keys, event.key)) {
            event.preventDefault();
            moveFocus(words, position, keys[event.key]);
          }
        });
        word.addEventListener("click", function () {
          words.forEach(function (w) { w.setAttribute("tabindex", w === word ? "0" : "-1"); });
          var tactic = word.getAttribute("data-tactic");
          var seg = word.getAttribute("data-seg");
          var said;
          if (tactic) {
            words.forEach(function (w) {
              if (w.getAttribute("data-seg") === seg) {
                w.classList.add("found");
                w.classList.remove("missed");
                w.setAttribute("aria-pressed", "true");
              }
            });
            found[seg] = true;
            var count = Object.keys(found).length;
            said = tr("js.spot_right", { words: pieces[Number(seg)].text.trim(), name: tacticName(tactic), short: tacticShort(tactic) });
            said += " " + (count >= tricks ? tr("js.spot_done") : tr("js.spot_count", { found: count, total: tricks }));
          } else {
            word.classList.add("missed");
            said = tr("js.spot_wrong");
          }
          feedback.textContent = said;
          api.speak(said);
        });
      });
      return tricks;
    }

    function renderMessage(c) {
      var app = APPS.indexOf(c.app) >= 0 ? c.app : "game_chat";
      var sender = str(c.sender);
      var appName = str(c.app_name);
      var time = TIME.test(str(c.time)) ? c.time : "";
      var figure = el("figure", "mockup mockup-" + app);
      figure.setAttribute("aria-label", tr("js.mockup_label", { sender: sender, app: appName, time: time }));

      var bar = el("div", "mockup-bar");
      bar.appendChild(el("span", "mockup-icon", APP_ICONS[app])).setAttribute("aria-hidden", "true");
      bar.appendChild(el("span", "mockup-app", appName));
      bar.appendChild(el("span", "mockup-note", tr("js.mockup_pretend")));
      figure.appendChild(bar);

      var row = el("div", "mockup-row");
      var colour = COLOURS.indexOf(c.avatar) >= 0 ? c.avatar : "";
      var avatar = el("span", "mockup-avatar" + (colour ? " avatar-" + colour : ""), (sender.charAt(0) || "?").toUpperCase());
      avatar.setAttribute("aria-hidden", "true");
      row.appendChild(avatar);
      var bubble = el("div", "mockup-bubble");
      var meta = el("p", "mockup-meta");
      meta.appendChild(el("span", "mockup-sender", sender));
      if (time) {
        meta.appendChild(document.createTextNode(" · "));
        var when = el("time", "mockup-time", time);
        when.setAttribute("datetime", time);
        meta.appendChild(when);
      }
      bubble.appendChild(meta);
      var textNode = el("p", "mockup-text");
      bubble.appendChild(textNode);
      row.appendChild(bubble);
      figure.appendChild(row);

      var pieces = segmentsOf(c);
      if (pieces.some(function (p) { return p.tactic; })) {
        var spot = el("div", "spot");
        spot.appendChild(el("p", "spot-title", tr("js.spot_title")));
        var feedback = el("p", "spot-feedback");
        feedback.setAttribute("role", "status");
        textNode.setAttribute("role", "group");
        textNode.setAttribute("aria-label", tr("js.spot_group"));
        spotGame(textNode, pieces, feedback);
        spot.appendChild(feedback);
        figure.appendChild(spot);
      } else {
        textNode.textContent = str(c.text);
      }
      return figure;
    }

    /* ----------------------------------------------------------- quiz end */

    function renderQuizEnd(c) {
      var box = el("div", "celebration quiz-end");
      box.appendChild(el("p", "celebration-title", tr("js.quiz_done")));
      var right = Math.max(0, Number(c.right) || 0);
      var total = Math.max(0, Number(c.total) || 0);
      var points = Math.max(0, Number(c.points) || 0);
      box.appendChild(el("p", "celebration-score", tr("js.quiz_score", { right: right, total: total, points: points })));
      box.appendChild(certificateLink());
      return box;
    }

    function certificateLink() {
      var line = el("p", "certificate-line");
      var link = el("a", "print-link certificate-link", tr("js.certificate"));
      link.setAttribute("href", api.certificateUrl());
      line.appendChild(link);
      return line;
    }

    return {
      render: function (c) {
        switch (c.kind) {
          case "story_picture": return renderPicture(c);
          case "story_message": return renderMessage(c);
          case "quiz_end": return renderQuizEnd(c);
          default: return null;
        }
      },
      /* What read-aloud says for a payload ("" for nothing). */
      speakable: function (c) {
        if (!c || typeof c !== "object") return "";
        if (c.kind === "story_message") return tr("js.mockup_read", { sender: str(c.sender), text: str(c.text) });
        if (c.kind === "quiz_end") {
          return tr("js.quiz_done") + " " + tr("js.quiz_score", { right: Number(c.right) || 0, total: Number(c.total) || 0, points: Number(c.points) || 0 });
        }
        return "";
      },
      certificateLink: certificateLink,
    };
  }

  window.LumiPlay = { create: create };
})();
