/* Small behaviours on top of htmx: upload progress, the browser's UTC offset for
   datetime fields, focus on the error summary after a failed submit, buttons that
   remove their row or form, the queue's bulk form following the selection, filters
   folded on narrow screens. No framework, and nothing inline in the pages: the
   Content-Security-Policy allows scripts from /static only (ui/headers.py). */
(function () {
  "use strict";
  function offset() {
    var minutes = -new Date().getTimezoneOffset();
    var sign = minutes >= 0 ? "+" : "-";
    minutes = Math.abs(minutes);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }
  // `data-browser-zone`: the browser's IANA time zone, which a first sign-in adopts.
  function browserZones() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
      input.value = zone;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", browserZones);
  } else {
    browserZones();
  }
  // `data-remove-closest="li"`: the button (or link) removes its nearest such element.
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-remove-closest]");
    var gone = trigger && trigger.closest(trigger.getAttribute("data-remove-closest"));
    if (gone) {
      event.preventDefault();
      gone.remove();
    }
  });
  // The bulk form of a queue asks again for its transition's fields when the selected
  // tickets or the chosen transition change (queue_bulk.html listens for this event).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.form && (input.name === "keys" || input.name === "transition")) {
      input.form.dispatchEvent(new CustomEvent("bulk-selection", { bubbles: true }));
    }
  });
  function foldNarrow() {
    if (!window.matchMedia("(max-width: 40rem)").matches) { return; }
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (box) {
      box.open = false;
      box.removeAttribute("data-fold-narrow");
    });
  }
  foldNarrow();
  document.addEventListener("htmx:afterSettle", foldNarrow);
  document.addEventListener("change", function (event) {
    var input = event.target;
    var target = input && input.getAttribute && input.getAttribute("data-offset-for");
    if (target) {
      var hidden = document.getElementById(target);
      if (hidden) { hidden.value = offset(); }
    }
  }, true);
  document.addEventListener("htmx:xhr:progress", function (event) {
    var id = event.target.getAttribute && event.target.getAttribute("data-progress");
    var bar = id && document.getElementById(id);
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var id = elt && elt.getAttribute && elt.getAttribute("data-progress");
    if (id) {
      var bar = document.getElementById(id);
      if (bar) { bar.hidden = true; bar.value = 0; }
      if (elt.type === "file") { elt.value = ""; }
    }
  });
  function focusFirst(root, selector) {
    var target = root && root.querySelector(selector);
    if (target) {
      if (!target.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    // Keyboard users keep their place: after a change the ticket is re-rendered, so
    // focus moves to its confirmation; an opened transition form gets focus too.
    var target = event.detail.target;
    if (target && target.id === "ticket") { focusFirst(document, "#ticket .message, #ticket h1"); }
    if (target && (target.id === "transition-form" || target.id === "relation-form")) { focusFirst(target, "input:not([type=hidden]), select, textarea"); }
  });
  // The summary above a form lists only what is still wrong: once a field's own error
  // is cleared (a check swapped it out), its item goes; with none left, the summary too.
  function pruneSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) { return; }
    var items = summary.querySelectorAll("li[data-error-of]");
    Array.prototype.forEach.call(items, function (item) {
      var error = document.getElementById(item.getAttribute("data-error-of"));
      if (error && (error.hidden || !error.textContent.trim())) { item.remove(); }
    });
    if (!summary.querySelector("li")) { summary.remove(); }
  }
  document.addEventListener("htmx:afterSettle", pruneSummary);
  document.addEventListener("htmx:oobAfterSwap", pruneSummary);
  document.addEventListener("htmx:afterSwap", function () {
    var summary = document.getElementById("error-summary");
    if (summary && !summary.dataset.focused) {
      summary.dataset.focused = "1";
      summary.focus();
    }
  });
})();
