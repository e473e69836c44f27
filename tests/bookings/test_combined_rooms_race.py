"""A race through real gunicorn on a part and its combination at once: exactly one wins."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from bookings.models import Booking, BookingHold
from tests import factories
from tests.bookings.test_combined_rooms import hall  # noqa: F401 (the fixture)
from tests.helpers import bearer, send_together

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENTS = 24


def test_it_gives_a_part_or_its_combination_to_exactly_one_of_many_clients(gunicorn_server, hall):  # noqa: F811
    saal1, _saal2, both = hall
    start = factories.on(factories.days_ahead(3), 10)
    users = [factories.user() for _ in range(CLIENTS)]
    calls = [
        (
            "/api/v1/bookings",
            bearer(u, name="race"),
            {
                # Half the clients want Saal 1, half the whole hall, each a little shifted.
                "room": (saal1 if i % 2 else both).pk,
                "title": f"Race {u.username}",
                "start": (start + timedelta(minutes=i % 3 * 10)).isoformat(),
                "end": (start + timedelta(minutes=60 + i % 3 * 10)).isoformat(),
            },
        )
        for i, u in enumerate(users)
    ]

    responses = send_together(gunicorn_server, "POST", calls)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, [r.text for r in responses if r.status_code != 409]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for r in responses:
        if r.status_code == 409:
            assert [c["id"] for c in r.json()["conflicts"]] == [winner["id"]]
    assert list(Booking.objects.values_list("pk", flat=True)) == [winner["id"]]
    held = set(BookingHold.objects.values_list("room_id", flat=True))
    assert held == ({saal1.pk} if winner["room"] == saal1.pk else {saal1.pk, _saal2.pk})
