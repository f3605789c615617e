/* The certificate: the first name typed here goes onto the certificate on this
   screen only. It is never sent (no form is submitted, no request carries it)
   and never stored (not in localStorage, sessionStorage or a cookie). */
(function () {
  "use strict";
  var input = document.getElementById("cert-name");
  var out = document.getElementById("cert-name-out");
  var button = document.getElementById("print-button");
  if (input && out) {
    var blank = out.getAttribute("data-blank") || "";
    var show = function () {
      var name = input.value.replace(/\s+/g, " ").trim().slice(0, 40);
      out.textContent = name || blank;
      out.classList.toggle("filled", !!name);
    };
    input.addEventListener("input", show);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    show();
  }
  if (button) button.addEventListener("click", function () { window.print(); });
})();
