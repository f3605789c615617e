/* Lumi's chat page. Plain JavaScript, no framework, no build step.
   Every message is rendered as TEXT (textContent), never as HTML.
   The page talks only to its own server: POST /api/message (proxied to Rasa),
   GET /api/strings (words in the page language), GET /api/progress (badges),
   and, in a class, /api/class/join, /api/class/poll and /api/class/vote. */
(function () {
  "use strict";

  var LEARNER_KEY = "lumi.learner";
  var PREFS_KEY = "lumi.prefs";
  var LOG_KEY = "lumi.log"; // sessionStorage: gone when the tab closes
  var CLASS_KEY = "lumi.class"; // sessionStorage: the class joined in this tab (code, class name)
  var POLL_MS = 3000;
  var MAX_SAVED = 300;
  var ID_RE = /^[A-Za-z0-9_-]{8,64}$/;
  var LANGS = ["en", "fr"];
  var VOICE_LANG = { en: "en-GB", fr: "fr-FR" };

  var root = document.documentElement;
  var app = document.getElementById("chat-app");
  if (!app) return;
  var log = document.getElementById("log");
  var choices = document.getElementById("choices");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var thinking = document.getElementById("thinking");
  var countrySelect = document.getElementById("country");
  var ttsToggle = document.getElementById("tts-toggle");
  var fontToggle = document.getElementById("font-toggle");
  var bigToggle = document.getElementById("big-toggle");
  var shelfSummary = document.getElementById("shelf-summary");
  var readChoicesRow = document.getElementById("read-choices-row");
  var ageSelect = document.getElementById("age-band");
  var otherCountry = app.getAttribute("data-other-country") || "other";

  var lang = LANGS.indexOf(app.getAttribute("data-lang")) >= 0 ? app.getAttribute("data-lang") : "en";
  var botLang = lang;
  var strings = null;
  var prefs = readPrefs();
  var learner = learnerId();
  var coplay = app.getAttribute("data-coplay") === "1";
  var sendLanguage = true; // the first message of a page load carries the page language
  var browserLanguage = firstBrowserLanguage(); // a hint for short first messages, never a choice
  var sendCoplay = coplay;
  var transcript = [];
  var queue = Promise.resolve();
  var pending = 0;
  var shelf = { badges: {}, stories: {} };
  var shelfCount = 0;
  var shelfLoaded = false; // after the first load, a bigger shelf is news
  var shelfFresh = false;
  var classInfo = null; // {code, language, pseudonym, stories, country}
  var classLink = (app.getAttribute("data-class-code") || "").trim();
  var pollTimer = null;
  var vote = { key: "", round: 0, voted: null };
  var SET_COUNTRY = /^\/set_country\{"country":"([A-Z]{2})"\}$/;

  /* The first of the browser's languages that Lumi speaks ("fr-CA" -> "fr"), or null. */
  function firstBrowserLanguage() {
    var list = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
    for (var i = 0; i < list.length; i++) {
      var code = String(list[i] || "").slice(0, 2).toLowerCase();
      if (LANGS.indexOf(code) >= 0) return code;
    }
    return null;
  }

  var AGES = ["8-10", "11-13", "any"];
  var play = null; // LumiPlay (play.js): mock-ups, spot the trick, pictures, quiz end

  /* ---------------------------------------------------------------- storage */

  function store(kind) {
    try {
      return kind === "session" ? window.sessionStorage : window.localStorage;
    } catch (e) {
      return null;
    }
  }
  function getItem(kind, key) {
    var s = store(kind);
    try { return s ? s.getItem(key) : null; } catch (e) { return null; }
  }
  function setItem(kind, key, value) {
    var s = store(kind);
    try { if (s) s.setItem(key, value); } catch (e) { /* full or blocked */ }
  }
  function readPrefs() {
    try {
      var p = JSON.parse(getItem("local", PREFS_KEY) || "{}");
      return p && typeof p === "object" ? p : {};
    } catch (e) {
      return {};
    }
  }
  function savePrefs() { setItem("local", PREFS_KEY, JSON.stringify(prefs)); }

  /* ---------------------------------------------------------------- country */
  /* Known before it is needed: the child's own choice (kept on this device),
     else the class session's country (set by the teacher), else the region of
     the browser's language (fr-BE -> BE, en-AU -> AU; "fr" alone says nothing).
     "Another country" chosen by the child: no guess at all. */

  function knownCountry(code) {
    return typeof code === "string" && /^[A-Z]{2}$/.test(code) &&
      !!countrySelect.querySelector('option[data-country="' + code + '"]');
  }
  function browserRegion() {
    var tags = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
    for (var i = 0; i < tags.length; i++) {
      var match = /^[A-Za-z]{2,3}-([A-Za-z]{2})(?:-|$)/.exec(String(tags[i] || ""));
      if (match && knownCountry(match[1].toUpperCase())) return match[1].toUpperCase();
    }
    return null;
  }
  function effectiveCountry() {
    if (prefs.country === otherCountry) return null;
    if (knownCountry(prefs.country)) return prefs.country;
    if (classInfo && knownCountry(classInfo.country)) return classInfo.country;
    return browserRegion();
  }

  function newId() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return window.btoa(text).replace(/\+/g, "A").replace(/\//g, "_").replace(/=+$/, "");
  }
  function learnerId() {
    var id = getItem("local", LEARNER_KEY);
    if (!id || !ID_RE.test(id)) {
      id = newId();
      setItem("local", LEARNER_KEY, id);
    }
    return id;
  }

  function saveTranscript() {
    if (window.lumiExited) return;
    setItem("session", LOG_KEY, JSON.stringify(transcript.slice(-MAX_SAVED)));
  }
  function loadTranscript() {
    try {
      var saved = JSON.parse(getItem("session", LOG_KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) {
      return [];
    }
  }

  /* ---------------------------------------------------------------- words */

  function fmt(template, params) {
    return String(template || "").replace(/%\{(\w+)\}/g, function (all, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : all;
    });
  }
  function tr(key, params) {
    var value = strings && strings.t ? strings.t[key] : null;
    return fmt(value || "", params);
  }
  function loadStrings(code) {
    var url = "/api/strings?lang=" + encodeURIComponent(code);
    var country = effectiveCountry();
    if (country) url += "&country=" + encodeURIComponent(country);
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (data) {
        if (data && data.t) strings = data;
        return strings;
      });
  }

  /* Re-label the page in the current language (elements with data-t*). */
  function relabel() {
    if (!strings) return;
    root.lang = lang;
    app.setAttribute("data-lang", lang);
    document.title = tr("chat.title");
    Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
      var value = tr(node.getAttribute("data-t"));
      if (value) node.textContent = value;
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-t-label]"), function (node) {
      var value = tr(node.getAttribute("data-t-label"));
      if (value) node.setAttribute("aria-label", value);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-t-alt]"), function (node) {
      var value = tr(node.getAttribute("data-t-alt"));
      if (value) node.setAttribute("alt", value);
    });
    Array.prototype.forEach.call(document.querySelectorAll("option[data-country]"), function (option) {
      var name = strings.countries && strings.countries[option.value];
      if (name) option.textContent = name;
    });
    var other = lang === "en" ? "fr" : "en";
    var switcher = document.querySelector(".lang-switch");
    if (switcher) {
      switcher.textContent = tr("common.switch_to");
      switcher.setAttribute("lang", other);
      switcher.setAttribute("hreflang", other);
      switcher.setAttribute("aria-label", tr("common.switch_label"));
      switcher.setAttribute("href", "/?lang=" + other);
    }
    var exit = document.getElementById("quick-exit");
    if (exit) {
      exit.setAttribute("aria-label", tr("common.quick_exit_label"));
      exit.setAttribute("data-exit-url", "/weather?lang=" + lang);
      exit.setAttribute("href", "/weather?lang=" + lang);
      var label = exit.querySelector(".qe-text");
      if (label) label.textContent = "✖ " + tr("common.quick_exit");
      var keys = exit.querySelector(".qe-keys");
      if (keys) keys.textContent = tr("common.quick_exit_keys");
    }
    var skip = document.querySelector(".skip-link");
    if (skip) skip.textContent = tr("common.skip");
    var nav = document.querySelector(".site-nav");
    if (nav) {
      nav.setAttribute("aria-label", tr("common.nav_label"));
      var links = nav.querySelectorAll("a:not(.lang-switch)");
      if (links[0]) { links[0].textContent = tr("common.nav_chat"); links[0].setAttribute("href", "/?lang=" + lang); }
      if (links[1]) { links[1].textContent = tr("common.nav_parents"); updateParentsLink(links[1]); }
    }
    var footer = document.querySelector(".site-footer p");
    if (footer) footer.textContent = tr("common.footer");
    updatePrintLink();
    renderShelf();
    renderClass();
  }

  function updateParentsLink(node) {
    var country = effectiveCountry();
    var url = "/parents?lang=" + lang + (country ? "&country=" + encodeURIComponent(country) : "");
    node.setAttribute("href", url);
  }
  function updatePrintLink() {
    var link = document.getElementById("print-link");
    var certificate = document.getElementById("certificate-link");
    if (certificate) certificate.setAttribute("href", certificateUrl());
    if (!link) return;
    var url = "/print?learner=" + encodeURIComponent(learner) + "&lang=" + lang;
    var country = effectiveCountry();
    if (country) url += "&country=" + encodeURIComponent(country);
    link.setAttribute("href", url);
  }
  function certificateUrl() {
    return "/certificate?learner=" + encodeURIComponent(learner) + "&lang=" + lang;
  }

  /* ---------------------------------------------------------------- rendering */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function srLabel(text) { return el("span", "sr-only", text + " "); }

  function addChildMessage(text) {
    var item = el("div", "msg msg-child");
    item.appendChild(srLabel(tr("chat.you")));
    item.appendChild(el("p", "msg-text", text));
    log.appendChild(item);
    scrollDown();
  }

  function isCountryChoice(b) {
    return b && typeof b.payload === "string" && SET_COUNTRY.test(b.payload) && typeof b.title === "string";
  }

  /* A bot bubble. Country buttons ("which country are you in?") are compact
     chips inside the bubble; every other button goes to the choices below. */
  function addBotMessage(message, msgLang, isError) {
    var item = el("div", "msg msg-bot" + (isError ? " msg-error" : ""));
    item.setAttribute("lang", msgLang);
    var avatar = el("img", "msg-avatar");
    avatar.setAttribute("src", "/static/lumi-owl.svg");
    avatar.setAttribute("alt", "");
    avatar.setAttribute("width", "36");
    avatar.setAttribute("height", "36");
    item.appendChild(avatar);
    var bubble = el("div", "msg-body");
    bubble.appendChild(srLabel(tr("chat.lumi")));
    if (typeof message.text === "string" && message.text) {
      bubble.appendChild(el("p", "msg-text", message.text));
    }
    var chips = Array.isArray(message.buttons) ? message.buttons.filter(isCountryChoice) : [];
    if (chips.length) bubble.appendChild(renderCountryChips(chips));
    if (message.custom && typeof message.custom === "object") {
      var extra = renderCustom(message.custom);
      if (extra) bubble.appendChild(extra);
    }
    if (bubble.childNodes.length <= 1) return null; // nothing to show
    var spoken = messageSpeech(message);
    // first after the screen reader's "Lumi:", floated in the corner (lumi.css)
    if (spoken && canSpeak()) bubble.insertBefore(readButton(spoken, msgLang), bubble.childNodes[1] || null);
    item.appendChild(bubble);
    log.appendChild(item);
    return item;
  }

  function renderCountryChips(buttons) {
    var group = el("div", "country-chips");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", tr("chat.country_label"));
    buttons.forEach(function (b) {
      var chip = el("button", "chip-choice", b.title);
      chip.type = "button";
      chip.addEventListener("click", function () { choose(b); });
      group.appendChild(chip);
    });
    return group;
  }

  /* A payload that follows the text it belongs to joins that text's bubble.
     Its helplines are the numbers the text spells out for other clients: the
     text gives way to them (each helpline once on screen). */
  function attachPayload(item, custom) {
    var rendered = renderCustom(custom);
    if (!rendered) return;
    var bubble = item.querySelector(".msg-body");
    var text = bubble.querySelector(".msg-text");
    if (text && custom.kind === "safeguard" && hasContacts(custom)) {
      bubble.removeChild(text);
    } else if (text && custom.kind === "helplines") {
      text.textContent = text.textContent.split("\n")[0];
    }
    bubble.appendChild(rendered);
  }

  function hasContacts(custom) {
    return (custom.helplines || []).some(function (h) { return h && (h.phone || h.sms); });
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }
  function digits(number) { return String(number).replace(/[^0-9+]/g, ""); }

  function contactLink(href, text) {
    var li = el("li");
    var a = el("a", "contact", text);
    a.setAttribute("href", href);
    if (/^https?:/i.test(href)) a.setAttribute("rel", "noopener noreferrer");
    li.appendChild(a);
    return li;
  }

  /* The first reply's helplines: tap-to-call and tap-to-text buttons, in the
     order given (emergency and crisis lines first in danger). */
  function renderContacts(custom) {
    var lines = Array.isArray(custom.helplines) ? custom.helplines : [];
    if (!lines.length) return null;
    var danger = custom.level === "danger";
    var box = el("div", "contacts" + (danger ? " contacts-danger" : ""));
    if (hasContacts(custom)) {
      box.appendChild(el("p", "contacts-title", danger ? tr("js.call_now") : tr("js.talk_to")));
    }
    var list = el("ul", "contact-list");
    lines.forEach(function (h) {
      if (!h || typeof h !== "object") return;
      var row = el("li", "contact-row");
      var name = el("p", "contact-name");
      name.appendChild(el("strong", null, h.name || ""));
      if (h["for"]) name.appendChild(el("span", "contact-for", " " + h["for"]));
      row.appendChild(name);
      var actions = el("p", "contact-actions");
      if (h.phone) actions.appendChild(actionLink("tel:" + digits(h.phone), tr("js.call", { phone: h.phone }), "call"));
      if (h.sms) actions.appendChild(actionLink("sms:" + digits(h.sms), tr("js.text", { sms: h.sms }), "sms"));
      var url = safeUrl(h.url);
      if (url && !h.phone && !h.sms) actions.appendChild(actionLink(url, tr("js.website"), "web"));
      if (actions.childNodes.length) row.appendChild(actions);
      list.appendChild(row);
    });
    box.appendChild(list);
    return box;
  }

  function actionLink(href, text, kind) {
    var a = el("a", "call-button call-" + kind, text);
    a.setAttribute("href", href);
    if (/^https?:/i.test(href)) a.setAttribute("rel", "noopener noreferrer");
    return a;
  }

  function renderHelplines(custom) {
    var lines = Array.isArray(custom.helplines) ? custom.helplines : [];
    if (!lines.length) return null;
    var danger = custom.kind === "safeguard" && custom.level === "danger";
    var box = el("div", "help-cards" + (danger ? " help-danger" : ""));
    box.appendChild(el("p", "help-title", danger ? tr("js.danger_title") : tr("js.help_title")));
    var list = el("ul", "cards");
    lines.forEach(function (h) {
      if (!h || typeof h !== "object") return;
      var card = el("li", "card");
      var name = el("p", "card-name");
      name.appendChild(el("strong", null, h.name || ""));
      card.appendChild(name);
      if (h["for"]) card.appendChild(el("p", "card-for", h["for"]));
      var contacts = el("ul", "card-contacts");
      if (h.phone) contacts.appendChild(contactLink("tel:" + digits(h.phone), tr("js.call", { phone: h.phone })));
      if (h.sms) contacts.appendChild(contactLink("sms:" + digits(h.sms), tr("js.text", { sms: h.sms })));
      var url = safeUrl(h.url);
      if (url) contacts.appendChild(contactLink(url, tr("js.website")));
      if (contacts.childNodes.length) card.appendChild(contacts);
      if (h.hours) card.appendChild(el("p", "card-hours", tr("js.hours", { hours: h.hours })));
      list.appendChild(card);
    });
    box.appendChild(list);
    return box;
  }

  function renderStoryEnd(custom) {
    var score = Math.max(0, Math.min(100, Number(custom.score) || 0));
    var stars = score >= 80 ? 3 : score >= 50 ? 2 : 1; // always at least one star
    var title = strings && strings.stories ? strings.stories[custom.story_id] : null;
    var box = el("div", "celebration");
    box.appendChild(el("p", "celebration-title", title ? tr("js.story_named", { title: title }) : tr("js.story_done")));
    var starLine = el("p", "stars", "★".repeat(stars) + "☆".repeat(3 - stars));
    starLine.setAttribute("role", "img");
    starLine.setAttribute("aria-label", tr("js.stars_label", { count: stars }));
    box.appendChild(starLine);
    box.appendChild(el("p", "celebration-score", tr("js.story_score", { score: score })));
    if (play) box.appendChild(play.certificateLink());
    return box;
  }

  function renderTactics(custom) {
    var tactics = Array.isArray(custom.tactics) ? custom.tactics : [];
    if (!tactics.length) return null;
    var box = el("div", "tactics");
    box.appendChild(el("p", "tactics-title", tr("js.tricks_found")));
    var list = el("ul", "chips");
    tactics.forEach(function (id) {
      var name = strings && strings.tactics && strings.tactics[id];
      list.appendChild(el("li", "chip", name || String(id)));
    });
    box.appendChild(list);
    return box;
  }

  function renderCustom(custom) {
    switch (custom.kind) {
      case "helplines":
        return renderHelplines(custom);
      case "safeguard":
        return renderContacts(custom);
      case "story_end":
        return renderStoryEnd(custom);
      case "tactic_check":
        return renderTactics(custom);
      default:
        // story_picture, story_message, quiz_end (play.js); story_list: its buttons come with the reply
        return play ? play.render(custom) : null;
    }
  }

  function showChoices(buttons, focusFirst) {
    clear(choices);
    buttons.forEach(function (b) {
      if (!b || typeof b.title !== "string" || typeof b.payload !== "string") return;
      var button = el("button", "choice", b.title);
      button.type = "button";
      button.addEventListener("click", function () { choose(b); });
      choices.appendChild(button);
    });
    choices.classList.toggle("empty", !choices.childNodes.length);
    if (readChoicesRow) readChoicesRow.hidden = !choices.childNodes.length || !canSpeak();
    if (focusFirst) {
      if (choices.firstChild) choices.firstChild.focus();
      else input.focus();
    }
  }

  /* ---------------------------------------------------------------- read aloud */

  function emojiPattern() {
    try {
      return new RegExp("\\p{Extended_Pictographic}", "gu");
    } catch (e) {
      return /[\u2600-\u27bf]|[\ud83c-\ud83e][\udc00-\udfff]/g;
    }
  }

  function canSpeak() { return "speechSynthesis" in window; }

  /* What a message says aloud: its text and what its payload shows (a mock-up). */
  function messageSpeech(message) {
    var parts = [];
    if (typeof message.text === "string" && message.text) parts.push(message.text);
    if (play && message.custom && typeof message.custom === "object") {
      var more = play.speakable(message.custom);
      if (more) parts.push(more);
    }
    return parts.join("\n");
  }

  function choicesSpeech() {
    var titles = Array.prototype.map.call(choices.querySelectorAll("button.choice"), function (b, i) {
      return (i + 1) + ". " + b.textContent;
    });
    return titles.length ? tr("js.choices_intro") + "\n" + titles.join("\n") : "";
  }

  function readButton(text, msgLang) {
    var tools = el("p", "msg-tools");
    var button = el("button", "read-button", tr("chat.read_message"));
    button.type = "button";
    button.setAttribute("aria-label", tr("chat.read_message_label"));
    button.setAttribute("data-t", "chat.read_message");
    button.setAttribute("data-t-label", "chat.read_message_label");
    button.addEventListener("click", function () { say(text, msgLang, true); });
    tools.appendChild(button);
    return tools;
  }

  /* Read-aloud when it is switched on. */
  function speak(text, msgLang) {
    if (!prefs.tts) return;
    say(text, msgLang, false);
  }

  /* Say ``text`` in ``msgLang`` (a control pressed: what was being said stops first). */
  function say(text, msgLang, now) {
    if (!canSpeak() || !text) return;
    try {
      if (now) window.speechSynthesis.cancel();
      var clean = text.replace(emojiPattern(), "").trim();
      if (!clean) return;
      var utterance = new window.SpeechSynthesisUtterance(clean);
      utterance.lang = VOICE_LANG[msgLang] || msgLang;
      var voices = window.speechSynthesis.getVoices() || [];
      for (var i = 0; i < voices.length; i++) {
        if (voices[i].lang && voices[i].lang.toLowerCase().indexOf(msgLang) === 0) {
          utterance.voice = voices[i];
          break;
        }
      }
      window.speechSynthesis.speak(utterance);
    } catch (e) { /* no voice: the text is on screen */ }
  }

  /* ---------------------------------------------------------------- shelf */

  function renderShelf() {
    var badgeList = document.getElementById("badge-list");
    var storyList = document.getElementById("story-list");
    if (!badgeList || !storyList) return;
    clear(badgeList);
    clear(storyList);
    var badgeIds = Object.keys(shelf.badges);
    var storyIds = Object.keys(shelf.stories);
    badgeIds.forEach(function (id) {
      var badge = shelf.badges[id];
      var li = el("li", "badge");
      li.appendChild(el("span", "badge-icon", "🏅")).setAttribute("aria-hidden", "true");
      li.appendChild(document.createTextNode(" " + badge.name));
      badgeList.appendChild(li);
    });
    storyIds.forEach(function (id) {
      var story = shelf.stories[id];
      var title = (strings && strings.stories && strings.stories[id]) || story.title || id;
      var li = el("li", "story-done");
      li.appendChild(el("span", "badge-icon", "⭐")).setAttribute("aria-hidden", "true");
      li.appendChild(document.createTextNode(" " + title + " – " + tr("js.best_score", { score: story.best_score })));
      storyList.appendChild(li);
    });
    document.getElementById("shelf-badges").hidden = !badgeIds.length;
    document.getElementById("shelf-stories").hidden = !storyIds.length;
    document.getElementById("shelf-empty").hidden = badgeIds.length + storyIds.length > 0;
    var count = badgeIds.length + storyIds.length;
    if (shelfLoaded && count > shelfCount) shelfFresh = true;
    shelfCount = count;
    if (!shelfSummary) return;
    var label = count ? tr("chat.badges_count", { count: count }) : tr("chat.badges_title");
    if (shelfFresh) label += " ✨ " + tr("js.new_badge");
    shelfSummary.textContent = label;
    shelfSummary.classList.toggle("fresh", shelfFresh);
  }

  function addStoryToShelf(id, score) {
    if (typeof id !== "string") return;
    var known = shelf.stories[id];
    var best = Math.max(known ? known.best_score : 0, Number(score) || 0);
    shelf.stories[id] = { best_score: best, title: known && known.title };
    renderShelf();
  }

  function refreshProgress() {
    var url = "/api/progress?learner=" + encodeURIComponent(learner) + "&lang=" + lang;
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (data) {
        if (!data || !data.available) return;
        (data.badges || []).forEach(function (b) { shelf.badges[b.id] = { name: b.name }; });
        (data.stories || []).forEach(function (s) {
          var known = shelf.stories[s.id];
          shelf.stories[s.id] = { best_score: Math.max(s.best_score, known ? known.best_score : 0), title: s.title };
        });
        renderShelf();
      })
      .then(function () { shelfLoaded = true; });
  }

  /* ---------------------------------------------------------------- conversation */

  function replyLanguage(reply) {
    for (var i = 0; i < reply.length; i++) {
      var c = reply[i] && reply[i].custom;
      if (c && LANGS.indexOf(c.lang) >= 0) return c.lang;
    }
    return botLang;
  }

  /* Show a new reply from its start when it is taller than the log, else the log's end;
     and the log itself, when the page had scrolled past its top (to the text box). */
  function showReply(first) {
    bringLogIntoView();
    if (!first) return scrollDown();
    var top = first.offsetTop - 8;
    if (log.scrollHeight - top > log.clientHeight) log.scrollTop = top;
    else scrollDown();
  }
  function bringLogIntoView() {
    var scroller = document.querySelector(".page-scroll");
    if (!scroller || scroller.scrollHeight <= scroller.clientHeight) return;
    var above = log.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    if (above < 0) scroller.scrollTop += above;
  }

  function isExit(reply) {
    return reply.some(function (m) { return m && m.custom && m.custom.kind === "exit"; });
  }

  function renderReply(reply, options) {
    if (!options.replay && isExit(reply)) {
      // The safe word or /exit: the assistant has ended the conversation.
      if (window.lumiQuickExit) window.lumiQuickExit(null, { told: true });
      return;
    }
    var firstNew = log.children.length;
    var msgLang = replyLanguage(reply);
    if (!options.error) botLang = msgLang;
    var buttons = [];
    var progressChanged = false;
    var lastItem = null;
    reply.forEach(function (message) {
      if (!message || typeof message !== "object") return;
      var c = message.custom;
      var joins = c && typeof c === "object" && (c.kind === "safeguard" || c.kind === "helplines") &&
        !message.text && lastItem;
      if (joins) attachPayload(lastItem, c);
      else lastItem = addBotMessage(message, msgLang, options.error) || lastItem;
      if (!options.replay) speak(messageSpeech(message), msgLang);
      if (Array.isArray(message.buttons)) {
        buttons = buttons.concat(message.buttons.filter(function (b) { return !isCountryChoice(b); }));
      }
      if (c && typeof c === "object") {
        if ((c.kind === "helplines" || c.kind === "safeguard") && knownCountry(c.country) &&
            c.country !== effectiveCountry()) {
          rememberCountry(c.country); // the child named their country in words
        }
        if (c.kind === "story_end") {
          addStoryToShelf(c.story_id, c.score);
          progressChanged = true;
        }
      }
      if (typeof message.text === "string" && message.text.indexOf("🏅") >= 0) progressChanged = true;
    });
    if (!options.error || buttons.length) showChoices(buttons, options.focusChoices && !options.replay);
    if (!options.replay && buttons.length) speak(choicesSpeech(), msgLang);
    if (options.replay) scrollDown();
    else showReply(log.children[firstNew]);
    if (!options.replay) {
      transcript.push({ who: "lumi", lang: msgLang, error: !!options.error, reply: reply, buttons: buttons });
      saveTranscript();
      if (progressChanged) refreshProgress();
    }
  }

  function rememberCountry(code) {
    if (!knownCountry(code)) return;
    if (prefs.country === code) return;
    prefs.country = code;
    savePrefs();
    countrySelect.value = code;
    countryChanged();
  }

  function countryChanged() {
    updatePrintLink();
    var parents = document.querySelectorAll(".site-nav a:not(.lang-switch)")[1];
    if (parents) updateParentsLink(parents);
    loadStrings(lang); // the helpline named in the "can't reach Lumi" message
  }

  function setBusy(on) {
    pending += on ? 1 : -1;
    var busy = pending > 0;
    thinking.hidden = !busy;
    app.classList.toggle("busy", busy);
    Array.prototype.forEach.call(choices.querySelectorAll("button"), function (b) { b.disabled = busy; });
  }

  function post(message, extraMeta, options) {
    var metadata = {};
    if (sendLanguage) metadata.language = lang;
    if (browserLanguage) metadata.browser_language = browserLanguage;
    if (sendCoplay) metadata.coplay = true;
    // the child's choice, else the class's country (the helplines the teacher set for
    // the lesson), else the browser's region; class_code "" tells Lumi the child is in no class
    var country = effectiveCountry();
    if (country) metadata.country = country;
    metadata.class_code = classInfo ? classInfo.code : "";
    if (AGES.indexOf(prefs.age) >= 0) metadata.age_band = prefs.age;
    Object.keys(extraMeta || {}).forEach(function (k) { metadata[k] = extraMeta[k]; });
    metadata.learner_id = learner;
    setBusy(true);
    return fetch("/api/message", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ sender: learner, message: message, metadata: metadata, lang: lang }),
    })
      .then(function (response) {
        var switched = response.headers.get("X-Lumi-Language");
        return response.json().catch(function () { return null; }).then(function (data) {
          return { ok: response.ok, data: data, switched: switched };
        });
      })
      .catch(function () { return { ok: false, data: null }; })
      .then(function (result) {
        setBusy(false);
        if (window.lumiExited) return;
        if (result.ok && Array.isArray(result.data)) {
          sendLanguage = false;
          sendCoplay = false;
          if (LANGS.indexOf(result.switched) >= 0 && result.switched !== lang) {
            botLang = result.switched; // the child asked in words ("en français stp"): Lumi switched
            followLanguage(result.switched);
          }
          renderReply(result.data, options);
        } else if (result.data && Array.isArray(result.data.messages)) {
          renderReply(result.data.messages, { error: true, focusChoices: options.focusChoices });
        } else {
          var helpline = (strings && strings.main_helpline) || "Child Helpline International (https://childhelplineinternational.org)";
          renderReply([{ text: tr("js.offline", { helpline: helpline }) }], { error: true });
        }
      });
  }

  /* Send a message; ``shown`` is what appears as the child's message (or nothing). */
  function send(message, shown, extraMeta, options) {
    if (shown) {
      addChildMessage(shown);
      transcript.push({ who: "child", text: shown });
      saveTranscript();
    }
    queue = queue.then(function () { return post(message, extraMeta, options || {}); });
    return queue;
  }

  var SET_LANGUAGE = /^\/set_language\{"language":"(en|fr)"\}$/;

  function choose(button) {
    if (pending > 0) return;
    var wantsLanguage = SET_LANGUAGE.exec(button.payload);
    if (wantsLanguage) {
      switchLanguage(null, wantsLanguage[1], button.title, { focusChoices: true });
      return;
    }
    var wantsCountry = SET_COUNTRY.exec(button.payload);
    if (wantsCountry) rememberCountry(wantsCountry[1]);
    send(button.payload, button.title, null, { focusChoices: true });
  }

  /* The page's own words change to ``target`` (nothing is sent); resolves to
     false when that language's words could not be loaded. */
  function followLanguage(target) {
    return loadStrings(target).then(function (loaded) {
      if (!loaded || loaded.lang !== target) return false;
      lang = target;
      botLang = target;
      relabel();
      try {
        var url = new URL(window.location.href);
        url.searchParams.set("lang", target);
        window.history.replaceState(null, "", url.pathname + url.search);
      } catch (e) { /* old browser: the URL keeps its language */ }
      return true;
    });
  }

  /* The page and Lumi change language together (the page's words come from /api/strings). */
  function switchLanguage(event, wanted, shown, options) {
    if (event) event.preventDefault();
    var target = wanted || (lang === "en" ? "fr" : "en");
    var label = shown || tr("common.switch_to");
    followLanguage(target).then(function (switched) {
      if (switched) send('/set_language{"language":"' + target + '"}', label, { language: target }, options || {});
    });
  }

  function chooseCountry() {
    var code = countrySelect.value;
    if (!code) return;
    var label = countrySelect.options[countrySelect.selectedIndex].textContent;
    if (code === otherCountry) {
      prefs.country = otherCountry; // no guess from the browser's region any more
      savePrefs();
      countryChanged();
      send('/set_country{"country":"' + otherCountry + '"}', "🌍 " + label, {}, {});
      return;
    }
    prefs.country = code;
    savePrefs();
    countryChanged();
    send('/set_country{"country":"' + code + '"}', "🌍 " + label, { country: code }, {});
  }

  /* The safe words ("banane bleue", "blue banana"), compared as the server does:
     lower case, no accents, without surrounding dots and exclamation marks. */
  function plain(text) {
    var value = String(text).toLowerCase();
    try { value = value.normalize("NFKD").replace(/[\u0300-\u036f]/g, ""); } catch (e) { /* old browser */ }
    return value.replace(/\s+/g, " ").replace(/^[ .!]+|[ .!]+$/g, "");
  }
  function isSafeWord(text) {
    var words = strings && Array.isArray(strings.safe_words) ? strings.safe_words : [];
    return words.indexOf(plain(text)) >= 0;
  }

  /* ---------------------------------------------------------------- toggles */

  function setToggle(button, on) { button.setAttribute("aria-pressed", on ? "true" : "false"); }

  function initToggles() {
    setToggle(ttsToggle, !!prefs.tts);
    setToggle(fontToggle, !!prefs.font);
    setToggle(bigToggle, !!prefs.big);
    if (!("speechSynthesis" in window)) ttsToggle.hidden = true;
    ttsToggle.addEventListener("click", function () {
      prefs.tts = !prefs.tts;
      setToggle(ttsToggle, prefs.tts);
      if (!prefs.tts) {
        try { window.speechSynthesis.cancel(); } catch (e) { /* nothing */ }
      }
      savePrefs();
    });
    fontToggle.addEventListener("click", function () {
      prefs.font = !prefs.font;
      setToggle(fontToggle, prefs.font);
      root.classList.toggle("easy-font", prefs.font);
      savePrefs();
    });
    bigToggle.addEventListener("click", function () {
      prefs.big = !prefs.big;
      setToggle(bigToggle, prefs.big);
      root.classList.toggle("big-text", prefs.big);
      savePrefs();
    });
  }

  /* ---------------------------------------------------------------- age band */

  /* Asked once, in one tap (never a birth date), kept on this device
     (localStorage "lumi.prefs"), sent as metadata.age_band; changeable in Settings. */
  function setAge(value) {
    if (AGES.indexOf(value) < 0) return;
    prefs.age = value;
    savePrefs();
    if (ageSelect) ageSelect.value = value;
    var card = document.getElementById("age-card");
    if (card) card.hidden = true;
  }

  function initAge() {
    var card = document.getElementById("age-card");
    if (ageSelect) {
      ageSelect.value = AGES.indexOf(prefs.age) >= 0 ? prefs.age : "";
      ageSelect.addEventListener("change", function () { setAge(ageSelect.value); });
    }
    if (!card) return;
    Array.prototype.forEach.call(card.querySelectorAll("button[data-age]"), function (button) {
      button.addEventListener("click", function () {
        setAge(button.getAttribute("data-age"));
        input.focus();
      });
    });
    card.hidden = AGES.indexOf(prefs.age) >= 0;
  }

  /* ---------------------------------------------------------------- class */

  function saveClass() {
    var s = store("session");
    try {
      if (!s) return;
      if (classInfo) s.setItem(CLASS_KEY, JSON.stringify(classInfo));
      else s.removeItem(CLASS_KEY);
    } catch (e) { /* blocked */ }
  }
  function loadClass() {
    try {
      var saved = JSON.parse(getItem("session", CLASS_KEY) || "null");
      return saved && typeof saved.code === "string" ? saved : null;
    } catch (e) {
      return null;
    }
  }

  function setClassStatus(text) {
    document.getElementById("class-status").textContent = text || "";
  }

  function classStoryButtons() {
    if (!classInfo || !Array.isArray(classInfo.stories)) return [];
    return classInfo.stories.map(function (s) {
      return { title: s.title + " (" + s.ages + ")", payload: s.payload };
    });
  }

  function renderClass() {
    var summary = document.getElementById("class-summary");
    var box = document.getElementById("class-info");
    if (!summary || !box) return;
    var form = document.getElementById("class-form");
    if (form) form.hidden = !!classInfo; // joined: no code to type any more
    if (!classInfo) {
      summary.textContent = tr("chat.class_title");
      box.hidden = true;
      return;
    }
    summary.textContent = tr("js.class_summary", { code: classInfo.code, name: classInfo.pseudonym });
    document.getElementById("class-stories-title").textContent = tr("js.class_stories");
    document.getElementById("class-leave").textContent = tr("js.class_leave");
    var list = document.getElementById("class-stories");
    clear(list);
    classStoryButtons().forEach(function (b) {
      var button = el("button", "choice", b.title);
      button.type = "button";
      button.addEventListener("click", function () { choose(b); });
      list.appendChild(button);
    });
    box.hidden = false;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }).catch(function () { return { ok: false, status: 0, data: null }; });
  }

  /* Join with a code (typed, from the ?class= link, or saved in this tab). */
  function joinClass(code, options) {
    options = options || {};
    setClassStatus(tr("js.class_joining"));
    return postJSON("/api/class/join", { sender: learner, code: code, lang: lang }).then(function (result) {
      if (result.ok && result.data && result.data.code) {
        classInfo = {
          code: result.data.code,
          language: result.data.language,
          country: result.data.country || null,
          pseudonym: result.data.pseudonym,
          stories: result.data.stories || [],
          // the session's country, when the teacher set one (its helplines)
          country: typeof result.data.country === "string" ? result.data.country.toUpperCase() : null,
        };
        saveClass();
        countryChanged();
        renderClass();
        setClassStatus(tr("js.class_you_are", { code: classInfo.code, name: classInfo.pseudonym }));
        document.getElementById("class-code").value = classInfo.code;
        if (options.showStories) showChoices(classStoryButtons(), false);
        startPolling();
        return true;
      }
      if (result.status === 404 || result.status === 410) {
        classInfo = null;
        saveClass();
        renderClass();
        stopPolling();
      }
      var text = result.data && typeof result.data.error === "string" ? result.data.error : tr("js.class_offline");
      setClassStatus(text);
      return false;
    });
  }

  function leaveClass() {
    classInfo = null;
    saveClass();
    stopPolling();
    hideVote();
    renderClass();
    setClassStatus(tr("js.class_left"));
  }

  function classEnded() {
    classInfo = null;
    saveClass();
    stopPolling();
    hideVote();
    renderClass();
    setClassStatus(tr("js.class_ended"));
  }

  function stopPolling() {
    if (pollTimer) window.clearInterval(pollTimer);
    pollTimer = null;
  }
  function startPolling() {
    stopPolling();
    pollClass();
    pollTimer = window.setInterval(pollClass, POLL_MS);
  }

  function hideVote() {
    var panel = document.getElementById("vote-panel");
    panel.hidden = true;
    vote.key = "";
  }

  function pollClass() {
    if (!classInfo || document.hidden || window.lumiExited) return;
    var url = "/api/class/poll?code=" + encodeURIComponent(classInfo.code) +
      "&learner=" + encodeURIComponent(learner) + "&lang=" + lang;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (data) { return { status: r.status, data: data }; });
      })
      .catch(function () { return { status: 0, data: null }; })
      .then(function (result) {
        var data = result.data;
        if (result.status === 404) return classEnded();
        if (!data || result.status !== 200) return; // try again next time
        if (data.status === "ended") return classEnded();
        followStories(data.stories);
        showVote(data);
      });
  }

  /* The teacher added a story live: the class panel follows. */
  function followStories(stories) {
    if (!classInfo || !Array.isArray(stories)) return;
    var ids = function (list) { return list.map(function (s) { return s.id; }).join(","); };
    if (ids(stories) === ids(classInfo.stories || [])) return;
    classInfo.stories = stories;
    saveClass();
    renderClass();
  }

  function showVote(data) {
    var panel = document.getElementById("vote-panel");
    if (!data.showing) return hideVote();
    var key = [data.round, data.active, data.revealed, data.voted, lang].join("|");
    if (key === vote.key) return;
    vote.key = key;
    vote.round = data.round;
    vote.voted = data.voted;
    document.getElementById("vote-title").textContent = tr("js.vote_title");
    var question = document.getElementById("vote-question");
    var list = document.getElementById("vote-choices");
    var status = document.getElementById("vote-status");
    clear(list);
    if (data.active && Array.isArray(data.choices)) {
      question.textContent = data.question || "";
      question.setAttribute("lang", classInfo ? classInfo.language : lang);
      data.choices.forEach(function (c) {
        var mine = data.voted === c.id;
        var button = el("button", "choice", mine ? c.label + " " + tr("js.vote_mine") : c.label);
        button.type = "button";
        button.setAttribute("aria-pressed", mine ? "true" : "false");
        button.setAttribute("data-choice", c.id);
        button.addEventListener("click", function () { castVote(c.id); });
        list.appendChild(button);
      });
      status.textContent = data.voted ? tr("js.vote_done") : "";
    } else {
      question.textContent = "";
      status.textContent = tr("js.vote_look");
    }
    list.classList.toggle("empty", !list.childNodes.length);
    panel.hidden = false;
  }

  function castVote(choiceId) {
    if (!classInfo) return;
    var body = { sender: learner, code: classInfo.code, round: vote.round, choice: choiceId, lang: lang };
    postJSON("/api/class/vote", body).then(function (result) {
      if (result.ok) {
        vote.key = "";
        pollClass();
        return;
      }
      var text = result.data && typeof result.data.error === "string" ? result.data.error : tr("js.class_offline");
      document.getElementById("vote-status").textContent = text;
      if (result.status === 410) classEnded();
    });
  }

  function initClass() {
    var form = document.getElementById("class-form");
    var input = document.getElementById("class-code");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!code) {
        input.focus();
        return;
      }
      joinClass(code, { showStories: true });
    });
    document.getElementById("class-leave").addEventListener("click", leaveClass);
    document.addEventListener("visibilitychange", function () { if (!document.hidden && classInfo) pollClass(); });
    classInfo = loadClass();
    renderClass();
    if (classLink && (!classInfo || classInfo.code !== classLink.toUpperCase())) {
      // from the teacher's link or QR code: join after Lumi's greeting, then show the class's stories
      queue = queue.then(function () { return joinClass(classLink, { showStories: true }); });
    } else if (classInfo) {
      joinClass(classInfo.code, {}); // still open? same class name again
    }
  }

  /* ---------------------------------------------------------------- start */

  function replay(saved) {
    saved.forEach(function (entry) {
      if (!entry || typeof entry !== "object") return;
      if (entry.who === "child" && typeof entry.text === "string") {
        addChildMessage(entry.text);
        transcript.push(entry);
      } else if (entry.who === "lumi" && Array.isArray(entry.reply)) {
        renderReply(entry.reply, { replay: true, error: entry.error });
        if (LANGS.indexOf(entry.lang) >= 0) botLang = entry.lang;
        transcript.push(entry);
      }
    });
  }

  function start() {
    if (window.LumiPlay) {
      play = window.LumiPlay.create({
        el: el,
        tr: tr,
        strings: function () { return strings; },
        speak: function (text) { speak(text, lang); },
        certificateUrl: certificateUrl,
      });
    }
    initToggles();
    initAge();
    if (readChoicesRow) {
      document.getElementById("read-choices").addEventListener("click", function () {
        say(choicesSpeech(), botLang, true);
      });
    }
    if (prefs.country && countrySelect.querySelector('option[value="' + prefs.country + '"]')) {
      countrySelect.value = prefs.country;
    }
    relabel();
    var saved = loadTranscript();
    if (saved.length) {
      replay(saved);
    } else {
      send("/start", null, {}, {});
      if (coplay) send('/coplay{"on":true}', null, { coplay: true }, {});
    }
    refreshProgress();
    initClass();
    var shelfBox = document.getElementById("shelf");
    if (shelfBox) {
      shelfBox.addEventListener("toggle", function () {
        if (shelfBox.open && shelfFresh) {
          shelfFresh = false;
          renderShelf();
        }
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      if (isSafeWord(text) && window.lumiQuickExit) {
        window.lumiQuickExit(null, {}); // at once, even if Lumi cannot be reached
        return;
      }
      send(text, text, null, {});
      input.focus();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (typeof form.requestSubmit === "function") form.requestSubmit();
        else sendButton.click();
      }
    });
    document.getElementById("menu-button").addEventListener("click", function (event) {
      send("/start", event.currentTarget.textContent, null, { focusChoices: true });
    });
    document.getElementById("help-button").addEventListener("click", function (event) {
      send("/help", event.currentTarget.textContent, null, { focusChoices: true });
    });
    countrySelect.addEventListener("change", chooseCountry);
    var switcher = document.querySelector(".lang-switch");
    if (switcher) {
      switcher.addEventListener("click", function (event) { switchLanguage(event); });
    }
  }

  loadStrings(lang).then(start);
})();
