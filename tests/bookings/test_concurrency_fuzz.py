"""Concurrency fuzzer: random actions fired at once through gunicorn, then the invariants.

alice, bob and carl book, book series, move, cancel and check in; maria manages the rooms
and approves and moves other people's bookings, all in rounds of requests released
together. Whatever the interleaving, afterwards: no two active bookings of a room
overlap (buffers counted), nobody holds more than a quota allows in any local day or
week, and no answer was a 500. The seed is fixed; RFR_FUZZ_ROUNDS runs more rounds.
"""

from __future__ import annotations

import itertools
import os
import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from bookings.models import Booking, Policy
from tests import factories
from tests.helpers import bearer, send_all

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROUNDS = int(os.environ.get("RFR_FUZZ_ROUNDS", "6"))
PER_ROUND = 20
# What the API may answer to these requests; anything else (a 500 above all) is a defect.
DOCUMENTED = {200, 201, 403, 404, 409, 422, 503}


@pytest.fixture
def world(db):
    managers = Group.objects.create(name="Raumverwaltung")
    maria = factories.user("maria")
    maria.groups.add(managers)
    people = {name: factories.user(name) for name in ("alice", "bob", "carl")}
    people["maria"] = maria
    site = factories.site(time_zone="Europe/Berlin")
    floor = factories.floor(factories.building(site))
    quota = factories.room(floor, name="Quote")
    Policy.objects.create(
        room=quota, max_bookings_per_day=2, max_hours_per_week=Decimal(4), buffer_after_minutes=15
    ).managers.add(managers)
    approval = factories.room(floor, name="Freigabe")
    Policy.objects.create(room=approval, requires_approval=True, requires_check_in=True).managers.add(
        managers
    )
    return {"people": people, "rooms": [quota, approval], "tz": site.tz, "headers": {}}


def requests_for(rng: random.Random, world: dict, day) -> list[tuple[str, str, dict, dict]]:
    """One round of (method, path, headers, body), drawn from the bookings there are now."""
    people, rooms, tz = world["people"], world["rooms"], world["tz"]
    existing = list(
        Booking.objects.filter(status__in=Booking.ACTIVE).values_list("pk", "organizer__username")
    )
    calls = []
    for _ in range(PER_ROUND):
        name = rng.choice(["alice", "bob", "carl", "maria"])
        headers = world["headers"].setdefault(name, bearer(people[name]))
        room = rng.choice(rooms)
        start = datetime.combine(day + timedelta(days=rng.randrange(3)), time(8), tz)
        start += timedelta(minutes=15 * rng.randrange(40))
        end = start + timedelta(minutes=15 * rng.randint(2, 8))
        times = {"start": start.isoformat(), "end": end.isoformat()}
        kind = rng.choice(["book", "book", "series", "move", "cancel", "approve"]) if existing else "book"
        if kind == "book":
            calls.append(("POST", "/api/v1/bookings", headers, {"room": room.pk, "title": "Fuzz", **times}))
        elif kind == "series":
            body = {
                "room": room.pk,
                "title": "Fuzz",
                **times,
                "rrule": f"FREQ=DAILY;COUNT={rng.randint(2, 3)}",
            }
            calls.append(("POST", "/api/v1/series", headers, body))
        else:
            pk, _owner = rng.choice(existing)
            if kind == "move":
                calls.append(("PATCH", f"/api/v1/bookings/{pk}", headers, times))
            elif kind == "cancel":
                calls.append(("DELETE", f"/api/v1/bookings/{pk}", headers, None))
            else:
                calls.append(("POST", f"/api/v1/bookings/{pk}/approve", headers, {}))
    return calls


def assert_invariants(world: dict) -> None:
    active = list(Booking.objects.filter(status__in=Booking.ACTIVE).select_related("organizer"))
    by_room = defaultdict(list)
    for b in active:
        by_room[b.room_id].append(b)
    for bookings in by_room.values():
        for a, b in itertools.combinations(bookings, 2):
            a_lo, a_hi = a.span.lower - a.buffer_before, a.span.upper + a.buffer_after
            b_lo, b_hi = b.span.lower - b.buffer_before, b.span.upper + b.buffer_after
            assert not (a_lo < b_hi and b_lo < a_hi), f"bookings {a.pk} and {b.pk} overlap"
    tz, quota_room = world["tz"], world["rooms"][0]
    per_day, per_week = defaultdict(int), defaultdict(timedelta)
    for b in by_room[quota_room.pk]:
        local = b.span.lower.astimezone(tz).date()
        per_day[(b.organizer.username, local)] += 1
        per_week[(b.organizer.username, local.isocalendar()[:2])] += b.span.upper - b.span.lower
    assert max(per_day.values(), default=0) <= 2, dict(per_day)
    assert max(per_week.values(), default=timedelta(0)) <= timedelta(hours=4), dict(per_week)


def test_concurrent_random_actions_keep_every_invariant(gunicorn_server, world):
    rng = random.Random(20261203)
    day = factories.days_ahead(3)
    seen = defaultdict(int)
    for _round in range(ROUNDS):
        calls = requests_for(rng, world, day)
        for (method, path, _h, _b), response in zip(calls, send_all(gunicorn_server, calls), strict=True):
            seen[response.status_code] += 1
            assert response.status_code in DOCUMENTED, (method, path, response.status_code, response.text)
        assert_invariants(world)
    assert seen[201] > 0 and (seen[409] + seen[403]) > 0, dict(seen)  # the races were real
