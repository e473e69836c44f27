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

  // After booking or changing, the page opens at the booking (its #fragment), which
  // left the confirmation above out of view: focus moves to the message, so it is in
  // view and read out, and the booking stays marked as the page's target.
  var confirmation = document.querySelector(".messages .message");
  if (confirmation) {
    confirmation.setAttribute("tabindex", "-1");
    // After the load: the browser's own move to the #fragment would take focus away again.
    window.addEventListener("load", function () {
      window.setTimeout(function () {
        confirmation.focus({ preventScroll: true });
        confirmation.scrollIntoView({ block: "nearest" });
      }, 0);
    });
  }

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
    // The interval's unit follows the repetition: "alle 2 Wochen", "alle 3 Tage".
    var unit = box.querySelector("#interval-unit");
    if (unit && unit.dataset[freq]) unit.textContent = unit.dataset[freq];
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
    box.addEventListener("change", function (event) {
      if (event.target.name === "weekdays") box.dataset.weekdaysChosen = "1";
      updateRecurrence(box);
    });
    // Until someone picks weekdays, a weekly repetition follows the booking's date.
    var dateField = box.form && box.form.querySelector("input[name=date]");
    if (dateField) {
      dateField.addEventListener("change", function () {
        if (box.dataset.weekdaysChosen || !dateField.value) return;
        var weekday = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"][new Date(dateField.value + "T12:00:00").getDay()];
        box.querySelectorAll("input[name=weekdays]").forEach(function (b) { b.checked = b.value === weekday; });
      });
    }
  });

  // Day plan wider than the screen (a phone): open it at the current time, not at its
  // first hour, with an hour or so before now still in view.
  var planBox = document.querySelector(".plan-scroll");
  var nowMark = planBox && planBox.querySelector(".now");
  if (nowMark && planBox.scrollWidth > planBox.clientWidth) {
    var roomColumn = planBox.querySelector(".plan-row .plan-room");
    var before = planBox.clientWidth / 6;
    var x = nowMark.getBoundingClientRect().left - planBox.getBoundingClientRect().left + planBox.scrollLeft;
    planBox.scrollLeft = Math.max(0, x - (roomColumn ? roomColumn.offsetWidth : 0) - before);
  }

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

  // People picker: a search over the directory beside the attendees field, or beside
  // "Book for" (data-single: one person, by user name) for managers (a combobox
  // with a list box, as the WAI-ARIA practices describe it). Choosing a person adds their
  // mail address to the field; without JavaScript the field takes names and addresses typed.
  document.querySelectorAll("[data-people-picker-for]").forEach(function (box, n) {
    var field = document.getElementById(box.dataset.peoplePickerFor);
    if (!field) return;
    var inputId = "people-search-" + n, listId = "people-list-" + n;
    box.hidden = false;
    box.className = "field people-picker";
    var label = document.createElement("label");
    label.htmlFor = inputId;
    label.textContent = box.dataset.label;
    var input = document.createElement("input");
    input.type = "search";
    input.id = inputId;
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    var list = document.createElement("ul");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", box.dataset.label);
    list.className = "people-options";
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    box.append(label, input, list, status);
    var people = [], active = -1, timer = null, asked = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function mark(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0) input.setAttribute("aria-activedescendant", listId + "-" + i);
      else input.removeAttribute("aria-activedescendant");
    }
    function show(found) {
      people = found;
      list.textContent = "";
      found.forEach(function (p, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = p.name + " <" + p.email + ">";
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      status.textContent = found.length ? "" : box.dataset.none;
      mark(-1);
    }
    function choose(i) {
      var p = people[i];
      if (!p) return;
      if (box.hasAttribute("data-single")) {
        // One person (whom a manager books for): the field takes their user name.
        field.value = p.username;
      } else {
        var entries = field.value.split(/[\n,;]+/).map(function (s) { return s.trim(); }).filter(Boolean);
        if (entries.indexOf(p.email) < 0 && entries.indexOf(p.username) < 0) entries.push(p.email);
        field.value = entries.join("\n");
      }
      input.value = "";
      close();
      status.textContent = box.dataset.added + " " + p.name;
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var text = input.value.trim();
      if (text.length < 2) { show([]); status.textContent = ""; close(); return; }
      timer = setTimeout(function () {
        asked = text;
        fetch(box.dataset.searchUrl + "?q=" + encodeURIComponent(text), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {people: []}; })
          .then(function (data) { if (asked === input.value.trim()) show(data.people || []); })
          .catch(function () { show([]); });
      }, 200);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && people.length) {
        e.preventDefault();
        if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        mark((active + 1) % people.length);
      } else if (e.key === "ArrowUp" && people.length) {
        e.preventDefault();
        mark(active <= 0 ? people.length - 1 : active - 1);
      } else if (e.key === "Enter") {
        // Enter in the search never sends the booking form.
        e.preventDefault();
        if (active >= 0) choose(active);
        else if (people.length === 1) choose(0);
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", close);
  });

  // After a post that went wrong, take keyboard and screen-reader users to the reason.
  var problem = document.querySelector(".problem, .form-errors, #preview-heading");
  if (problem) {
    if (!problem.hasAttribute("tabindex")) problem.setAttribute("tabindex", "-1");
    problem.focus();
  }
})();
