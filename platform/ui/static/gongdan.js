/* Small behaviours on top of htmx: upload progress, the browser's UTC offset for
   datetime fields, focus on the error summary after a failed submit. No framework. */
(function () {
  "use strict";
  function offset() {
    var minutes = -new Date().getTimezoneOffset();
    var sign = minutes >= 0 ? "+" : "-";
    minutes = Math.abs(minutes);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }
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
  document.addEventListener("htmx:afterSwap", function () {
    var summary = document.getElementById("error-summary");
    if (summary && !summary.dataset.focused) {
      summary.dataset.focused = "1";
      summary.focus();
    }
  });
})();
