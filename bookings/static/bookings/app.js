/* raum]für[raum: small comforts on top of pages that work without JavaScript. */
(function () {
  "use strict";

  // A form marked data-once is sent once: a second click while the first request runs
  // does nothing (the server's idempotency key would catch it anyway).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    var button = event.submitter;
    if (button) button.setAttribute("aria-busy", "true");
  });
  // Coming back with the browser's back button shows the page as it was left.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
    });
  });

  // A link shown once (calendar feed, display URL): a button copies it. Without
  // JavaScript the button stays hidden and the read-only field can be selected by hand.
  document.querySelectorAll("button[data-copy]").forEach(function (button) { button.hidden = false; });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    var status = document.querySelector("[data-copy-status='" + button.dataset.copy + "']");
    if (!field) return;
    function done() { if (status) status.textContent = button.dataset.copied; }
    function byHand() {
      field.focus();
      field.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* selected: Ctrl-C works */ }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, byHand);
    } else {
      byHand();
    }
  });

  // The booking dialog: show only the repetition options that apply.
  function updateRecurrence(box) {
    var checked = box.querySelector("input[name=freq]:checked");
    var freq = checked ? checked.value : "none";
    var options = box.querySelector("[data-repeat-options]");
    if (!options) return;
    options.hidden = freq === "none";
    var weekdays = box.querySelector(".weekdays");
    var monthly = box.querySelector(".monthly");
    if (weekdays) weekdays.hidden = freq !== "weekly";
    if (monthly) monthly.hidden = freq !== "monthly";
    var ends = box.querySelector("input[name=ends]:checked");
    var count = box.querySelector("input[name=count]");
    var until = box.querySelector("input[name=until]");
    if (ends && count && until) {
      count.disabled = ends.value !== "count";
      until.disabled = ends.value !== "until";
    }
  }
  document.querySelectorAll("[data-recurrence]").forEach(function (box) {
    updateRecurrence(box);
    box.addEventListener("change", function () { updateRecurrence(box); });
  });

  // Day plan: a click into a free stretch books from the half hour clicked, not from
  // the stretch's start. Keyboard activation keeps the link as it is.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function minutes(hhmm) { var p = hhmm.split(":"); return parseInt(p[0], 10) * 60 + parseInt(p[1], 10); }
  function hhmm(total) { total = ((total % 1440) + 1440) % 1440; return pad(Math.floor(total / 60)) + ":" + pad(total % 60); }
  document.addEventListener("click", function (event) {
    var gap = event.target.closest && event.target.closest("a.gap");
    if (!gap || event.detail === 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var track = gap.parentElement;
    var rect = track.getBoundingClientRect();
    var axisStart = minutes(track.dataset.axisStart);
    var axisMinutes = parseInt(track.dataset.axisMinutes, 10);
    if (!rect.width || !axisMinutes) return;
    // Wall-clock arithmetic: right except on a plan that shows a daylight-saving switch.
    var clicked = axisStart + (event.clientX - rect.left) / rect.width * axisMinutes;
    var gapStart = minutes(gap.dataset.start);
    var gapEnd = gap.dataset.end === "00:00" ? 1440 : minutes(gap.dataset.end);
    var start = Math.max(gapStart, Math.floor(clicked / 30) * 30);
    if (gapEnd - start < 15) start = gapStart;
    var end = Math.min(gapEnd, start + 60);
    var url = new URL(gap.href, window.location.href);
    url.searchParams.set("start", hhmm(start));
    url.searchParams.set("end", hhmm(end));
    gap.href = url.toString();
  });

  // On a phone the search form fills the screen: after a search, show the results.
  var results = document.querySelector(".results");
  if (results && window.location.search && !window.location.hash &&
      window.matchMedia("(max-width: 48rem)").matches) {
    results.scrollIntoView();
  }

  // After a post that went wrong, take keyboard and screen-reader users to the reason.
  var problem = document.querySelector(".problem, .form-errors, #preview-heading");
  if (problem) {
    if (!problem.hasAttribute("tabindex")) problem.setAttribute("tabindex", "-1");
    problem.focus();
  }
})();
