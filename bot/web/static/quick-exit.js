/* Quick exit: the button, Esc pressed twice, the safe word typed in the chat
   and the assistant's {"kind":"exit"} reply all do the same: the conversation
   is cleared from the screen and from this tab's storage at once, the
   assistant is told "/exit" (best effort, unless it asked for the exit
   itself), and this page is replaced in the history by a neutral page. */
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) return;
  var lastEscape = 0;

  function wipeStorage() {
    var sender = null;
    try {
      sender = window.localStorage.getItem("lumi.learner");
      window.localStorage.removeItem("lumi.log");
      var session = window.sessionStorage;
      var keys = [];
      for (var i = 0; i < session.length; i++) {
        var key = session.key(i);
        if (key && key.indexOf("lumi.") === 0) keys.push(key);
      }
      keys.forEach(function (k) { session.removeItem(k); });
    } catch (e) { /* storage blocked */ }
    return sender;
  }

  /* options.told: the assistant already ended the conversation (no "/exit" to send). */
  function quickExit(event, options) {
    if (event && event.preventDefault) event.preventDefault();
    options = options || {};
    window.lumiExited = true;
    var target = link.getAttribute("data-exit-url") || "/weather";
    try {
      if (window.speechSynthesis) window.speechSynthesis.cancel();
    } catch (e) { /* nothing to stop */ }
    var sender = wipeStorage();
    var main = document.getElementById("main");
    if (main) { while (main.firstChild) main.removeChild(main.firstChild); }
    document.body.classList.add("exiting");
    if (!options.told && sender && navigator.sendBeacon) {
      try {
        var body = JSON.stringify({ sender: sender, message: "/exit", metadata: { learner_id: sender } });
        navigator.sendBeacon("/api/message", new Blob([body], { type: "text/plain" }));
      } catch (e) { /* best effort */ }
    }
    window.location.replace(target);
  }

  link.addEventListener("click", quickExit);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEscape < 1000) {
      quickExit(event);
    }
    lastEscape = now;
  });
  window.lumiQuickExit = quickExit;
})();
