"""Races through real gunicorn: the database, not luck, decides who gets the room.

Each client opens its connection first and then waits at a barrier, so the requests
reach gunicorn's threads (2 workers x 8 threads) together, not one after the other.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest

from bookings.models import Booking, BookingEvent, IdempotencyKey, OutboxMessage, Policy, Series
from tests import factories
from tests.helpers import bearer, booking_channels, send_together

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENTS = 24


@pytest.fixture
def slot(room):
    start = factories.on(factories.days_ahead(3), 10)
    return {
        "room": room.pk,
        "title": "Race",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }


def test_it_gives_a_contested_slot_to_exactly_one_of_many_clients(gunicorn_server, room, slot):
    users = [factories.user() for _ in range(CLIENTS)]
    calls = [
        ("/api/v1/bookings", bearer(u, name="race"), {**slot, "title": f"Race {u.username}"}) for u in users
    ]

    responses = send_together(gunicorn_server, "POST", calls)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, [r.text for r in responses if r.status_code != 409]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for r in responses:
        if r.status_code == 409:
            assert r.json()["detail"] == "Der Raum ist zu dieser Zeit bereits gebucht."
            assert [c["id"] for c in r.json()["conflicts"]] == [winner["id"]]
    booking = Booking.objects.get()
    assert booking.pk == winner["id"]
    assert booking.title == winner["title"]
    assert BookingEvent.objects.count() == 1
    assert OutboxMessage.objects.count() == len(booking_channels())


def test_it_books_once_when_the_same_key_is_sent_concurrently(gunicorn_server, alice, room, slot):
    headers = {**bearer(alice, name="race"), "Idempotency-Key": "retry-storm-1"}

    responses = send_together(gunicorn_server, "POST", [("/api/v1/bookings", headers, slot)] * 10)

    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    first = next(r.json() for r in responses if "Idempotent-Replayed" not in r.headers)
    assert all(r.json() == first for r in responses)
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count("true") == 9
    assert replayed.count(None) == 1
    assert Booking.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert BookingEvent.objects.count() == 1
    assert OutboxMessage.objects.count() == len(booking_channels())


def test_it_refuses_the_same_key_with_a_different_body(gunicorn_server, alice, room, slot):
    headers = {**bearer(alice, name="race"), "Idempotency-Key": "key-42"}
    with httpx.Client(base_url=gunicorn_server, timeout=30) as http:
        first = http.post("/api/v1/bookings", headers=headers, json=slot)
        second = http.post("/api/v1/bookings", headers=headers, json={**slot, "title": "Something else"})

    assert first.status_code == 201, first.text
    assert second.status_code == 422
    assert second.json() == {
        "detail": "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet.",
        "field": "Idempotency-Key",
    }
    assert Booking.objects.get().title == "Race"


def test_it_lets_a_key_refused_with_409_be_used_again(gunicorn_server, alice, bob, room, slot):
    bobs = factories.booking(room, bob, datetime.fromisoformat(slot["start"]), minutes=60, title="Bob's")
    headers = {**bearer(alice, name="race"), "Idempotency-Key": "after-conflict"}
    with httpx.Client(base_url=gunicorn_server, timeout=30) as http:
        refused = http.post("/api/v1/bookings", headers=headers, json=slot)
        assert refused.status_code == 409
        assert [c["id"] for c in refused.json()["conflicts"]] == [bobs.pk]
        assert not IdempotencyKey.objects.exists()

        http.delete(f"/api/v1/bookings/{bobs.pk}", headers=bearer(bob, name="race")).raise_for_status()
        retried = http.post("/api/v1/bookings", headers=headers, json=slot)
        replayed = http.post("/api/v1/bookings", headers=headers, json=slot)

    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == retried.json()
    assert Booking.objects.filter(status="confirmed").get().pk == retried.json()["id"]


def test_it_gives_a_contested_series_to_exactly_one_client(gunicorn_server, room):
    start = factories.on(factories.days_ahead(3), 14)
    body = {
        "room": room.pk,
        "title": "Weekly",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=4",
    }
    users = [factories.user() for _ in range(CLIENTS)]

    responses = send_together(
        gunicorn_server, "POST", [("/api/v1/series", bearer(u, name="race"), body) for u in users]
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, [r.text for r in responses if r.status_code != 409]
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert len(winner["created"]) == 4
    assert Series.objects.count() == 1
    assert sorted(Booking.objects.values_list("pk", flat=True)) == sorted(b["id"] for b in winner["created"])


def test_it_lets_one_of_many_concurrent_edits_of_one_version_win(gunicorn_server, alice, room):
    start = factories.on(factories.days_ahead(3), 10)
    booking = factories.booking(room, alice, start, title="v0")
    headers = {**bearer(alice, name="race"), "If-Match": str(booking.version)}
    calls = [(f"/api/v1/bookings/{booking.pk}", headers, {"title": f"v{i}"}) for i in range(1, 13)]

    responses = send_together(gunicorn_server, "PATCH", calls)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 412: 11}, [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    booking.refresh_from_db()
    assert (booking.title, booking.version) == (winner["title"], 2)
    assert BookingEvent.objects.filter(kind="updated").count() == 1


def test_it_lets_only_one_of_many_bookings_move_into_a_free_slot(gunicorn_server, room):
    day = factories.days_ahead(3)
    users = [factories.user() for _ in range(CLIENTS)]
    bookings = [
        factories.booking(room, u, factories.on(day, 6) + timedelta(minutes=30 * i), minutes=30)
        for i, u in enumerate(users)
    ]
    target = {"start": factories.on(day, 20).isoformat(), "end": factories.on(day, 21).isoformat()}
    calls = [
        (f"/api/v1/bookings/{b.pk}", bearer(u, name="race"), target)
        for b, u in zip(bookings, users, strict=True)
    ]

    responses = send_together(gunicorn_server, "PATCH", calls)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: CLIENTS - 1}, [r.text for r in responses if r.status_code != 409]
    moved = Booking.objects.filter(span__startswith=factories.on(day, 20))
    assert moved.count() == 1
    assert BookingEvent.objects.filter(kind="updated").count() == 1


def test_it_keeps_a_quota_when_one_person_sends_many_bookings_at_once(gunicorn_server, alice, room):
    Policy.objects.create(room=room, max_bookings_per_day=2)
    day = factories.days_ahead(3)
    headers = bearer(alice, name="race")
    calls = [
        (
            "/api/v1/bookings",
            headers,
            {
                "room": room.pk,
                "title": f"Quota {n}",
                "start": factories.on(day, 8 + n).isoformat(),
                "end": factories.on(day, 8 + n, 30).isoformat(),
            },
        )
        for n in range(8)
    ]

    responses = send_together(gunicorn_server, "POST", calls)

    assert Counter(r.status_code for r in responses) == {201: 2, 403: 6}
    refusal = next(r.json() for r in responses if r.status_code == 403)
    assert refusal["reasons"][0]["rule"] == "max_bookings_per_day"
    assert Booking.objects.filter(organizer=alice).count() == 2


def test_it_keeps_the_buffers_between_bookings_sent_at_once(gunicorn_server, room):
    Policy.objects.create(room=room, buffer_after_minutes=30)
    start = factories.on(factories.days_ahead(3), 10)
    users = [factories.user() for _ in range(CLIENTS)]
    # Back to back, each inside the one before's cleanup time: at most every other fits.
    # A chain of overlaps like this once ended in a deadlock (503); now a 201 or a 409.
    calls = [
        (
            "/api/v1/bookings",
            bearer(u, name="race"),
            {
                "room": room.pk,
                "title": "Puffer",
                "start": (start + timedelta(minutes=20 * n)).isoformat(),
                "end": (start + timedelta(minutes=20 * n + 20)).isoformat(),
            },
        )
        for n, u in enumerate(users)
    ]

    responses = send_together(gunicorn_server, "POST", calls)

    assert {r.status_code for r in responses} <= {201, 409}
    kept = sorted(Booking.objects.filter(room=room), key=lambda b: b.span.lower)
    assert kept, "at least one booking wins"
    assert len(kept) == sum(r.status_code == 201 for r in responses)
    for before, after in itertools.pairwise(kept):
        assert after.span.lower - before.span.upper >= timedelta(minutes=30)
