/* The account page: copy a new API token to the clipboard (or select it when the
   browser will not), and move focus to what an htmx answer swapped in. */
(function () {
  "use strict";
  function say(button, text) {
    var box = button.closest(".new-token");
    var status = box && box.querySelector("[data-copy-status]");
    if (status) { status.textContent = text; }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    var failed = function () {
      input.focus();
      input.select();
      say(button, button.getAttribute("data-copy-failed"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () {
        say(button, button.getAttribute("data-copied"));
      }, failed);
    } else {
      input.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      if (copied) { say(button, button.getAttribute("data-copied")); } else { failed(); }
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || (target.id !== "tokens" && target.id !== "password")) { return; }
    if (document.getElementById("error-summary")) { return; }  // gongdan.js focuses it
    // An outerHTML swap replaced the target: look in the new element of that id.
    var region = document.getElementById(target.id);
    var spot = region && region.querySelector("[data-focus]");
    if (spot) { spot.focus(); }
  });
})();
