"""Blocked time is drawn where people plan (day plan, room week) with its reason, never offered as free."""

from __future__ import annotations

import pytest

from bookings.models import Blocking
from bookings.spans import make_span
from tests import factories
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def blocked_house(db):
    building = factories.building(name="Haus A")
    floor = factories.floor(building, name="EG")
    spree = factories.room(floor, name="Spree", capacity=4)
    day = factories.days_ahead(2)
    Blocking.objects.create(
        building=building,
        span=make_span(factories.on(day, 13, 30), factories.on(day, 15, 30)),
        reason="Wartung",
    )
    return {"building": building, "spree": spree, "day": day}


@pytest.mark.parametrize(
    ("page", "label"), [("de-DE", "Gesperrt: Wartung"), ("en-US", "Blocked: Wartung")], indirect=["page"]
)
def test_it_draws_a_buildings_blocking_in_the_day_plan_and_offers_no_free_time_inside(
    gunicorn_server, page, alice, blocked_house, label
):
    day = blocked_house["day"]
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/plan/?place=building-{blocked_house['building'].pk}&date={day.isoformat()}")
    closed = page.locator(".track .closed")
    assert closed.count() == 1
    assert closed.inner_text().split() == ["13:30–15:30", *label.split()]
    gaps = page.locator(".track a.gap")
    spans = [(g.get_attribute("data-start"), g.get_attribute("data-end")) for g in gaps.all()]
    assert ("07:00", "13:30") in spans and ("15:30", "20:00") in spans
    assert all(not (start < "15:30" and end > "13:30") for start, end in spans)


@pytest.mark.parametrize(
    ("page", "label"), [("de-DE", "Gesperrt: Wartung"), ("en-US", "Blocked: Wartung")], indirect=["page"]
)
def test_it_draws_the_blocking_in_the_rooms_week(gunicorn_server, page, alice, blocked_house, label):
    day = blocked_house["day"]
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/rooms/{blocked_house['spree'].pk}/?week={day.isoformat()}")
    closed = page.locator(f".track[data-date='{day.isoformat()}'] .closed")
    assert closed.inner_text().split() == ["13:30–15:30", *label.split()]
    assert page.locator(".track .closed").count() == 1
