/* Door display: keeps itself up to date from status.json.
 *
 * Plain ES5 for old kiosk browsers: XMLHttpRequest, no build step, nothing external.
 * It polls with If-None-Match (a 304 costs the server almost nothing), polls at once
 * when the state changes by itself (valid_until), and when the server cannot be
 * reached keeps the last known state with an "offline since" note until it answers.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("rfr-config").textContent);
  var S = config.strings;
  var status = config.status;
  var etag = config.etag;
  var clockOffset = 0; // server clock minus ours, from the Date header
  var offlineSince = null;
  var pollTimer = null;
  var messageTimer = null;
  var actionsKey = null;
  var sending = false;

  function $(id) { return document.getElementById(id); }

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, name) {
      return values.hasOwnProperty(name) ? String(values[name]) : all;
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function now() { return new Date().getTime() + clockOffset; }

  // Date.parse of ISO 8601 with an offset is unreliable in old browsers.
  function parseIso(text) {
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(Z|([+-])(\d\d):?(\d\d))$/.exec(text || "");
    if (!m) { return NaN; }
    var ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    if (m[7] !== "Z") {
      var offset = (+m[9] * 60 + +m[10]) * 60000;
      ms -= m[8] === "+" ? offset : -offset;
    }
    return ms;
  }

  // Wall-clock time at the room (not the kiosk's own time zone, which may be wrong).
  function hhmm(ms) {
    var local = new Date(ms + status.utc_offset_minutes * 60000);
    return pad(local.getUTCHours()) + ":" + pad(local.getUTCMinutes());
  }

  function duration(ms) {
    var minutes = Math.max(1, Math.ceil(ms / 60000));
    if (minutes < 60) { return fmt(S.minutes, { n: minutes }); }
    return fmt(S.hours, { h: Math.floor(minutes / 60), m: minutes % 60 });
  }

  function setText(id, text) {
    var el = $(id);
    if (el.textContent !== text) { el.textContent = text; }
  }

  function titleOf(booking) { return booking && booking.title ? booking.title : S.no_title; }

  function detailText() {
    if (status.current) { return fmt(S.booked_until, { time: status.current.end_local }); }
    if (status.state === "soon" && status.next) { return fmt(S.booked_from, { time: status.next.start_local }); }
    if (status.next) { return fmt(S.free_until, { time: status.next.start_local }); }
    return S.free_today;
  }

  function currentText() {
    if (status.current) { return titleOf(status.current); }
    if (status.state === "soon" && status.next) { return titleOf(status.next); }
    return "";
  }

  function renderBookings(t) {
    var list = $("bookings");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var items = status.bookings;
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = S.nothing_more;
      list.appendChild(none);
      return;
    }
    // A long day: leave out what is over, so the current and next ones stay in view.
    var skipPast = items.length > 4;
    for (var i = 0; i < items.length; i++) {
      var b = items[i];
      if (skipPast && parseIso(b.end) <= t) { continue; }
      var li = document.createElement("li");
      if (parseIso(b.end) <= t) { li.className = "past"; }
      else if (parseIso(b.start) <= t) { li.className = "now"; }
      var time = document.createElement("span");
      time.className = "time";
      time.textContent = b.start_local + "\u2013" + b.end_local;
      var title = document.createElement("span");
      title.className = "title";
      title.textContent = titleOf(b);
      li.appendChild(time);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(title);
      list.appendChild(li);
    }
  }

  function bookNowOptions(t) {
    var free = parseIso(status.free_until);
    var options = [];
    for (var i = 0; i < status.book_now_minutes.length; i++) {
      var m = status.book_now_minutes[i];
      if (t + m * 60000 <= free) { options.push(m); }
    }
    return options;
  }

  function button(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.onclick = onClick;
    return b;
  }

  // Rebuilt only when the choices change, so a PIN being typed is not wiped.
  function renderActions(t) {
    var options = offlineSince ? [] : bookNowOptions(t);
    var checkIn = offlineSince ? null : status.check_in;
    var key = [checkIn, options.join(","), status.pin_required].join("|");
    if (key === actionsKey) { return; }
    actionsKey = key;
    var form = $("actions");
    while (form.firstChild) { form.removeChild(form.firstChild); }
    if (!checkIn && !options.length) { return; }
    if (status.pin_required) {
      var label = document.createElement("label");
      label.htmlFor = "pin";
      label.textContent = S.pin;
      var pin = document.createElement("input");
      pin.id = "pin";
      pin.type = "password";
      pin.setAttribute("inputmode", "numeric");
      pin.setAttribute("autocomplete", "off");
      pin.maxLength = 8;
      form.appendChild(label);
      form.appendChild(pin);
    }
    if (checkIn) {
      form.appendChild(button(S.check_in, function () {
        send(config.check_in_url, "booking=" + encodeURIComponent(checkIn));
      }));
    }
    for (var i = 0; i < options.length; i++) {
      (function (minutes) {
        form.appendChild(button(fmt(S.book_now, { n: minutes }), function () {
          send(config.book_now_url, "minutes=" + minutes);
        }));
      })(options[i]);
    }
  }

  function render() {
    var t = now();
    document.body.className = "state-" + status.state + (offlineSince ? " is-offline" : "");
    setText("clock", hhmm(t));
    setText("state", status.label);
    setText("detail", detailText());
    setText("current", currentText());
    // Checked in: said in words, so people at the door know the room is really in use.
    $("checked-in").hidden = !(status.current && status.current.checked_in);
    var left = parseIso(status.valid_until) - t;
    setText("change", left > 0 ? fmt(S.change_in, { duration: duration(left) }) : "");
    renderActions(t);
    var offline = $("offline");
    if (offlineSince) {
      offline.textContent = fmt(S.offline, { time: hhmm(offlineSince) });
      offline.hidden = false;
    } else {
      offline.hidden = true;
    }
  }

  function syncClock(xhr) {
    var date = Date.parse(xhr.getResponseHeader("Date") || "");
    // The header has whole seconds; half a second is the expected error.
    if (!isNaN(date)) { clockOffset = date + 500 - new Date().getTime(); }
  }

  function apply(newStatus, newEtag) {
    status = newStatus;
    etag = newEtag;
    actionsKey = null;
    renderBookings(now());
  }

  function schedule() {
    clearTimeout(pollTimer);
    var wait = offlineSince ? 5000 : status.poll_seconds * 1000;
    wait = wait * (0.9 + Math.random() * 0.2); // spread thousands of panels out
    var change = parseIso(status.valid_until) - now() + 1000;
    if (change > 0 && change < wait) { wait = change; }
    pollTimer = setTimeout(poll, Math.max(wait, 1000));
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    var done = false;
    function finish(ok) {
      if (done) { return; }
      done = true;
      if (ok) { offlineSince = null; } else if (!offlineSince) { offlineSince = now(); }
      render();
      schedule();
    }
    xhr.open("GET", config.status_url, true);
    xhr.timeout = 10000;
    xhr.setRequestHeader("If-None-Match", etag);
    xhr.setRequestHeader("X-RFR-Kiosk", config.version);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4 || done) { return; }
      if (xhr.status === 200) {
        syncClock(xhr);
        try {
          apply(JSON.parse(xhr.responseText), xhr.getResponseHeader("ETag") || "");
        } catch (e) {
          finish(false);
          return;
        }
        finish(true);
      } else if (xhr.status === 304) {
        syncClock(xhr);
        finish(true);
      } else {
        finish(false);
      }
    };
    xhr.ontimeout = function () { finish(false); };
    try {
      xhr.send(null);
    } catch (e) {
      finish(false);
    }
  }

  function showMessage(text, isError) {
    var el = $("message");
    el.textContent = text;
    el.className = isError ? "message error" : "message";
    el.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(function () { el.hidden = true; }, 8000);
  }

  function send(url, body) {
    if (sending) { return; }
    sending = true;
    var pin = $("pin");
    if (pin) { body += "&pin=" + encodeURIComponent(pin.value); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url, true);
    xhr.timeout = 15000;
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      sending = false;
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if (xhr.status === 200 && answer && answer.ok) {
        if (pin) { pin.value = ""; }
        apply(answer.status, "");
        showMessage(answer.message, false);
      } else {
        showMessage(answer && answer.detail ? answer.detail : S.unreachable, true);
      }
      render();
      schedule();
    };
    xhr.ontimeout = function () { sending = false; showMessage(S.unreachable, true); };
    xhr.send(body);
  }

  // Enter in the PIN field must not send the form and reload the page; the buttons post.
  $("actions").onsubmit = function () { return false; };
  renderBookings(now());
  render();
  schedule();
  setInterval(render, 1000);
})();
