/* TreeBeard IR page behaviour: everything here is an enhancement; the
 * pages work without it. */
(function () {
  "use strict";

  // On a phone the incident page's side panels start folded so the
  // timeline is one scroll away; a panel with an error stays open, and a
  // panel the person opened or closed keeps that state across htmx swaps.
  var narrow = window.matchMedia("(max-width: 900px)");
  var chosen = {};

  function applyDisclosure(root) {
    var all = root.querySelectorAll ? root.querySelectorAll("details[id]") : [];
    for (var i = 0; i < all.length; i++) {
      var d = all[i];
      if (d.querySelector(".field-error")) {
        d.open = true;
      } else if (Object.prototype.hasOwnProperty.call(chosen, d.id)) {
        d.open = chosen[d.id];
      } else if (d.hasAttribute("data-fold")) {
        d.open = !narrow.matches;
      }
    }
  }

  document.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest("summary");
    if (summary && summary.parentElement && summary.parentElement.id) {
      chosen[summary.parentElement.id] = !summary.parentElement.open;
    }
    // "Post update" / "Reopen…" jump to their field and focus it.
    var link = event.target.closest && event.target.closest("a[data-focus]");
    if (link) {
      var field = document.getElementById(link.getAttribute("data-focus"));
      if (field) {
        event.preventDefault();
        var holder = field.closest("details");
        if (holder) holder.open = true;
        field.focus({ preventScroll: true });
        field.scrollIntoView({ block: "center", behavior: "smooth" });
      }
    }
  });

  applyDisclosure(document);
  if (narrow.addEventListener) {
    narrow.addEventListener("change", function () { applyDisclosure(document); });
  }

  // A board that silently stopped refreshing is worse than none: say so.
  var banner = document.createElement("div");
  banner.className = "conn-banner";
  banner.setAttribute("role", "status");
  banner.hidden = true;
  document.body.appendChild(banner);
  var lastGood = new Date();

  function isPoll(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.getAttribute && (elt.getAttribute("hx-trigger") || "").indexOf("every") === 0;
  }

  function lost(event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 403) {
      banner.textContent = "Your account may no longer act on incidents. Reload the page.";
    } else if (!isPoll(event)) {
      banner.textContent = "That did not reach TreeBeard IR. Check your connection and try again.";
    } else {
      banner.textContent = "Live updates paused: cannot reach TreeBeard IR. Showing data from " +
        lastGood.toLocaleTimeString() + "; retrying.";
    }
    banner.hidden = false;
  }

  document.addEventListener("htmx:sendError", lost);
  document.addEventListener("htmx:responseError", lost);
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful) {
      lastGood = new Date();
      banner.hidden = true;
    }
  });

  // After an action re-rendered the incident: a refusal puts focus on the
  // field at fault (or shows the message); a success shows the page top,
  // where the confirmation and the new timeline entry are.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.target;
    if (!swapped || swapped.id !== "incident" || !event.detail.requestConfig ||
        event.detail.requestConfig.verb !== "post") {
      return;
    }
    // outerHTML replaced the target: look in the new element.
    var target = document.getElementById("incident");
    if (!target) return;
    var invalid = target.querySelector('[aria-invalid="true"]');
    var problem = target.querySelector(".flash--error");
    if (invalid) {
      invalid.focus({ preventScroll: true });
      invalid.scrollIntoView({ block: "center" });
    } else if (problem) {
      problem.scrollIntoView({ block: "center" });
    } else if (target.getBoundingClientRect().top < 0) {
      window.scrollTo({ top: 0 });
    }
  });

  if (window.htmx) {
    window.htmx.onLoad(function (content) { applyDisclosure(content); });
  }
})();
