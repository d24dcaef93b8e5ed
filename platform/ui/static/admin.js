/* The admin console's small behaviours (no framework, nothing inline: the CSP allows
   scripts from /static only). After htmx swaps in a review or a save's outcome, focus
   moves to its first message (errors, conflict, refusal or "saved") so a keyboard or
   screen reader user hears it at once; otherwise to the diff's heading. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.target;
    // (An outerHTML swap settles on the element it replaced: look the new one up.)
    var target = swapped && swapped.id === "proposal" && document.getElementById("proposal");
    if (!target) { return; }
    var first = target.querySelector("[data-focus]") || target.querySelector("h2");
    if (first) {
      if (!first.hasAttribute("tabindex")) { first.setAttribute("tabindex", "-1"); }
      first.focus();
    }
  });
  // A full page coming back with a message (no htmx) puts focus on it too.
  document.addEventListener("DOMContentLoaded", function () {
    var first = document.querySelector(".admin [data-focus]");
    if (first) { first.focus(); }
  });
}());
