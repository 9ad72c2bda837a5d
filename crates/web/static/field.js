// The technician's phone: every action is a request with an Idempotency-Key chosen once, retried
// with back-off while the network fails, so a retry never duplicates a visit, part, photo or
// signature. The status line says "saving", "saved" or "retrying".
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf");
  var msg = function (k) { return body.getAttribute("data-msg-" + k) || k; };
  var status = document.getElementById("net-status");

  function show(kind, text) {
    if (!status) return;
    status.className = "net " + kind;
    status.textContent = text;
  }

  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Actions not yet answered are kept in localStorage (the outbox) and sent again, with the same
  // key, when any page of the phone opens: leaving the page or losing the network loses nothing.
  // Photos are too big for it and are only retried while the page is open.
  var OUTBOX = "shouhou-outbox";
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function keep(entry) {
    try { var o = outbox().filter(function (x) { return x.k !== entry.k; }); o.push(entry); localStorage.setItem(OUTBOX, JSON.stringify(o)); } catch (e) { /* storage full or off */ }
  }
  function drop(k) {
    try { localStorage.setItem(OUTBOX, JSON.stringify(outbox().filter(function (x) { return x.k !== k; }))); } catch (e) { /* storage off */ }
  }

  // Sends once per action; retries network failures, 5xx/429 and "still running" with the same key.
  function send(method, url, payload, opts) {
    opts = opts || {};
    var k = opts.key || key();
    var attempt = 0;
    var binary = payload instanceof Blob || payload instanceof ArrayBuffer;
    if (!binary) keep({ k: k, method: method, url: url, payload: payload === undefined ? null : payload });
    show("saving", msg("saving"));
    return new Promise(function (resolve, reject) {
      function go() {
        attempt += 1;
        var headers = { "X-CSRF-Token": csrf, "Idempotency-Key": k };
        var bodyData = payload;
        if (payload !== undefined && !(payload instanceof Blob) && !(payload instanceof ArrayBuffer)) {
          headers["Content-Type"] = "application/json";
          bodyData = JSON.stringify(payload);
        } else if (payload !== undefined) {
          headers["Content-Type"] = opts.type || "application/octet-stream";
        }
        fetch(url, { method: method, headers: headers, body: bodyData, credentials: "same-origin" })
          .then(function (r) {
            // 409 request_in_progress: the first try of this key is still running (or a crashed
            // server's lease has not run out yet): ask again later with the same key.
            if (r.status >= 500 || r.status === 429) throw new Error("retry");
            if (r.status === 409 && r.headers.get("Retry-After")) throw new Error("retry");
            return r.text().then(function (t) {
              var j = null;
              try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
              drop(k);
              if (!r.ok) {
                var m = j && j.error ? j.error.message : (t || r.statusText);
                show("error", m);
                reject(new Error(m));
                return;
              }
              show("saved", msg("saved"));
              resolve(j);
            });
          })
          .catch(function () {
            if (attempt >= 30) { show("error", msg("failed")); reject(new Error("failed")); return; }
            show("retrying", msg("retrying") + " (" + attempt + ")");
            setTimeout(go, Math.min(1000 * Math.pow(2, attempt - 1), 15000));
          });
      }
      go();
    });
  }
  window.shouhouSend = send;

  // Replays what an earlier page could not deliver; the server answers a repeated key with the
  // first answer, so nothing is done twice.
  var pending = outbox();
  if (pending.length) {
    show("retrying", msg("retrying") + " (" + pending.length + ")");
    pending.reduce(function (p, e) {
      return p.then(function () {
        return send(e.method, e.url, e.payload === null ? undefined : e.payload, { key: e.k }).catch(function () {});
      });
    }, Promise.resolve()).then(function () {
      if (outbox().length === 0 && body.getAttribute("data-order")) location.reload();
    });
  }

  // The language switch (the phone pages have no htmx).
  var lang = document.getElementById("lang-switch");
  if (lang) lang.addEventListener("click", function (e) {
    e.preventDefault();
    fetch("/lang", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: "lang=" + encodeURIComponent(lang.getAttribute("data-lang")),
      credentials: "same-origin"
    }).then(function () { location.reload(); });
  });

  // Sign out (the phone pages have no htmx).
  var logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", function (e) {
    e.preventDefault();
    fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .then(function () { location.href = "/login"; });
  });

  var order = body.getAttribute("data-order");
  var api = "/api/v1/work-orders/" + order;
  function reload() { setTimeout(function () { location.reload(); }, 250); }

  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve({}); return; }
      navigator.geolocation.getCurrentPosition(
        function (p) { resolve({ lat: p.coords.latitude, lng: p.coords.longitude }); },
        function () { resolve({}); },
        { timeout: 5000, maximumAge: 60000 }
      );
    });
  }

  // Lifecycle buttons: <button data-to="on_site" data-geo="1">.
  Array.prototype.forEach.call(document.querySelectorAll("button[data-to]"), function (b) {
    var k = key();
    b.addEventListener("click", function () {
      b.disabled = true;
      var to = b.getAttribute("data-to");
      var extra = {};
      var outcome = document.getElementById("outcome");
      if ((to === "completed" || to === "waiting_parts") && outcome) extra.outcome = outcome.value;
      var geo = b.getAttribute("data-geo") ? position() : Promise.resolve({});
      geo.then(function (pos) {
        var t = { to: to, lat: pos.lat, lng: pos.lng, outcome: extra.outcome };
        return send("POST", api + "/transitions", t, { key: k });
      }).then(reload, function () { b.disabled = false; });
    });
  });

  // Outcome: fixed / not fixable complete; the others send the order back to dispatch.
  var outcome = document.getElementById("outcome");
  var finish = document.getElementById("finish");
  function syncOutcome() {
    if (!outcome || !finish) return;
    var done = outcome.value === "fixed" || outcome.value === "not_fixable";
    finish.setAttribute("data-to", done ? "completed" : "waiting_parts");
    finish.textContent = done ? finish.getAttribute("data-complete") : finish.getAttribute("data-return");
  }
  if (outcome) { outcome.addEventListener("change", syncOutcome); syncOutcome(); }

  var report = document.getElementById("report-form");
  if (report) report.addEventListener("submit", function (e) {
    e.preventDefault();
    var m = report.querySelector("[name=labour_minutes]").value;
    send("PUT", api + "/report", {
      findings: report.querySelector("[name=findings]").value,
      work_done: report.querySelector("[name=work_done]").value,
      labour_minutes: m === "" ? null : parseInt(m, 10)
    });
  });

  var parts = document.getElementById("part-form");
  if (parts) {
    var partKey = key();
    parts.addEventListener("submit", function (e) {
      e.preventDefault();
      send("POST", api + "/parts", {
        client_key: partKey,
        name: parts.querySelector("[name=name]").value,
        qty: parseInt(parts.querySelector("[name=qty]").value || "1", 10)
      }).then(function () { partKey = key(); reload(); });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-remove-part]"), function (b) {
    b.addEventListener("click", function () {
      send("DELETE", api + "/parts/" + b.getAttribute("data-remove-part")).then(reload);
    });
  });

  var photo = document.getElementById("photo-input");
  if (photo) photo.addEventListener("change", function () {
    var f = photo.files && photo.files[0];
    if (!f) return;
    var k = key();
    f.arrayBuffer().then(function (buf) {
      return send("POST", api + "/photos?key=" + encodeURIComponent(k), buf, { type: f.type || "image/jpeg" });
    }).then(reload);
  });

  var lead = document.getElementById("lead-form");
  if (lead) {
    var leadKey = key();
    lead.addEventListener("submit", function (e) {
      e.preventDefault();
      var yuan = parseFloat(lead.querySelector("[name=value]").value || "0");
      send("POST", api + "/opportunities", {
        client_key: leadKey,
        kind: lead.querySelector("[name=kind]").value,
        value_fen: Math.round(yuan * 100),
        note: lead.querySelector("[name=note]").value
      }).then(function () { leadKey = key(); reload(); });
    });
  }

  // Decline: back to the dispatcher with a reason, before setting off; then the day.
  var decline = document.getElementById("decline-form");
  if (decline) {
    var declineKey = key();
    decline.addEventListener("submit", function (e) {
      e.preventDefault();
      send("POST", api + "/transitions", {
        to: "new",
        reason: document.getElementById("decline-reason").value,
        note: document.getElementById("decline-note").value
      }, { key: declineKey }).then(function () { location.href = "/tech"; });
    });
  }

  // Revisit: a day and a window of the org's local time, sent with that day's UTC offset.
  var revisit = document.getElementById("revisit-form");
  if (revisit) revisit.addEventListener("submit", function (e) {
    e.preventDefault();
    var day = document.getElementById("revisit-day");
    var win = document.getElementById("revisit-window");
    var off = day.options[day.selectedIndex].getAttribute("data-offset");
    var end = win.options[win.selectedIndex].getAttribute("data-end");
    send("PUT", api + "/revisit", {
      appointment_start: day.value + "T" + win.value + ":00" + off,
      appointment_end: day.value + "T" + end + ":00" + off
    }).then(reload);
  });

  // Signature: strokes drawn with a finger become SVG path data.
  var pad = document.getElementById("signature-pad");
  if (pad) {
    var ctx = pad.getContext("2d");
    var path = [];
    var drawing = false;
    function pt(e) {
      var r = pad.getBoundingClientRect();
      return [Math.round((e.clientX - r.left) * pad.width / r.width), Math.round((e.clientY - r.top) * pad.height / r.height)];
    }
    ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
    pad.addEventListener("pointerdown", function (e) {
      e.preventDefault(); drawing = true; var p = pt(e);
      path.push("M" + p[0] + " " + p[1]); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
      try { if (pad.setPointerCapture) pad.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointers have no capture */ }
    });
    pad.addEventListener("pointermove", function (e) {
      if (!drawing) return; var p = pt(e);
      path.push("L" + p[0] + " " + p[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (n) { pad.addEventListener(n, function () { drawing = false; }); });
    document.getElementById("signature-clear").addEventListener("click", function () {
      path = []; ctx.clearRect(0, 0, pad.width, pad.height);
    });
    document.getElementById("signature-save").addEventListener("click", function () {
      send("PUT", api + "/signature", {
        path: path.join(" "),
        signed_by: document.getElementById("signed-by").value
      }).then(reload);
    });
  }
})();
