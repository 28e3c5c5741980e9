/* TreeBeard IR clocks (UI.md "Clocks count").
 *
 * Every <time data-due="ISO" data-start="ISO" data-label="Ack"> ticks:
 * "Ack due in 3m 12s", then "Ack overdue by 4m"; it turns amber
 * (clock--warn) once 80 % of its window from data-start has gone and red
 * (clock--breached) past due. <time data-since="ISO"> shows an age ("42m").
 * The server renders the same text and classes, so without JavaScript the
 * page is right as of its load; this only keeps it right.
 */
(function () {
  "use strict";

  var WARN_FRACTION = 0.8;
  var STATES = ["clock--ok", "clock--warn", "clock--breached"];

  // Trust the server's clock over a drifting laptop's, but only for real
  // skew: a slow page load must not shift every clock by its latency.
  var offset = 0;
  var serverNow = Date.parse(document.body.getAttribute("data-server-now") || "");
  if (!isNaN(serverNow) && Math.abs(serverNow - Date.now()) > 30000) {
    offset = serverNow - Date.now();
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  /* 3m 12s / 1h 05m / 2d 4h; `precise` keeps seconds under an hour. */
  function span(seconds, precise) {
    var s = Math.floor(Math.abs(seconds));
    var days = Math.floor(s / 86400);
    var hours = Math.floor((s % 86400) / 3600);
    var minutes = Math.floor((s % 3600) / 60);
    var secs = s % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + pad(minutes) + "m";
    if (minutes) return precise ? minutes + "m " + pad(secs) + "s" : minutes + "m";
    return secs + "s";
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function tickDue(el, now) {
    var due = Date.parse(el.getAttribute("data-due"));
    if (isNaN(due)) return;
    var start = Date.parse(el.getAttribute("data-start") || "");
    var label = el.getAttribute("data-label") || "Due";
    var left = (due - now) / 1000;
    var state = "clock--ok";
    if (left < 0) {
      state = "clock--breached";
      setText(el, label + " overdue by " + span(left, false));
    } else {
      var windowMs = due - start;
      if (!isNaN(start) && windowMs > 0 && now - start >= WARN_FRACTION * windowMs) {
        state = "clock--warn";
      }
      setText(el, label + " due in " + span(left, true));
    }
    if (!el.classList.contains(state)) {
      STATES.forEach(function (c) { el.classList.remove(c); });
      el.classList.add(state);
    }
    if (!el.title) el.title = "Due " + new Date(due).toLocaleString();
  }

  function tickSince(el, now) {
    var since = Date.parse(el.getAttribute("data-since"));
    if (!isNaN(since)) setText(el, span(Math.max(0, (now - since) / 1000), false));
  }

  function tick() {
    var now = Date.now() + offset;
    var i;
    var due = document.querySelectorAll("time[data-due]");
    for (i = 0; i < due.length; i++) tickDue(due[i], now);
    var since = document.querySelectorAll("time[data-since]");
    for (i = 0; i < since.length; i++) tickSince(since[i], now);
  }

  tick();
  window.setInterval(tick, 1000);
  // Content swapped in by htmx shows the right time at once, not a second late.
  document.addEventListener("htmx:afterSettle", tick);
})();
