"""Staff pages in Chromium: the day plan's axes stay in view, short bookings open on focus,
a phone opens the plan at the current time, and focus moves to a booking's confirmation."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_booking_flow import search, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def long_site(db, bob):
    """A building with 30 rooms, and a quarter-hour booking of Bob Berg's in the first."""
    bob.first_name, bob.last_name = "Bob", "Berg"
    bob.save()
    building = factories.building(name="Haus Lang")
    floor = factories.floor(building, name="EG")
    rooms = [factories.room(floor, name=f"Raum {n:02d}", capacity=4 + n) for n in range(30)]
    day = factories.days_ahead(2)
    factories.booking(rooms[0], bob, factories.on(day, 12), minutes=15, title="Kurz")
    return {"building": building, "rooms": rooms, "day": day}


def shoot(page, name: str) -> None:
    """With RFR_SCREENSHOTS set (a folder, e.g. docs/screenshots), keep what the test saw."""
    if folder := os.environ.get("RFR_SCREENSHOTS"):
        page.screenshot(path=Path(folder) / f"{name}.png")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_the_plan_keeps_its_time_axis_and_room_column_in_view(gunicorn_server, page, alice, long_site):
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/plan/?place=building-{long_site['building'].pk}&date={long_site['day']}")
    scroller = page.locator(".plan-scroll")
    scroller.evaluate("el => { el.scrollTop = 900; }")
    assert scroller.evaluate("el => el.scrollTop") > 500  # the plan is longer than its box
    head, frame = box(page, ".plan-head"), box(page, ".plan-scroll")
    assert abs(head["y"] - frame["y"]) <= 2  # the time axis stays at the top
    assert page.locator(".plan-axis span").first.is_visible()
    shoot(page, "day-plan-sticky-axis-de")

    page.set_viewport_size({"width": 480, "height": 900})
    scroller.evaluate("el => { el.scrollLeft = 200; }")
    assert scroller.evaluate("el => el.scrollLeft") > 100
    room = page.locator(".plan-row .plan-room", has_text="Raum 20")
    assert abs(room.bounding_box()["x"] - box(page, ".plan-scroll")["x"]) <= 2  # the room column stays left


def test_a_short_booking_shows_its_title_and_organizer_on_focus(gunicorn_server, page, alice, long_site):
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/plan/?place=building-{long_site['building'].pk}&date={long_site['day']}")
    block = page.locator(".track .block", has_text="Kurz")
    who = block.locator(".block-who")
    assert who.is_hidden()
    narrow = block.bounding_box()["width"]
    block.focus()
    expect(who).to_be_visible()
    assert who.inner_text() == "Bob Berg"  # the name, not the login
    assert block.bounding_box()["width"] > narrow
    shoot(page, "day-plan-short-booking-focus-de")
    block.blur()
    block.hover()
    expect(who).to_be_visible()


@pytest.mark.parametrize("page", ["de-DE"], indirect=True)
def test_a_phone_opens_the_plan_at_the_current_time(gunicorn_server, page, alice, bob):
    building = factories.building(name="Haus Jetzt")
    room = factories.room(factories.floor(building), name="Tiber")
    now = timezone.now()
    factories.booking(room, bob, now - timedelta(minutes=30), minutes=60, title="Läuft")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/plan/?place=building-{building.pk}")
    frame, now_mark = box(page, ".plan-scroll"), box(page, ".track .now")
    room_column = box(page, ".plan-row .plan-room")
    assert frame["x"] + room_column["width"] <= now_mark["x"] <= frame["x"] + frame["width"]
    shoot(page, "day-plan-phone-now-de")
    # Every second hour is named, so the labels do not overlap.
    labels = [s.bounding_box() for s in page.locator(".plan-axis span").all() if s.is_visible()]
    assert all(a["x"] + a["width"] <= b["x"] for a, b in pairwise(labels))


def test_focus_moves_to_the_confirmation_after_booking(gunicorn_server, page, alice, long_site):
    day = long_site["day"]
    for n in range(12):  # a long list above the new booking
        factories.booking(
            long_site["rooms"][n + 1], alice, factories.on(day, 8), minutes=30, title=f"Vorher {n}"
        )
    page.set_viewport_size({"width": 1000, "height": 600})
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    search(page, building=long_site["building"], day=day, start="16:00", end="17:00", title="Neu")
    page.locator("ul.offers > li").nth(0).get_by_role("button", name=re.compile("^Buchen")).click()
    page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
    page.wait_for_load_state("load")
    message = page.locator(".message.success")
    expect(message).to_be_focused()
    assert "„Neu“ gebucht" in message.inner_text()
    shoot(page, "my-bookings-confirmation-focus-de")
    assert message.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )


def test_the_repetition_names_its_unit_and_follows_the_date(gunicorn_server, page, alice, long_site):
    day = long_site["day"]
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/book/?room={long_site['rooms'][0].pk}&date={day}&start=14:00&end=15:00")
    weekly = page.get_by_label("Wöchentlich")
    weekly.focus()
    page.keyboard.press("Space")
    assert weekly.is_checked()
    unit = page.locator("#interval-unit")
    expect(unit).to_have_text("Woche(n)")
    own_day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.weekday()]
    assert page.locator(f"input[name=weekdays][value={own_day}]").is_checked()
    next_day = day + timedelta(days=1)
    page.fill("#id_date", next_day.isoformat())
    page.locator("#id_date").dispatch_event("change")
    later_day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][next_day.weekday()]
    assert page.locator(f"input[name=weekdays][value={later_day}]").is_checked()
    assert not page.locator(f"input[name=weekdays][value={own_day}]").is_checked()
    page.get_by_label("Täglich").check()
    expect(unit).to_have_text("Tag(e)")
    shoot(page, "booking-dialog-repetition-de")
