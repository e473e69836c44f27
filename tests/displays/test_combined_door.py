"""The door display of a part shows its combination's booking, and the hall's its parts'."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest

from bookings import services
from bookings.models import RoomPart
from tests import factories
from tests.displays.conftest import deliver_outbox
from tests.helpers import frozen_at, on_the_day_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
at = on_the_day_of(MORNING)
frozen = frozen_at(MORNING)


@pytest.fixture
def hall(db):
    floor = factories.floor(factories.building(factories.site(time_zone="Europe/Berlin")))
    saal1, saal2 = factories.room(floor, "Saal 1"), factories.room(floor, "Saal 2")
    both = factories.room(floor, "Saal 1+2", capacity=16)
    RoomPart.objects.bulk_create([RoomPart(combined=both, part=saal1), RoomPart(combined=both, part=saal2)])
    return saal1, saal2, both


def book(room, who, start, title):
    return services.create_booking(
        room=room, organizer=who, title=title, start=start, end=start + timedelta(hours=1)
    )


@pytest.mark.django_db
def test_it_shows_the_combinations_booking_at_the_door_of_a_part(client, make_display, hall, alice, frozen):
    saal1, _saal2, both = hall
    _display, raw = make_display(saal1)
    assert client.get(f"/d/{raw}/status.json").json()["bookings"] == []  # cached as free

    book(both, alice, at(9), "Betriebsversammlung")
    deliver_outbox()
    body = client.get(f"/d/{raw}/status.json").json()

    assert body["state"] == "awaiting_check_in"
    assert [b["title"] for b in body["bookings"]] == ["Betriebsversammlung"]


@pytest.mark.django_db
def test_it_checks_in_the_combinations_booking_at_the_door_of_a_part(
    client, make_display, hall, alice, frozen
):
    saal1, _saal2, both = hall
    _display, raw = make_display(saal1)
    booking = book(both, alice, at(9), "Betriebsversammlung")

    response = client.post(f"/d/{raw}/check-in", {"booking": booking.pk})

    assert response.status_code == 200
    assert response.json()["status"]["state"] == "occupied"
    booking.refresh_from_db()
    assert booking.checked_in_at is not None


@pytest.mark.django_db
def test_it_shows_a_parts_booking_at_the_door_of_the_combination(client, make_display, hall, alice, frozen):
    _saal1, saal2, both = hall
    _display, raw = make_display(both)
    assert client.get(f"/d/{raw}/status.json").json()["bookings"] == []

    book(saal2, alice, at(11), "Schulung")
    deliver_outbox()
    body = client.get(f"/d/{raw}/status.json").json()

    assert [b["title"] for b in body["bookings"]] == ["Schulung"]
