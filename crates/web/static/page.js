// The office pages' own behaviour (no inline scripts: the Content-Security-Policy allows only
// files from this server): refusals of htmx requests shown to the user, the review queue's
// keys, the report's print button.
(function () {
  "use strict";

  // An htmx request refused with the API's JSON error body: show its message above the page.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr) return;
    var text = xhr.statusText || String(xhr.status);
    try { var j = JSON.parse(xhr.responseText); if (j && j.error && j.error.message) text = j.error.message; } catch (err) { /* not JSON */ }
    var flash = document.getElementById("flash");
    if (!flash) {
      flash = document.createElement("p");
      flash.id = "flash";
      flash.className = "error flash";
      flash.setAttribute("role", "alert");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(flash, main.firstChild);
    }
    flash.textContent = text;
  });

  // The follow-up calls: a call's questionnaire items get their rating selects when its
  // items are folded out (built once from the page's one list of answers, so a page of many
  // calls does not carry every item's select), none chosen in advance.
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.open || !d.classList || !d.classList.contains("csi-items")) return;
    var options = document.getElementById("item-ratings");
    if (!options) return;
    Array.prototype.forEach.call(d.querySelectorAll("label[data-item]"), function (l) {
      if (l.querySelector("select")) return;
      var item = l.getAttribute("data-item"), s = document.createElement("select");
      s.name = "item:" + item;
      s.setAttribute("aria-label", item);
      s.appendChild(options.content.cloneNode(true));
      s.value = "";
      l.appendChild(s);
    });
  }, true);

  // The printable report.
  var print = document.getElementById("print-report");
  if (print) print.addEventListener("click", function () { window.print(); });

  // The dispatch board: drag an order from the queue onto a technician to assign it, or, in a
  // proposed plan, onto a technician's route to pin it there and plan again. The selects beside
  // each order do the same without a mouse.
  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var row = e.target.closest && e.target.closest(".drag-order");
    if (!row) return;
    dragged = row.getAttribute("data-order");
    e.dataTransfer.setData("text/plain", dragged);
    e.dataTransfer.effectAllowed = "move";
  });
  function target(e) { return e.target.closest && e.target.closest(".drop-tech, .drop-route"); }
  document.addEventListener("dragover", function (e) {
    var t = target(e);
    if (!t || !dragged) return;
    e.preventDefault();
    t.classList.add("drop-over");
  });
  document.addEventListener("dragleave", function (e) {
    var t = target(e);
    if (t) t.classList.remove("drop-over");
  });
  document.addEventListener("drop", function (e) {
    var t = target(e);
    if (!t || !dragged) return;
    e.preventDefault();
    t.classList.remove("drop-over");
    var order = dragged, tech = t.getAttribute("data-tech");
    dragged = null;
    if (t.classList.contains("drop-route")) {
      var pin = document.getElementById("pin-" + order);
      var replan = document.getElementById("replan");
      if (!pin || !replan) return;
      pin.value = order + ":" + tech;
      replan.click();
      return;
    }
    var form = document.getElementById("assign-form-" + order);
    if (!form) return;
    form.querySelector("select[name=technician_id]").value = tech;
    form.setAttribute("data-dropped", "1");
    htmx.trigger(form, "submit");
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (form && form.getAttribute && form.getAttribute("data-dropped") && e.detail.successful) window.location.reload();
  });

  // The review queue: j/k move, a approves, r writes a comment (Ctrl/⌘+Enter returns the order;
  // a plain Enter does nothing, so a comment is never sent by accident).
  if (!document.getElementById("queue-size")) return;
  function items() { return Array.prototype.slice.call(document.querySelectorAll(".review-item")); }
  function current() { var a = document.activeElement; return a && a.closest ? a.closest(".review-item") : null; }
  var first = items()[0]; if (first) first.focus();
  document.addEventListener("keydown", function (e) {
    if (e.target && e.target.tagName === "INPUT") {
      if (e.key === "Escape") { var it = current(); if (it) it.focus(); }
      if (e.key === "Enter") {
        e.preventDefault();
        var it2 = current();
        if ((e.ctrlKey || e.metaKey) && it2) it2.querySelector("button.return").click();
      }
      return;
    }
    var list = items(), cur = current(), i = list.indexOf(cur);
    if (e.key === "j" && list.length) { (list[Math.min(i + 1, list.length - 1)] || list[0]).focus(); }
    else if (e.key === "k" && list.length) { (list[Math.max(i - 1, 0)] || list[0]).focus(); }
    else if (e.key === "a" && cur) { cur.querySelector("button.approve").click(); }
    else if (e.key === "r" && cur) { e.preventDefault(); cur.querySelector("input.comment").focus(); }
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    var list = items(); document.getElementById("queue-size").textContent = list.length;
    if (list[0]) list[0].focus();
  });
})();

// A "print" button (the dashboard): the browser's print dialog (inline handlers are refused by
// the content security policy).
document.addEventListener("click", function (e) {
  if (e.target.closest && e.target.closest("[data-print]")) {
    window.print();
  }
});
