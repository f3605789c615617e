/* Quick exit: the button (or Esc pressed twice) clears the conversation from
   the screen and from storage at once, tells the assistant "/exit" (best
   effort), and replaces this page in the history by a neutral page. */
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) return;
  var lastEscape = 0;

  function quickExit(event) {
    if (event) event.preventDefault();
    window.lumiExited = true;
    var target = link.getAttribute("data-exit-url") || "/weather";
    try {
      if (window.speechSynthesis) window.speechSynthesis.cancel();
    } catch (e) { /* nothing to stop */ }
    var sender = null;
    try {
      sender = window.localStorage.getItem("lumi.learner");
      window.sessionStorage.removeItem("lumi.log");
      window.localStorage.removeItem("lumi.log");
    } catch (e) { /* storage blocked */ }
    var main = document.getElementById("main");
    if (main) { while (main.firstChild) main.removeChild(main.firstChild); }
    document.body.classList.add("exiting");
    if (sender && navigator.sendBeacon) {
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
