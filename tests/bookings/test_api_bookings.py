"""Booking through the JSON API: book, read, move, resize, rename, cancel.

Every change leaves one audit event and one outbox message per channel; every refusal
leaves none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingEvent, OutboxMessage
from tests import factories
from tests.helpers import booking_channels, written_with_keys

pytestmark = pytest.mark.django_db

CONFLICT = "Der Raum ist zu dieser Zeit bereits gebucht."


def body(room, start: datetime, end: datetime, **extra) -> dict:
    return {"room": room.pk, "title": "Planung", "start": start.isoformat(), "end": end.isoformat(), **extra}


def post(client, headers, payload):
    return client.post("/api/v1/bookings", payload, content_type="application/json", headers=headers)


def patch(client, headers, booking_id, payload):
    return client.patch(
        f"/api/v1/bookings/{booking_id}", payload, content_type="application/json", headers=headers
    )


def announced(topic: str) -> list[OutboxMessage]:
    """The outbox messages of one change: exactly one per configured channel."""
    messages = list(OutboxMessage.objects.filter(topic=topic))
    assert sorted(m.channel for m in messages) == booking_channels()
    assert len({json.dumps(m.payload, sort_keys=True) for m in messages}) == 1
    return messages


def same_instant(iso: str, expected: datetime) -> bool:
    return datetime.fromisoformat(iso) == expected


# --- POST /api/v1/bookings ----------------------------------------------------------


def test_it_books_a_free_room(client, alice, room, token_for, at):
    response = post(client, token_for(alice), body(room, at(9), at(10), attendees=["bob@example.com"]))

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["room"] == room.pk
    assert data["title"] == "Planung"
    assert same_instant(data["start"], at(9))
    assert same_instant(data["end"], at(10))
    assert datetime.fromisoformat(data["start"]).tzinfo is not None
    assert data["status"] == "confirmed"
    assert data["organizer"] == "alice"
    assert data["private"] is False
    assert data["series"] is None
    assert data["version"] == 1
    booking = Booking.objects.get(pk=data["id"])
    assert booking.organizer == alice
    assert booking.source == "api"
    assert booking.attendees == ["bob@example.com"]
    assert (booking.start, booking.end) == (at(9), at(10))


def test_it_records_the_booking_in_the_audit_log_and_the_outbox(client, alice, room, token_for, at):
    response = post(client, token_for(alice), body(room, at(9), at(10)))

    booking_id = response.json()["id"]
    event = BookingEvent.objects.get()
    assert (event.booking_id, event.kind, event.actor) == (booking_id, "created", alice)
    assert OutboxMessage.objects.exclude(topic="booking.created").count() == 0
    message = announced("booking.created")[0]
    assert message.payload["id"] == booking_id
    assert message.payload["status"] == "confirmed"
    assert message.delivered_at is None


def test_it_treats_equal_instants_in_other_offsets_as_the_same_time(client, alice, bob, room, token_for, at):
    post(client, token_for(alice), body(room, at(9), at(10)))
    utc = at(9).astimezone(UTC)

    response = post(client, token_for(bob), body(room, utc, utc + timedelta(minutes=30)))

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ((9, 30), (10, 30)),  # starts inside
        ((8, 30), (9, 30)),  # ends inside
        ((8, 0), (11, 0)),  # encloses
        ((9, 15), (9, 45)),  # inside
        ((9, 0), (10, 0)),  # the same slot
    ],
    ids=["starts-inside", "ends-inside", "encloses", "inside", "same"],
)
def test_it_refuses_an_overlap_with_409_naming_the_booking_in_the_way(
    client, alice, bob, room, token_for, at, start, end
):
    first = post(client, token_for(alice), body(room, at(9), at(10))).json()
    before = written_with_keys()

    response = post(
        client,
        {**token_for(bob), "Idempotency-Key": "k1"},
        body(room, at(*start), at(*end), title="Bob's"),
    )

    assert response.status_code == 409
    data = response.json()
    assert data["detail"] == CONFLICT
    assert [c["id"] for c in data["conflicts"]] == [first["id"]]
    assert data["conflicts"][0]["title"] == "Planung"
    assert same_instant(data["conflicts"][0]["start"], at(9))
    assert written_with_keys() == before
    assert not Booking.objects.filter(title="Bob's").exists()


def test_it_names_every_booking_in_the_way(client, alice, bob, room, token_for, at):
    a = post(client, token_for(alice), body(room, at(9), at(10))).json()
    b = post(client, token_for(alice), body(room, at(11), at(12))).json()

    response = post(client, token_for(bob), body(room, at(9, 30), at(11, 30)))

    assert response.status_code == 409
    assert [c["id"] for c in response.json()["conflicts"]] == [a["id"], b["id"]]


@pytest.mark.parametrize(("start", "end"), [((10, 0), (11, 0)), ((8, 0), (9, 0))], ids=["after", "before"])
def test_it_accepts_a_back_to_back_booking(client, alice, bob, room, token_for, at, start, end):
    post(client, token_for(alice), body(room, at(9), at(10)))

    response = post(client, token_for(bob), body(room, at(*start), at(*end)))

    assert response.status_code == 201, response.content
    assert Booking.objects.filter(room=room, status="confirmed").count() == 2


def test_it_books_the_same_time_in_another_room(client, alice, bob, room, token_for, at):
    other = factories.room(floor_obj=room.floor)
    post(client, token_for(alice), body(room, at(9), at(10)))

    response = post(client, token_for(bob), body(other, at(9), at(10)))

    assert response.status_code == 201


def test_it_lets_the_same_user_book_overlapping_times_in_two_rooms(client, alice, room, token_for, at):
    other = factories.room(floor_obj=room.floor)
    headers = token_for(alice)

    assert post(client, headers, body(room, at(9), at(10))).status_code == 201
    assert post(client, headers, body(other, at(9), at(10))).status_code == 201


def test_it_ignores_cancelled_bookings_when_looking_for_conflicts(client, alice, bob, room, token_for, at):
    factories.booking(room, alice, at(9), status="cancelled")
    factories.booking(room, alice, at(9), status="rejected")

    response = post(client, token_for(bob), body(room, at(9), at(10)))

    assert response.status_code == 201


# --- GET ----------------------------------------------------------------------------


def test_it_shows_a_booking_by_id(client, alice, bob, room, token_for, at):
    created = post(client, token_for(alice), body(room, at(9), at(10))).json()

    mine = client.get(f"/api/v1/bookings/{created['id']}", headers=token_for(alice))
    theirs = client.get(f"/api/v1/bookings/{created['id']}", headers=token_for(bob))

    assert mine.status_code == 200
    shown = mine.json()
    assert {k: v for k, v in shown.items() if k not in ("start", "end")} == {
        k: v for k, v in created.items() if k not in ("start", "end")
    }
    assert same_instant(shown["start"], at(9))
    assert same_instant(shown["end"], at(10))
    # A booking that is not private is visible to colleagues as it is.
    assert theirs.status_code == 200
    assert theirs.json()["title"] == "Planung"
    assert theirs.json()["organizer"] == "alice"


def test_it_lists_only_the_callers_own_upcoming_bookings_by_start(client, alice, bob, room, token_for, at):
    other = factories.room(floor_obj=room.floor)
    late = factories.booking(room, alice, at(15), title="Late")
    early = factories.booking(other, alice, at(8), title="Early")
    cancelled = factories.booking(room, alice, at(11), title="Off", status="cancelled")
    factories.booking(room, bob, at(9), title="Bob's")
    ended = timezone.now() - timedelta(hours=3)
    factories.booking(room, alice, ended, title="Past")

    response = client.get("/api/v1/bookings", headers=token_for(alice))

    assert response.status_code == 200
    assert [b["id"] for b in response.json()] == [early.pk, cancelled.pk, late.pk]
    assert {b["organizer"] for b in response.json()} == {"alice"}


def test_it_filters_the_callers_bookings_by_status(client, alice, room, token_for, at):
    active = factories.booking(room, alice, at(9))
    factories.booking(room, alice, at(11), status="cancelled")

    response = client.get("/api/v1/bookings?status=confirmed", headers=token_for(alice))

    assert [b["id"] for b in response.json()] == [active.pk]


def test_it_lists_nothing_for_a_user_without_bookings(client, alice, bob, room, token_for, at):
    factories.booking(room, alice, at(9))

    response = client.get("/api/v1/bookings", headers=token_for(bob))

    assert response.status_code == 200
    assert response.json() == []


def test_it_pages_the_callers_bookings(client, alice, room, token_for, at):
    ids = [factories.booking(room, alice, at(8 + i)).pk for i in range(5)]

    page = client.get("/api/v1/bookings?limit=2&offset=2", headers=token_for(alice))

    assert [b["id"] for b in page.json()] == ids[2:4]


# --- PATCH --------------------------------------------------------------------------


@pytest.fixture
def booked(client, alice, room, token_for, at):
    """Alice's booking 09:00-10:00, made through the API."""
    response = post(client, token_for(alice), body(room, at(9), at(10)))
    assert response.status_code == 201
    return response.json()


