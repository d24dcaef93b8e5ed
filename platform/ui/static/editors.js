/* The visual config editors: reorder the items of a list (fields, sections, states,
   rules) by dragging an item's handle with the mouse, a pen or a finger, or from the keyboard with Alt+ArrowUp / Alt+ArrowDown on an
   item's handle. A move posts the editor with `_op=<verb>|<from>|<to>` (the list's
   `data-reorder` names the verb); the server rewrites the YAML and answers the editor. */
(function () {
  "use strict";
  function post(list, from, to) {
    var form = list.closest("form");
    if (!form || from === to || to < 0) { return; }
    var op = document.createElement("input");
    op.type = "hidden";
    op.name = "_op";
    op.value = list.getAttribute("data-reorder") + "|" + from + "|" + to;
    form.appendChild(op);
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }
  function item(target) { return target && target.closest && target.closest("[data-reorder] > [data-index]"); }
  // Dragging follows pointer events on an item's handle (mouse, pen and touch alike; the
  // handle has `touch-action: none`), not HTML5 drag and drop: the item under the
  // pointer when it is released takes the dragged item's place.
  var drag = null;
  function clear() {
    if (!drag) { return; }
    drag.row.classList.remove("dragging");
    if (drag.over) { drag.over.classList.remove("drop-target"); }
    drag = null;
  }
  function under(event) {
    var found = item(document.elementFromPoint(event.clientX, event.clientY));
    return found && drag && found.parentNode === drag.row.parentNode ? found : null;
  }
  document.addEventListener("pointerdown", function (event) {
    var handle = event.button === 0 && event.target.closest && event.target.closest("[data-reorder-handle]");
    var row = handle && item(handle);
    if (!row) { return; }
    event.preventDefault();
    if (handle.setPointerCapture) { handle.setPointerCapture(event.pointerId); }
    drag = { row: row, y: event.clientY, moved: false, over: null };
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    if (!drag.moved && Math.abs(event.clientY - drag.y) < 4) { return; }
    drag.moved = true;
    drag.row.classList.add("dragging");
    var over = under(event);
    if (over !== drag.over) {
      if (drag.over) { drag.over.classList.remove("drop-target"); }
      if (over && over !== drag.row) { over.classList.add("drop-target"); }
      drag.over = over;
    }
  });
  document.addEventListener("pointerup", function (event) {
    if (!drag) { return; }
    var over = drag.moved ? under(event) : null;
    var row = drag.row;
    clear();
    if (over && over !== row) {
      post(row.parentNode, +row.getAttribute("data-index"), +over.getAttribute("data-index"));
    }
  });
  document.addEventListener("pointercancel", clear);
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) { return; }
    var handle = event.target.closest && event.target.closest("[data-reorder-handle]");
    var row = handle && item(handle);
    if (!row) { return; }
    event.preventDefault();
    var from = +row.getAttribute("data-index");
    var to = event.key === "ArrowUp" ? from - 1 : from + 1;
    if (to >= row.parentNode.children.length) { return; }
    // Keep the keyboard on the moved item once the editor is back.
    sessionStorage.setItem("ed-focus", row.parentNode.getAttribute("data-reorder") + "|" + to);
    post(row.parentNode, from, to);
  });
  // A choice that only prepares a button (the kind of the action to add) does not
  // re-check the editor: its change stops before the form's htmx trigger hears it.
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("[data-no-check]")) { event.stopPropagation(); }
  }, true);
  // What is being typed when the editor comes back (from an earlier change) is kept:
  // the new editor gets it, and leaving the input posts it as usual.
  var typing = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    if (event.detail.target && event.detail.target.id === "editor" && active && active.id &&
        active.closest("#editor") && (active.tagName === "TEXTAREA" || (active.tagName === "INPUT" &&
        active.type !== "checkbox" && active.type !== "hidden")) && active.value !== active.defaultValue) {
      typing = { id: active.id, value: active.value };
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (typing) {
      var again = document.getElementById(typing.id);
      if (again && again.value !== typing.value) { again.value = typing.value; }
      typing = null;
    }
    // How many times the editor came back (tests and assistive tools can wait on it).
    var editor = document.getElementById("editor");
    if (editor && event.detail.target && event.detail.target.id === "editor") {
      document.body.setAttribute("data-editor-swaps", String(+(document.body.getAttribute("data-editor-swaps") || 0) + 1));
    }
    var wanted = sessionStorage.getItem("ed-focus");
    if (!wanted) { return; }
    sessionStorage.removeItem("ed-focus");
    var parts = wanted.split("|");
    var list = document.querySelector('[data-reorder="' + parts[0] + '"]');
    var handle = list && list.querySelector('[data-index="' + parts[1] + '"] [data-reorder-handle]');
    if (handle) { handle.focus(); }
  });
})();
