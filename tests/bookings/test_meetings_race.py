"""Races through real gunicorn on the rooms of a meeting: the database decides, exactly one wins."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from bookings.models import Booking, Meeting, MeetingRoom
from tests import factories
from tests.helpers import bearer, send_all

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENTS = 24


@pytest.fixture
def rooms(transactional_db):
    floor = factories.floor(factories.building(factories.site("Berlin"), "Haus A"))
    return [factories.room(floor, name, capacity=8) for name in ("Elbe", "Spree", "Havel")]


def test_it_gives_a_room_to_exactly_one_of_many_meetings_and_single_bookings(gunicorn_server, rooms):
    """Half the clients book the meeting (all three rooms), half only Spree, all at the same instant:
    one wins; a losing meeting leaves nothing behind."""
    start = factories.on(factories.days_ahead(3), 10)
    calls = []
    for i in range(CLIENTS):
        user = factories.user()
        body = {
            "title": f"Race {user.username}",
            "start": (start + timedelta(minutes=i % 3 * 10)).isoformat(),
            "end": (start + timedelta(minutes=60 + i % 3 * 10)).isoformat(),
        }
        if i % 2:
            calls.append(
                (
                    "POST",
                    "/api/v1/meetings",
                    bearer(user, name="race"),
                    {**body, "rooms": [r.pk for r in rooms]},
                )
            )
        else:
            calls.append(
                ("POST", "/api/v1/bookings", bearer(user, name="race"), {**body, "room": rooms[1].pk})
            )

    responses = send_all(gunicorn_server, calls)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, [r.text for r in responses if r.status_code != 409]
    winner = next(r.json() for r in responses if r.status_code == 201)
    if "rooms" in winner:  # a meeting won: its three rooms and nothing else
        ids = {room["booking"]["id"] for room in winner["rooms"]}
        assert len(ids) == 3
        assert Meeting.objects.count() == 1
    else:
        ids = {winner["id"]}
        assert not Meeting.objects.exists()
    assert set(Booking.objects.values_list("pk", flat=True)) == ids
    assert MeetingRoom.objects.count() == (3 if "rooms" in winner else 0)
    for r in responses:
        if r.status_code == 409:
            assert {c["id"] for c in r.json()["conflicts"]} <= ids
