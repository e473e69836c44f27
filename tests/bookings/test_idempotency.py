"""Idempotency-Key: a retried write gets its first answer back and writes nothing more.

Keys belong to a user, are claimed in the transaction of the write, and so stay free
when the write is refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.models import Booking, IdempotencyKey, Series
from tests import factories
from tests.helpers import booking_channels, written_with_keys

pytestmark = pytest.mark.django_db

KEY_REUSED = "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet."


@pytest.fixture
def slot(room, day) -> dict:
    start = factories.on(day, 9)
    return {
        "room": room.pk,
        "title": "Planung",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }


def post(client, headers, payload, key: str | None, path: str = "/api/v1/bookings"):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(path, payload, content_type="application/json", headers=headers)


def test_it_replays_the_first_answer_to_a_retry(client, alice, token_for, slot):
    headers = token_for(alice)
    first = post(client, headers, slot, "k-1")

    retry = post(client, headers, slot, "k-1")

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert written_with_keys() == {
        "bookings": 1,
        "events": 1,
        "outbox": len(booking_channels()),
        "keys": 1,
    }


def test_it_replays_as_often_as_the_client_retries(client, alice, token_for, slot):
    headers = token_for(alice)
    answers = [post(client, headers, slot, "k-many") for _ in range(5)]

    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    assert [a.get("Idempotent-Replayed") for a in answers] == [None, "true", "true", "true", "true"]
    assert Booking.objects.count() == 1


def test_it_replays_the_answer_as_it_was_even_after_a_change(client, alice, token_for, slot):
    headers = token_for(alice)
    first = post(client, headers, slot, "k-1").json()
    client.patch(
        f"/api/v1/bookings/{first['id']}",
        {"title": "Retro"},
        content_type="application/json",
        headers=headers,
    )

    retry = post(client, headers, slot, "k-1")

    # The retry learns what its first attempt answered, not the booking's present state.
    assert retry.json() == first
    assert retry.json()["title"] == "Planung"
    assert Booking.objects.get().title == "Retro"
    assert Booking.objects.count() == 1


def test_it_treats_the_same_json_written_differently_as_the_same_request(client, alice, token_for, slot):
    headers = token_for(alice)
    first = post(client, headers, slot, "k-1")
    reordered = {
        "end": slot["end"],
        "private": False,
        "attendees": [],
        **{k: slot[k] for k in ("title", "start", "room")},
    }

    retry = post(client, headers, reordered, "k-1")

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


def test_it_refuses_the_same_key_for_a_different_request(client, alice, token_for, slot):
    headers = token_for(alice)
    first = post(client, headers, slot, "k-1").json()
    before = written_with_keys()

    response = post(client, headers, {**slot, "title": "Something else"}, "k-1")

    assert response.status_code == 422
    assert response.json() == {"detail": KEY_REUSED, "field": "Idempotency-Key"}
    assert written_with_keys() == before
    assert Booking.objects.get().title == first["title"]


def test_it_refuses_the_same_key_on_another_endpoint(client, alice, token_for, slot, day):
    headers = token_for(alice)
    post(client, headers, slot, "k-1")
    before = written_with_keys()
    series = {
        **slot,
        "start": factories.on(day, 14).isoformat(),
        "end": factories.on(day, 15).isoformat(),
        "rrule": "FREQ=DAILY;COUNT=2",
    }

    response = post(client, headers, series, "k-1", path="/api/v1/series")

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    assert written_with_keys() == before


def test_it_keeps_keys_apart_per_user(client, alice, bob, room, token_for, slot):
    other = factories.room(floor_obj=room.floor)
    alices = post(client, token_for(alice), slot, "shared-key")

    bobs = post(client, token_for(bob), {**slot, "room": other.pk}, "shared-key")

    assert bobs.status_code == 201
    assert "Idempotent-Replayed" not in bobs
    assert bobs.json()["id"] != alices.json()["id"]
    assert bobs.json()["organizer"] == "bob"
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 2


def test_it_never_hands_bob_the_answer_to_alices_key(client, alice, bob, token_for, slot):
    alices = post(client, token_for(alice), slot, "shared-key")

    # The very same request from bob is his own, and the slot is taken.
    bobs = post(client, token_for(bob), slot, "shared-key")

    assert bobs.status_code == 409
    assert [c["id"] for c in bobs.json()["conflicts"]] == [alices.json()["id"]]
    assert "Idempotent-Replayed" not in bobs


def test_it_leaves_the_key_free_after_a_conflict(client, alice, bob, room, token_for, slot, day):
    blocker = factories.booking(room, bob, factories.on(day, 9))
    headers = token_for(alice)

    refused = post(client, headers, slot, "k-1")
    client.delete(f"/api/v1/bookings/{blocker.pk}", headers=token_for(bob))
    retried = post(client, headers, slot, "k-1")

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Booking.objects.get(status="confirmed").organizer == alice


def test_it_leaves_the_key_free_after_invalid_input(client, alice, token_for, slot):
    headers = token_for(alice)

    refused = post(client, headers, {**slot, "room": 987654}, "k-1")
    corrected = post(client, headers, slot, "k-1")

    assert refused.status_code == 422
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected
    assert IdempotencyKey.objects.count() == 1


def test_it_books_anew_for_a_new_key(client, alice, room, token_for, slot):
    other = factories.room(floor_obj=room.floor)
    headers = token_for(alice)

    first = post(client, headers, slot, "k-1")
    second = post(client, headers, {**slot, "room": other.pk}, "k-2")

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert Booking.objects.count() == 2


def test_it_treats_a_retry_without_a_key_as_a_new_request(client, alice, token_for, slot):
    headers = token_for(alice)
    first = post(client, headers, slot, None)

    retry = post(client, headers, slot, None)

    # Without a key the server cannot know it is a retry: the slot is simply taken.
    assert retry.status_code == 409
    assert [c["id"] for c in retry.json()["conflicts"]] == [first.json()["id"]]
    assert not IdempotencyKey.objects.exists()


def test_it_replays_a_series(client, alice, token_for, slot):
    headers = token_for(alice)
    payload = {**slot, "rrule": "FREQ=WEEKLY;COUNT=3"}

    first = post(client, headers, payload, "series-1", path="/api/v1/series")
    retry = post(client, headers, payload, "series-1", path="/api/v1/series")

    assert first.status_code == 201, first.content
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Series.objects.count() == 1
    assert Booking.objects.count() == 3
