"""Chromium reports no Content-Security-Policy violation, and no other console error, anywhere.

Each page is loaded with the policy the server sends; a blocked inline style or script,
a refused feature in the Permissions-Policy or a script error would show up as a
`securitypolicyviolation` event or a console error, and fails the test.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from bookings.models import Policy
from bookings.services import create_booking
from displays.services import create_display
from tests import factories
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Runs before any script of the page (Playwright's init scripts are not subject to the CSP).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var what = e.violatedDirective + " blocked " + (e.blockedURI || "inline");
  window.__violations.push(what + " " + (e.sample || ""));
});
"""


class Watch:
    """What Chromium complained about while the test went through the pages."""

    def __init__(self, page):
        self.page = page
        self.found: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: script error {error}"))

    def _console(self, message) -> None:
        if message.type not in {"error", "warning"}:
            return
        source = message.location.get("url", "")
        # Chromium asks for /favicon.ico on its own (there is none), and the 404 page is
        # visited on purpose; the console names both as a failed load.
        if message.text.startswith("Failed to load resource") and (
            source.endswith("/favicon.ico") or source.endswith("/nirgends/")
        ):
            return
        self.found.append(f"{self.page.url}: console {message.type}: {message.text} ({source})")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.check(response)

    def check(self, response=None) -> None:
        """The page in view has the policy and reported no violation."""
        if response is not None:
            policy = response.headers.get("content-security-policy", "")
            assert "default-src 'self'" in policy and "unsafe-inline" not in policy, self.page.url
        self.found += [f"{self.page.url}: {v}" for v in self.page.evaluate("window.__violations || []")]


def test_it_reports_nothing_on_the_staff_pages(gunicorn_server, page, alice, bob):
    managers = Group.objects.create(name="Raumverwaltung")
    bob.groups.add(managers)
    building = factories.building(name="Haus A")
    floor = factories.floor(building, name="EG")
    spree = factories.room(floor, name="Spree", capacity=4)
    board = factories.room(floor, name="Vorstandszimmer", capacity=8)
    Policy.objects.create(room=board, requires_approval=True).managers.add(managers)
    day = factories.days_ahead(2)
    mine = factories.booking(spree, alice, factories.on(day, 9), title="Planung")
    factories.booking(spree, bob, factories.on(day, 11), title="Geheim", private=True)
    create_booking(
        room=board, organizer=alice, title="Anfrage", start=factories.on(day, 14), end=factories.on(day, 15)
    )
    base = gunicorn_server
    watch = Watch(page)

    response = page.goto(f"{base}/accounts/login/")
    watch.check(response)
    sign_in(page, base, "alice", "alice-pw-123", next_path="/my/")
    watch.check()
    for path in (
        f"/?place=building-{building.pk}&date={day}&start=09:00&end=10:00",  # finder with results
        f"/plan/?building={building.pk}&date={day}",
        f"/rooms/{spree.pk}/?week={day}",
        f"/book/?room={spree.pk}&date={day}&start=09:00&end=10:00",
        f"/bookings/{mine.pk}/change/",
        "/calendar/",
        "/nirgends/",  # the 404 page
    ):
        watch.visit(base + path)
    # The booking dialog's script: the repetition options appear and are previewed.
    watch.visit(f"{base}/book/?room={spree.pk}&date={day}&start=12:00&end=13:00")
    page.fill("#id_title", "Reihe")
    page.locator("input[name=freq][value=weekly]").check()
    assert page.locator(".weekdays").is_visible()
    page.locator("button[name=action][value=preview]").click()
    page.wait_for_load_state()
    assert page.locator("#preview-heading").is_visible()
    watch.check()
    # A click into the day plan's free stretch books from there (app.js).
    watch.visit(f"{base}/plan/?building={building.pk}&date={day}")
    page.locator("a.gap").first.click()
    page.wait_for_url(re.compile(r".*/book/\?.*"))
    watch.check()

    page.context.clear_cookies()
    sign_in(page, base, "bob", "bob-pw-123", next_path="/approvals/")
    assert "Anfrage" in page.locator("main").inner_text()
    watch.check()
    assert not watch.found, "\n".join(watch.found)


def test_it_reports_nothing_in_the_admin(gunicorn_server, page):
    User.objects.create_superuser("root", "root@example.com", "root-pw-123")
    spree = factories.room(name="Spree")
    base = gunicorn_server
    watch = Watch(page)

    watch.visit(f"{base}/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "root-pw-123")
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")
    watch.check()
    for path in (
        "/admin/bookings/booking/",
        "/admin/bookings/room/",
        f"/admin/bookings/room/{spree.pk}/change/",
        "/admin/bookings/room/add/",
        "/admin/auth/user/add/",
    ):
        watch.visit(base + path)
    # The change list's action bar and the filter sidebar run Django's admin scripts.
    watch.visit(f"{base}/admin/bookings/room/")
    page.locator("#action-toggle").check()
    assert page.locator(".action-counter").is_visible()
    watch.check()
    assert not watch.found, "\n".join(watch.found)


def test_it_reports_nothing_at_the_door(gunicorn_server, page):
    room = factories.room(name="Spree")
    factories.booking(room, factories.user(), factories.on(factories.days_ahead(1), 10), title="Morgen")
    _display, token = create_display(room=room, name="Tür")
    watch = Watch(page)

    watch.visit(f"{gunicorn_server}/d/{token}")
    # The inlined script ran: it fills in the clock, which the server leaves empty.
    expect(page.locator("#clock")).not_to_have_text("")
    assert page.locator("body").evaluate("getComputedStyle(document.body).margin") == "0px"
    watch.check()
    assert not watch.found, "\n".join(watch.found)
