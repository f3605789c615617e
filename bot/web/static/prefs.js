/* Applied before the page paints: marks that scripts run, and the reading
   preferences saved on this device (easy-read letters, bigger text). */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var prefs = JSON.parse(window.localStorage.getItem("lumi.prefs") || "{}");
    if (prefs.font) root.classList.add("easy-font");
    if (prefs.big) root.classList.add("big-text");
  } catch (e) {
    /* storage blocked: defaults */
  }
})();