def test_it_moves_a_booking(client, alice, room, token_for, at, booked):
    response = patch(
        client, token_for(alice), booked["id"], {"start": at(14).isoformat(), "end": at(15).isoformat()}
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert same_instant(data["start"], at(14))
    assert same_instant(data["end"], at(15))
    assert data["version"] == 2
    booking = Booking.objects.get(pk=booked["id"])
    assert (booking.start, booking.end, booking.version) == (at(14), at(15), 2)
    event = BookingEvent.objects.filter(kind="updated").get()
    assert event.actor == alice
    assert [datetime.fromisoformat(t) for t in event.changes["span"][1]] == [at(14), at(15)]
    message = announced("booking.updated")[0]
    assert message.payload["version"] == 2
    assert datetime.fromisoformat(message.payload["start"]) == at(14)


def test_it_resizes_a_booking_by_its_end_alone(client, alice, token_for, at, booked):
    response = patch(client, token_for(alice), booked["id"], {"end": at(11, 30).isoformat()})

    assert response.status_code == 200
    assert same_instant(response.json()["start"], at(9))
    assert same_instant(response.json()["end"], at(11, 30))
    assert Booking.objects.get(pk=booked["id"]).end == at(11, 30)


def test_it_renames_a_booking(client, alice, token_for, booked):
    response = patch(client, token_for(alice), booked["id"], {"title": "  Retro  "})

    assert response.status_code == 200
    assert response.json()["title"] == "Retro"
    assert response.json()["version"] == 2
    assert BookingEvent.objects.filter(kind="updated").get().changes == {"title": ["Planung", "Retro"]}
    announced("booking.updated")


def test_it_moves_a_booking_to_another_room(client, alice, room, token_for, booked):
    other = factories.room(floor_obj=room.floor)

    response = patch(client, token_for(alice), booked["id"], {"room": other.pk})

    assert response.status_code == 200
    assert response.json()["room"] == other.pk
    assert Booking.objects.get(pk=booked["id"]).room == other


def test_it_lets_a_booking_grow_into_its_own_time(client, alice, token_for, at, booked):
    # The booking must not conflict with itself when it is resized.
    response = patch(
        client,
        token_for(alice),
        booked["id"],
        {"start": at(8, 30).isoformat(), "end": at(10, 30).isoformat()},
    )

    assert response.status_code == 200


def test_it_changes_nothing_when_the_patch_changes_nothing(client, alice, token_for, booked):
    response = patch(client, token_for(alice), booked["id"], {"title": "Planung"})

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert not BookingEvent.objects.filter(kind="updated").exists()
    assert not OutboxMessage.objects.filter(topic="booking.updated").exists()


@pytest.mark.parametrize("change", ["move", "resize", "other-room"])
def test_it_refuses_a_change_into_a_conflict_and_changes_nothing(
    client, alice, bob, room, token_for, at, booked, change
):
    other = factories.room(floor_obj=room.floor)
    blocker = factories.booking(room, bob, at(11), title="Bob's")
    other_blocker = factories.booking(other, bob, at(9, 30), title="Bob's other")
    payload, in_the_way = {
        "move": ({"start": at(10, 30).isoformat(), "end": at(11, 30).isoformat()}, blocker),
        "resize": ({"end": at(11, 30).isoformat()}, blocker),
        "other-room": ({"room": other.pk}, other_blocker),
    }[change]
    before = written_with_keys()

    response = patch(client, token_for(alice), booked["id"], payload)

    assert response.status_code == 409
    assert response.json()["detail"] == CONFLICT
    assert [c["id"] for c in response.json()["conflicts"]] == [in_the_way.pk]
    booking = Booking.objects.get(pk=booked["id"])
    assert (booking.room, booking.start, booking.end, booking.version) == (room, at(9), at(10), 1)
    assert written_with_keys() == before


def test_it_refuses_a_change_based_on_a_stale_version(client, alice, token_for, booked):
    headers = token_for(alice)
    assert patch(client, {**headers, "If-Match": "1"}, booked["id"], {"title": "First"}).status_code == 200
    before = written_with_keys()

    response = patch(client, {**headers, "If-Match": "1"}, booked["id"], {"title": "Second"})

    assert response.status_code == 412
    assert response.json()["detail"] == "Die Buchung wurde inzwischen geändert; bitte laden Sie sie neu."
    assert Booking.objects.get(pk=booked["id"]).title == "First"
    assert written_with_keys() == before


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', " 1 "])
def test_it_accepts_the_current_version_as_an_etag(client, alice, token_for, booked, if_match):
    response = patch(client, {**token_for(alice), "If-Match": if_match}, booked["id"], {"title": "Retro"})

    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_it_refuses_an_if_match_that_is_not_a_version(client, alice, token_for, booked):
    response = patch(client, {**token_for(alice), "If-Match": "yesterday"}, booked["id"], {"title": "Retro"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "If-Match muss die Versionsnummer der Buchung sein.",
        "field": "If-Match",
    }
    assert Booking.objects.get(pk=booked["id"]).title == "Planung"


def test_it_refuses_to_change_a_cancelled_booking(client, alice, token_for, booked):
    headers = token_for(alice)
    client.delete(f"/api/v1/bookings/{booked['id']}", headers=headers)
    before = written_with_keys()

    response = patch(client, headers, booked["id"], {"title": "Zombie"})

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Eine stornierte oder abgeschlossene Buchung kann nicht geändert werden."
    )
    assert written_with_keys() == before


def test_it_refuses_to_change_a_booking_that_has_ended(client, alice, room, token_for):
    past = factories.booking(room, alice, timezone.now() - timedelta(hours=3))

    response = patch(client, token_for(alice), past.pk, {"title": "Rewrite history"})

    assert response.status_code == 422
    assert response.json() == {"detail": "Eine beendete Buchung kann nicht geändert werden.", "field": "end"}
    assert not BookingEvent.objects.exists()


def test_it_refuses_to_move_a_booking_into_the_past(client, alice, token_for, booked):
    start = timezone.now() - timedelta(hours=2)

    response = patch(
        client,
        token_for(alice),
        booked["id"],
        {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 422
    assert response.json() == {"detail": "Der Beginn liegt in der Vergangenheit.", "field": "start"}


def test_it_extends_a_running_booking(client, alice, room, token_for):
    # A meeting running over: its start is in the past, but only the end moves.
    now = timezone.now()
    running = factories.booking(room, alice, now - timedelta(minutes=30), minutes=60)

    response = patch(client, token_for(alice), running.pk, {"end": (now + timedelta(minutes=90)).isoformat()})

    assert response.status_code == 200, response.content
    assert Booking.objects.get(pk=running.pk).end == now + timedelta(minutes=90)


# --- DELETE -------------------------------------------------------------------------


def test_it_cancels_a_booking_and_keeps_the_row(client, alice, token_for, booked):
    response = client.delete(f"/api/v1/bookings/{booked['id']}", headers=token_for(alice))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["version"] == 2
    booking = Booking.objects.get(pk=booked["id"])
    assert booking.status == "cancelled"
    assert booking.cancelled_at is not None
    event = BookingEvent.objects.filter(kind="cancelled").get()
    assert (event.booking_id, event.actor) == (booked["id"], alice)
    message = announced("booking.cancelled")[0]
    assert message.payload["status"] == "cancelled"
    shown = client.get(f"/api/v1/bookings/{booked['id']}", headers=token_for(alice))
    assert shown.json()["status"] == "cancelled"


def test_it_cancels_only_once_when_delete_is_repeated(client, alice, token_for, booked):
    headers = token_for(alice)
    first = client.delete(f"/api/v1/bookings/{booked['id']}", headers=headers)
    before = written_with_keys()

    again = client.delete(f"/api/v1/bookings/{booked['id']}", headers=headers)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert written_with_keys() == before
    assert BookingEvent.objects.filter(kind="cancelled").count() == 1


def test_it_frees_the_slot_when_a_booking_is_cancelled(client, alice, bob, room, token_for, at, booked):
    assert post(client, token_for(bob), body(room, at(9), at(10))).status_code == 409

    client.delete(f"/api/v1/bookings/{booked['id']}", headers=token_for(alice))
    response = post(client, token_for(bob), body(room, at(9), at(10), title="Bob's"))

    assert response.status_code == 201
    assert Booking.objects.filter(room=room).count() == 2
    assert Booking.objects.get(room=room, status="confirmed").title == "Bob's"


def test_it_refuses_to_cancel_a_booking_that_has_ended(client, alice, room, token_for):
    past = factories.booking(room, alice, timezone.now() - timedelta(hours=3))

    response = client.delete(f"/api/v1/bookings/{past.pk}", headers=token_for(alice))

    assert response.status_code == 422
    assert response.json()["detail"] == "Eine beendete Buchung kann nicht storniert werden."
    assert Booking.objects.get(pk=past.pk).status == "confirmed"
    assert not BookingEvent.objects.exists()
