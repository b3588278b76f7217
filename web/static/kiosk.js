// vakbot kiosk: read aloud (the browser's own speech synthesis: nothing is sent
// anywhere) and the wipe after 90 seconds without a touch, or soon after the end.
(function () {
  "use strict";
  var body = document.body;
  var screen = body.getAttribute("data-screen");
  var idleMs = parseInt(body.getAttribute("data-idle-ms"), 10) || 90000;
  var lang = body.getAttribute("data-lang") || "nl-NL";

  // A page restored from the back-forward cache is asked again (the server decides).
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) { window.location.replace("/kiosk"); }
  });

  Array.prototype.forEach.call(document.querySelectorAll("button.aloud"), function (b) {
    if (!("speechSynthesis" in window)) { b.hidden = true; return; }
    b.addEventListener("click", function () {
      var source = document.getElementById(b.getAttribute("data-say"));
      var parts = [source ? source.textContent : ""];
      Array.prototype.forEach.call(document.querySelectorAll("button.choice"), function (c) {
        var w = c.querySelector(".words");
        parts.push((w || c).textContent);
      });
      window.speechSynthesis.cancel();
      var u = new SpeechSynthesisUtterance(parts.join(". "));
      u.lang = lang;
      u.rate = 0.9;
      window.speechSynthesis.speak(u);
    });
  });

  // Nothing to wipe on the code screen.
  if (screen === "code" || screen === "unregistered") {
    var code = document.getElementById("code");
    if (code) { code.value = ""; code.focus(); }
    return;
  }

  var wiped = false;
  function wipe() {
    if (wiped) { return; }
    wiped = true;
    if ("speechSynthesis" in window) { window.speechSynthesis.cancel(); }
    var main = document.getElementById("kiosk");
    if (main) { main.textContent = ""; }
    document.title = "";
    var done = function () { window.location.replace("/kiosk"); };
    fetch("/kiosk/end", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "k=" + encodeURIComponent(body.getAttribute("data-k") || "")
    }).then(done, done);
  }
  // Typing a note touches only this page's timer: tell the server too (at most every
  // 20 s), or a slowly typed note would find the session ended.
  var KEEP_ALIVE_MS = 20000;
  var lastKept = Date.now();
  function keepAlive() {
    if (wiped || screen === "finished" || Date.now() - lastKept < KEEP_ALIVE_MS) { return; }
    lastKept = Date.now();
    fetch("/kiosk/touch", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "k=" + encodeURIComponent(body.getAttribute("data-k") || "")
    }).catch(function () {});
  }
  ["input", "pointerdown"].forEach(function (kind) {
    document.addEventListener(kind, keepAlive, { passive: true });
  });

  var timer = null;
  function touched() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(wipe, screen === "finished" ? Math.min(idleMs, 15000) : idleMs);
  }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (kind) {
    document.addEventListener(kind, touched, { passive: true });
  });
  touched();
  window.kioskWipe = wipe;   // for the tests: the same wipe as after 90 s
}());
