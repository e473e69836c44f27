"""The API's error contract: the right 4xx, JSON {"detail": ...} naming the field, in the
caller's language, and nothing written. Never a 500, never a traceback.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.models import ApiToken, Booking, BookingEvent, IdempotencyKey, OutboxMessage
from bookings.services.tokens import revoke_token
from tests import factories

pytestmark = pytest.mark.django_db

AUTH_REQUIRED = "Anmeldung erforderlich: Melden Sie sich an oder senden Sie ein gültiges Bearer-Token."
EXAMPLE = "2026-05-04T09:00:00+02:00"


@pytest.fixture
def day():
    return factories.days_ahead(2)


@pytest.fixture
def at(day):
    return lambda hour, minute=0: factories.on(day, hour, minute)


@pytest.fixture
def valid(room, at) -> dict:
    return {"room": room.pk, "title": "Planung", "start": at(9).isoformat(), "end": at(10).isoformat()}


def counts() -> dict:
    return {
        "bookings": Booking.objects.count(),
        "events": BookingEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "keys": IdempotencyKey.objects.count(),
    }


def field_of(response) -> str | None:
    data = response.json()
    if "field" in data:
        return data["field"]
    return data["errors"][0]["field"]


def assert_clean_error(response, status: int) -> dict:
    """The status, a JSON body with a detail, and nothing a user should not see."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert isinstance(data["detail"], str) and data["detail"]
    text = response.content.decode()
    assert "Traceback" not in text
    assert 'File "' not in text
    assert "psycopg" not in text.lower()
    return data


def send(client, headers, payload, *, key: str | None = "bad-1", raw: bool = False):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    content = payload if raw else json.dumps(payload)
    return client.post("/api/v1/bookings", content, content_type="application/json", headers=headers)


# --- bad input to POST /api/v1/bookings ---------------------------------------------

# (name, how to spoil a valid body, field, German detail)
BAD_BODIES = [
    (
        "naive-start",
        lambda b: {**b, "start": b["start"][:19]},
        "start",
        "start: Die Zeitangabe braucht einen Zeitzonen-Versatz (ISO 8601), z. B. " + EXAMPLE + ".",
    ),
    (
        "naive-end",
        lambda b: {**b, "end": b["end"][:19]},
        "end",
        "end: Die Zeitangabe braucht einen Zeitzonen-Versatz (ISO 8601), z. B. " + EXAMPLE + ".",
    ),
    (
        "date-only",
        lambda b: {**b, "start": b["start"][:10]},
        "start",
        "start: Die Zeitangabe braucht einen Zeitzonen-Versatz (ISO 8601), z. B. " + EXAMPLE + ".",
    ),
    (
        "not-a-time",
        lambda b: {**b, "start": "tomorrow at nine"},
        "start",
        "start: Keine gültige Zeitangabe nach ISO 8601, z. B. " + EXAMPLE + ".",
    ),
    ("missing-title", lambda b: {k: v for k, v in b.items() if k != "title"}, "title", None),
    ("missing-room", lambda b: {k: v for k, v in b.items() if k != "room"}, "room", None),
    ("missing-start", lambda b: {k: v for k, v in b.items() if k != "start"}, "start", None),
    ("unknown-field", lambda b: {**b, "titel": "typo"}, "titel", "titel: Dieses Feld ist unbekannt."),
    (
        "room-not-a-number",
        lambda b: {**b, "room": "big one"},
        "room",
        "room: Eine ganze Zahl ist erforderlich.",
    ),
    ("room-a-fraction", lambda b: {**b, "room": 1.5}, "room", None),
    ("room-zero", lambda b: {**b, "room": 0}, "room", "room: Der Wert ist zu klein."),
    ("title-a-number", lambda b: {**b, "title": 42}, "title", "title: Ein Text ist erforderlich."),
    ("title-empty", lambda b: {**b, "title": ""}, "title", "title: Dieses Feld darf nicht leer sein."),
    ("title-blank", lambda b: {**b, "title": "   "}, "title", "Bitte geben Sie einen Titel ein."),
    ("title-too-long", lambda b: {**b, "title": "x" * 201}, "title", "title: Dieser Text ist zu lang."),
    ("title-with-nul", lambda b: {**b, "title": "Plan\x00ung"}, "title", None),
    (
        "private-not-a-bool",
        lambda b: {**b, "private": "maybe"},
        "private",
        "private: true oder false ist erforderlich.",
    ),
    (
        "attendees-not-a-list",
        lambda b: {**b, "attendees": "bob"},
        "attendees",
        "attendees: Eine Liste ist erforderlich.",
    ),
    ("attendee-with-nul", lambda b: {**b, "attendees": ["b\x00b"]}, "attendees", None),
    ("attendee-lone-surrogate", lambda b: {**b, "attendees": ["b\udc80b"]}, "attendees", None),
    ("attendee-too-long", lambda b: {**b, "attendees": ["x" * 255]}, "attendees", None),
    ("too-many-attendees", lambda b: {**b, "attendees": ["a"] * 201}, "attendees", None),
]


@pytest.mark.parametrize(
    ("spoil", "field", "detail"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_it_refuses_bad_input_naming_the_field_and_writes_nothing(
    client, alice, token_for, valid, spoil, field, detail
):
    headers = token_for(alice)
    before = counts()

    response = send(client, headers, spoil(valid))

    data = assert_clean_error(response, 422)
    assert field_of(response) == field
    if detail is not None:
        assert data["detail"] == detail
    assert counts() == before


def test_it_names_a_missing_field_in_german(client, alice, token_for, valid):
    del valid["title"]

    response = send(client, token_for(alice), valid)

    assert response.json()["detail"] == "title: Dieses Feld ist erforderlich."


def test_it_names_every_field_when_several_are_wrong(client, alice, token_for, valid):
    response = send(client, token_for(alice), {**valid, "room": "x", "start": "soon"})

    data = assert_clean_error(response, 422)
    assert data["detail"] == "Ungültige Eingabe in: room, start."
    assert [e["field"] for e in data["errors"]] == ["room", "start"]


@pytest.mark.parametrize(
    ("start", "end", "field", "detail"),
    [
        ((10, 0), (9, 0), "end", "Das Ende muss nach dem Beginn liegen."),
        ((9, 0), (9, 0), "end", "Das Ende muss nach dem Beginn liegen."),
    ],
    ids=["end-before-start", "end-equals-start"],
)
def test_it_refuses_a_span_that_does_not_move_forward(
    client, alice, token_for, valid, at, start, end, field, detail
):
    before = counts()

    response = send(
        client, token_for(alice), {**valid, "start": at(*start).isoformat(), "end": at(*end).isoformat()}
    )

    assert assert_clean_error(response, 422) == {"detail": detail, "field": field}
    assert counts() == before


def test_it_refuses_a_start_in_the_past(client, alice, token_for, valid):
    start = timezone.now() - timedelta(hours=1)
    before = counts()

    response = send(
        client,
        token_for(alice),
        {**valid, "start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
    )

    assert assert_clean_error(response, 422) == {
        "detail": "Der Beginn liegt in der Vergangenheit.",
        "field": "start",
    }
    assert counts() == before


def test_it_accepts_a_start_a_moment_ago(client, alice, token_for, valid):
    # Booking the room you are standing in: a start a minute ago is fine.
    start = timezone.now() - timedelta(minutes=1)

    response = send(
        client,
        token_for(alice),
        {**valid, "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 201


def test_it_refuses_a_booking_longer_than_14_days(client, alice, token_for, valid, at):
    before = counts()

    response = send(
        client, token_for(alice), {**valid, "end": (at(9) + timedelta(days=14, minutes=1)).isoformat()}
    )

    assert assert_clean_error(response, 422) == {
        "detail": "Eine Buchung kann höchstens 14 Tage dauern.",
        "field": "end",
    }
    assert counts() == before


def test_it_accepts_a_booking_of_exactly_14_days(client, alice, token_for, valid, at):
    response = send(client, token_for(alice), {**valid, "end": (at(9) + timedelta(days=14)).isoformat()})

    assert response.status_code == 201


def test_it_accepts_a_title_of_200_characters(client, alice, token_for, valid):
    response = send(client, token_for(alice), {**valid, "title": "x" * 200})

    assert response.status_code == 201
    assert response.json()["title"] == "x" * 200


def test_it_refuses_a_time_beyond_what_the_database_can_give_back(client, alice, token_for, valid):
    # 9999-12-31 evening in New York is already year 10000 in UTC: stored, it could never be read.
    before = counts()

    response = send(
        client,
        token_for(alice),
        {**valid, "start": "9999-12-31T20:00:00-05:00", "end": "9999-12-31T21:00:00-05:00"},
    )

    data = assert_clean_error(response, 422)
    assert field_of(response) in {"start", "end"}
    assert data["detail"] == "Die Zeit liegt zu weit in der Zukunft."
    assert counts() == before
    assert client.get("/api/v1/bookings", headers=token_for(alice)).status_code == 200


def test_it_refuses_an_unknown_room(client, alice, token_for, valid):
    before = counts()

    response = send(client, token_for(alice), {**valid, "room": 987654})

    assert assert_clean_error(response, 422) == {
        "detail": "Es gibt keinen Raum mit dieser ID.",
        "field": "room",
    }
    assert counts() == before


def test_it_refuses_a_room_id_too_large_for_the_database(client, alice, token_for, valid):
    response = send(client, token_for(alice), {**valid, "room": 10**30})

    assert field_of(response) == "room"
    assert_clean_error(response, 422)


def test_it_refuses_a_room_that_cannot_be_booked(client, alice, token_for, valid, room):
    room.bookable = False
    room.save()
    before = counts()

    response = send(client, token_for(alice), valid)

    assert assert_clean_error(response, 422) == {
        "detail": f"Der Raum {room.name} kann nicht gebucht werden.",
        "field": "room",
    }
    assert counts() == before


def test_it_refuses_malformed_json_with_400(client, alice, token_for, valid):
    before = counts()

    response = send(client, token_for(alice), json.dumps(valid)[:-1], raw=True)

    assert assert_clean_error(response, 400) == {"detail": "Der Inhalt der Anfrage ist kein gültiges JSON."}
    assert counts() == before


@pytest.mark.parametrize(
    "content", ["", "[]", "null", '"a booking"', "42"], ids=["empty", "array", "null", "string", "number"]
)
def test_it_refuses_a_body_that_is_not_an_object(client, alice, token_for, content):
    before = counts()

    response = send(client, token_for(alice), content, raw=True)

    assert_clean_error(response, 422)
    # The client never saw the view's argument name; the whole body is at fault.
    assert field_of(response) == "body"
    assert "payload" not in response.json()["detail"]
    assert counts() == before


@pytest.mark.parametrize(("key", "ok"), [("", False), ("   ", False), ("k" * 256, False), ("k" * 255, True)])
def test_it_checks_the_length_of_the_idempotency_key(client, alice, token_for, valid, key, ok):
    response = send(client, token_for(alice), valid, key=key)

    if ok:
        assert response.status_code == 201
    else:
        assert assert_clean_error(response, 422) == {
            "detail": "Der Idempotency-Key muss 1 bis 255 Zeichen haben.",
            "field": "Idempotency-Key",
        }
        assert counts() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


@pytest.mark.parametrize(
    "payload",
    [
        {"title": None},
        {"start": None},
        {"room": None},
    ],
    ids=["title", "start", "room"],
)
def test_it_refuses_null_in_a_patch(client, alice, room, token_for, at, payload):
    booking = factories.booking(room, alice, at(9))
    before = counts()

    response = client.patch(
        f"/api/v1/bookings/{booking.pk}", payload, content_type="application/json", headers=token_for(alice)
    )

    field = next(iter(payload))
    assert assert_clean_error(response, 422) == {
        "detail": "Dieses Feld darf nicht null sein.",
        "field": field,
    }
    assert counts() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"titel": "typo"}, "titel"),
        ({"start": "2030-01-01T09:00:00"}, "start"),
        ({"end": "whenever"}, "end"),
        ({"room": 987654}, "room"),
        ({"title": "x" * 201}, "title"),
        ({"version": 7}, "version"),
    ],
    ids=["unknown-field", "naive", "not-a-time", "unknown-room", "title-too-long", "read-only-field"],
)
def test_it_refuses_bad_input_to_a_patch_and_changes_nothing(
    client, alice, room, token_for, at, payload, field
):
    booking = factories.booking(room, alice, at(9))
    before = counts()

    response = client.patch(
        f"/api/v1/bookings/{booking.pk}", payload, content_type="application/json", headers=token_for(alice)
    )

    assert_clean_error(response, 422)
    assert field_of(response) == field
    booking.refresh_from_db()
    assert (booking.title, booking.start, booking.version) == ("Meeting", at(9), 1)
    assert counts() == before


def test_it_refuses_a_patch_that_ends_before_it_starts(client, alice, room, token_for, at):
    booking = factories.booking(room, alice, at(9))

    response = client.patch(
        f"/api/v1/bookings/{booking.pk}",
        {"end": at(8).isoformat()},
        content_type="application/json",
        headers=token_for(alice),
    )

    assert assert_clean_error(response, 422) == {
        "detail": "Das Ende muss nach dem Beginn liegen.",
        "field": "end",
    }
    assert Booking.objects.get(pk=booking.pk).end == at(10)


# --- language -----------------------------------------------------------------------


def test_it_answers_in_german_by_default_and_in_english_on_request(client, alice, token_for, valid, at):
    spoilt = {**valid, "end": at(8).isoformat()}
    headers = token_for(alice)

    german = send(client, headers, spoilt)
    also_german = send(client, {**headers, "Accept-Language": "de-DE,de;q=0.9"}, spoilt)
    english = send(client, {**headers, "Accept-Language": "en"}, spoilt)
    british = send(client, {**headers, "Accept-Language": "en-GB,en;q=0.8"}, spoilt)

    assert german.json()["detail"] == "Das Ende muss nach dem Beginn liegen."
    assert also_german.json()["detail"] == "Das Ende muss nach dem Beginn liegen."
    assert english.json()["detail"] == "The end must be after the start."
    assert british.json()["detail"] == "The end must be after the start."


@pytest.mark.parametrize(
    ("spoil", "german", "english"),
    [
        (
            lambda b: {**b, "start": b["start"][:19]},
            "start: Die Zeitangabe braucht einen Zeitzonen-Versatz (ISO 8601), z. B. " + EXAMPLE + ".",
            "start: The time needs a time zone offset (ISO 8601), e.g. " + EXAMPLE + ".",
        ),
        (lambda b: {**b, "titel": "x"}, "titel: Dieses Feld ist unbekannt.", "titel: This field is unknown."),
        (
            lambda b: {k: v for k, v in b.items() if k != "title"},
            "title: Dieses Feld ist erforderlich.",
            "title: This field is required.",
        ),
        (
            lambda b: {**b, "room": 987654},
            "Es gibt keinen Raum mit dieser ID.",
            "There is no room with this id.",
        ),
        (
            lambda b: {
                **b,
                "end": (datetime.fromisoformat(b["start"]) + timedelta(days=15)).isoformat(),
            },
            "Eine Buchung kann höchstens 14 Tage dauern.",
            "A booking can last at most 14 days.",
        ),
    ],
    ids=["naive", "unknown-field", "missing", "unknown-room", "too-long"],
)
def test_it_translates_each_kind_of_refusal(client, alice, token_for, valid, spoil, german, english):
    headers = token_for(alice)

    assert send(client, headers, spoil(valid)).json()["detail"] == german
    assert send(client, {**headers, "Accept-Language": "en"}, spoil(valid)).json()["detail"] == english


def test_it_explains_a_conflict_and_missing_auth_in_english_too(
    client, alice, bob, room, token_for, at, valid
):
    factories.booking(room, bob, at(9))
    en = {"Accept-Language": "en"}

    conflict = send(client, {**token_for(alice), **en}, valid)
    anonymous = client.get("/api/v1/bookings", headers=en)
    missing = client.get("/api/v1/bookings/987654", headers={**token_for(alice), **en})
    bad_json = send(client, {**token_for(alice), **en}, "{", raw=True)

    assert conflict.json()["detail"] == "The room is already booked at this time."
    assert anonymous.json() == {"detail": "Authentication required: sign in or send a valid bearer token."}
    assert missing.json() == {"detail": "Not found."}
    assert bad_json.json() == {"detail": "The request body is not valid JSON."}


# --- authentication -----------------------------------------------------------------


def endpoints(booking_id: int, valid: dict) -> list[tuple[str, str, dict | None]]:
    return [
        ("post", "/api/v1/bookings", valid),
        ("get", "/api/v1/bookings", None),
        ("get", f"/api/v1/bookings/{booking_id}", None),
        ("patch", f"/api/v1/bookings/{booking_id}", {"title": "Hijacked"}),
        ("delete", f"/api/v1/bookings/{booking_id}", None),
        ("post", "/api/v1/series", {**valid, "rrule": "FREQ=DAILY;COUNT=2"}),
    ]


def call(client, method: str, path: str, payload, headers: dict):
    if payload is None:
        return getattr(client, method)(path, headers=headers)
    return getattr(client, method)(path, payload, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer rfr_not-a-real-token", "Bearer ", "Bearer", "Token abc", "Basic YWxpY2U6YWxpY2UtcHctMTIz"],
    ids=["none", "wrong-token", "empty-bearer", "bare-bearer", "other-scheme", "basic"],
)
def test_it_refuses_every_endpoint_without_valid_credentials(client, alice, room, valid, at, authorization):
    booking = factories.booking(room, alice, at(14))
    headers = {} if authorization is None else {"Authorization": authorization}
    before = counts()

    for method, path, payload in endpoints(booking.pk, valid):
        response = call(client, method, path, payload, headers)
        assert assert_clean_error(response, 401) == {"detail": AUTH_REQUIRED}, (method, path)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    assert counts() == before
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_it_refuses_a_revoked_token(client, alice, token_for, valid):
    headers = token_for(alice)
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200

    revoke_token(token=ApiToken.objects.get(user=alice))
    response = send(client, headers, valid)

    assert assert_clean_error(response, 401) == {"detail": AUTH_REQUIRED}
    assert client.get("/api/v1/bookings", headers=headers).status_code == 401
    assert counts() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


def test_it_keeps_other_tokens_working_when_one_is_revoked(client, alice, token_for):
    first, second = token_for(alice), token_for(alice)
    revoke_token(token=ApiToken.objects.filter(user=alice).earliest("pk"))

    assert client.get("/api/v1/bookings", headers=first).status_code == 401
    assert client.get("/api/v1/bookings", headers=second).status_code == 200


def test_it_refuses_the_token_of_a_user_who_left(client, alice, token_for, valid):
    headers = token_for(alice)
    alice.is_active = False
    alice.save()

    response = send(client, headers, valid)

    assert assert_clean_error(response, 401) == {"detail": AUTH_REQUIRED}
    assert counts() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


# --- someone else's booking ---------------------------------------------------------


@pytest.fixture
def alices(client, alice, token_for, valid):
    response = send(client, token_for(alice), valid, key=None)
    assert response.status_code == 201
    return Booking.objects.get(pk=response.json()["id"])


def test_it_forbids_bob_to_change_alices_booking(client, bob, token_for, alices, at):
    before = counts()

    response = client.patch(
        f"/api/v1/bookings/{alices.pk}",
        {"title": "Bob's now", "start": at(15).isoformat(), "end": at(16).isoformat()},
        content_type="application/json",
        headers=token_for(bob),
    )

    assert assert_clean_error(response, 403) == {"detail": "Nur der Organisator kann diese Buchung ändern."}
    alices.refresh_from_db()
    assert (alices.title, alices.start, alices.version) == ("Planung", at(9), 1)
    assert counts() == before


def test_it_forbids_bob_to_cancel_alices_booking(client, bob, token_for, alices):
    before = counts()

    response = client.delete(f"/api/v1/bookings/{alices.pk}", headers=token_for(bob))

    assert assert_clean_error(response, 403) == {
        "detail": "Nur der Organisator kann diese Buchung stornieren."
    }
    assert Booking.objects.get(pk=alices.pk).status == "confirmed"
    assert counts() == before


def test_it_forbids_bob_even_when_his_if_match_is_current(client, bob, token_for, alices):
    response = client.patch(
        f"/api/v1/bookings/{alices.pk}",
        {"title": "Mine"},
        content_type="application/json",
        headers={**token_for(bob), "If-Match": "1"},
    )

    assert response.status_code == 403


def test_it_lets_a_facility_admin_cancel_alices_booking(client, fiona, token_for, alices):
    response = client.delete(f"/api/v1/bookings/{alices.pk}", headers=token_for(fiona))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["organizer"] == "alice"
    assert Booking.objects.get(pk=alices.pk).status == "cancelled"
    event = BookingEvent.objects.get(kind="cancelled")
    assert event.actor == fiona
    channels = OutboxMessage.objects.filter(topic="booking.cancelled").values_list("channel", flat=True)
    assert sorted(channels) == sorted(settings.RFR_OUTBOX_CHANNELS)


def test_it_lets_a_facility_admin_move_alices_booking(client, fiona, token_for, alices, at):
    response = client.patch(
        f"/api/v1/bookings/{alices.pk}",
        {"start": at(15).isoformat(), "end": at(16).isoformat()},
        content_type="application/json",
        headers=token_for(fiona),
    )

    assert response.status_code == 200
    assert Booking.objects.get(pk=alices.pk).organizer.username == "alice"
    assert BookingEvent.objects.get(kind="updated").actor == fiona


def test_it_does_not_let_staff_without_the_permission_cancel(client, token_for, alices):
    clerk = factories.user("clerk", is_staff=True)

    response = client.delete(f"/api/v1/bookings/{alices.pk}", headers=token_for(clerk))

    assert response.status_code == 403
    assert Booking.objects.get(pk=alices.pk).status == "confirmed"


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"title": "x"}), ("delete", None)],
    ids=["get", "patch", "delete"],
)
def test_it_answers_404_for_a_booking_that_does_not_exist(client, alice, token_for, method, payload):
    response = call(client, method, "/api/v1/bookings/987654", payload, token_for(alice))

    assert assert_clean_error(response, 404) == {"detail": "Nicht gefunden."}


def test_it_answers_422_for_a_booking_id_that_is_not_a_number(client, alice, token_for):
    response = client.get("/api/v1/bookings/first", headers=token_for(alice))

    data = assert_clean_error(response, 422)
    assert field_of(response) == "booking_id"
    assert data["detail"] == "booking_id: Eine ganze Zahl ist erforderlich."


# --- private bookings ---------------------------------------------------------------


@pytest.fixture
def secret(client, alice, token_for, valid):
    response = send(
        client, token_for(alice), {**valid, "title": "Personalgespräch", "private": True}, key=None
    )
    assert response.status_code == 201
    return response.json()


def test_it_hides_a_private_title_and_organizer_from_colleagues(client, alice, bob, token_for, secret):
    as_bob = client.get(f"/api/v1/bookings/{secret['id']}", headers=token_for(bob)).json()
    as_alice = client.get(f"/api/v1/bookings/{secret['id']}", headers=token_for(alice)).json()

    assert (as_bob["title"], as_bob["organizer"], as_bob["private"]) == (None, None, True)
    assert (as_alice["title"], as_alice["organizer"]) == ("Personalgespräch", "alice")
    assert secret["title"] == "Personalgespräch"


def test_it_shows_a_private_title_to_a_facility_admin(client, fiona, token_for, secret):
    as_fiona = client.get(f"/api/v1/bookings/{secret['id']}", headers=token_for(fiona)).json()

    assert as_fiona["title"] == "Personalgespräch"


def test_it_hides_a_private_title_in_the_rooms_bookings(client, alice, bob, room, token_for, secret, day):
    params = {"from": factories.on(day, 0).isoformat(), "to": factories.on(day, 23).isoformat()}

    as_bob = client.get(f"/api/v1/rooms/{room.pk}/bookings", params, headers=token_for(bob))
    as_alice = client.get(f"/api/v1/rooms/{room.pk}/bookings", params, headers=token_for(alice))

    assert as_bob.status_code == 200
    assert [(b["id"], b["title"], b["organizer"]) for b in as_bob.json()] == [(secret["id"], None, None)]
    assert [(b["id"], b["title"], b["organizer"]) for b in as_alice.json()] == [
        (secret["id"], "Personalgespräch", "alice")
    ]


def test_it_hides_a_private_title_in_the_availability(client, alice, bob, room, token_for, secret, day):
    def busy(user) -> list:
        response = client.get(
            "/api/v1/availability",
            {"date": day.isoformat(), "building": room.floor.building_id},
            headers=token_for(user),
        )
        assert response.status_code == 200
        (entry,) = [r for r in response.json()["rooms"] if r["id"] == room.pk]
        return entry["busy"]

    assert [(b["id"], b["title"]) for b in busy(bob)] == [(secret["id"], None)]
    assert [(b["id"], b["title"]) for b in busy(alice)] == [(secret["id"], "Personalgespräch")]
    assert "organizer" not in busy(bob)[0] or busy(bob)[0]["organizer"] is None


def test_it_hides_a_private_title_in_a_conflict(client, bob, token_for, valid, secret):
    response = send(client, token_for(bob), valid)

    assert response.status_code == 409
    (conflict,) = response.json()["conflicts"]
    assert (conflict["id"], conflict["title"], conflict["organizer"]) == (secret["id"], None, None)
    assert "Personalgespräch" not in response.content.decode()


def test_it_never_leaks_a_private_title_to_a_colleague_anywhere(client, bob, room, token_for, secret, day):
    headers = token_for(bob)
    pages = [
        client.get(f"/api/v1/bookings/{secret['id']}", headers=headers),
        client.get(
            f"/api/v1/rooms/{room.pk}/bookings",
            {"from": factories.on(day, 0).isoformat(), "to": factories.on(day, 23).isoformat()},
            headers=headers,
        ),
        client.get("/api/v1/availability", {"date": day.isoformat()}, headers=headers),
        client.get("/api/v1/bookings", headers=headers),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "Personalgespräch" not in page.content.decode()
        assert "alice" not in page.content.decode()


# --- never a 500 --------------------------------------------------------------------

# Each spoils a valid body (real room, future times) in one odd way.
ODD_BODIES = [
    lambda b: {**b, "room": True, "start": "x", "end": "y"},
    lambda b: {"room": [], "title": {}, "start": [], "end": {}},
    lambda b: {**b, "room": str(b["room"]), "start": "2030-02-30T09:00:00+01:00"},
    lambda b: {**b, "start": "2030-01-01T25:00:00+01:00"},
    lambda b: {**b, "start": "2030-01-01T09:00:00+25:00"},
    lambda b: {**b, "start": "0001-01-01T00:00:00+14:00", "end": "0001-01-01T01:00:00+14:00"},
    lambda b: {**b, "start": "-2030-01-01T09:00:00+01:00"},
    lambda b: {**b, "end": "9999-12-31T23:59:59.999999-23:59"},
    lambda b: {**b, "title": "\ud800"},
    lambda b: {**b, "title": "Plan\udfffung"},
    lambda b: {**b, "attendees": ["\ud800"]},
    lambda b: {**b, "attendees": [None]},
    lambda b: {**b, "attendees": [{"email": "bob@example.com"}]},
    lambda b: {**b, "room": -1, "title": "t" * 10_000, "start": "", "end": ""},
    lambda b: {**b, "room": 1e400},
    lambda b: {**b, "room": 2**63},
    lambda b: {"": "", "__proto__": {}},
]


@pytest.mark.parametrize("spoil", ODD_BODIES, ids=[f"odd-{i}" for i in range(len(ODD_BODIES))])
def test_it_never_answers_odd_input_with_a_500(client, alice, token_for, valid, spoil):
    before = counts()

    response = send(client, token_for(alice), spoil(valid))

    assert 400 <= response.status_code < 500, response.content
    assert_clean_error(response, response.status_code)
    assert counts() == before


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00", b'{"room": 1, "title": "\\ud800"', b"{" * 5000 + b"}" * 5000, b'{"room": NaN}'],
    ids=["not-utf8", "lone-surrogate-unclosed", "deeply-nested", "nan"],
)
def test_it_never_answers_an_unreadable_body_with_a_500(client, alice, token_for, raw):
    response = client.post("/api/v1/bookings", raw, content_type="application/json", headers=token_for(alice))

    assert response.status_code in {400, 422}, response.content
    assert_clean_error(response, response.status_code)
    assert counts() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


@pytest.mark.parametrize(
    "query",
    [
        "from=2030-01-01T00:00:00",
        "from=never",
        "limit=0",
        "limit=100000",
        "offset=-1",
        "status=confirmed&limit=x",
    ],
)
def test_it_never_answers_a_bad_query_with_a_500(client, alice, token_for, query):
    response = client.get(f"/api/v1/bookings?{query}", headers=token_for(alice))

    assert_clean_error(response, 422)


# --- the contract's edges: ISO 8601 only, JSON for routing errors ---------------------


def test_it_refuses_a_unix_timestamp_where_iso_8601_is_expected(client, alice, token_for, valid):
    before = counts()

    response = send(client, token_for(alice), {**valid, "start": 1_900_000_000})

    data = assert_clean_error(response, 422)
    assert data["field"] == "start"
    assert data["detail"] == f"start: Keine gültige Zeitangabe nach ISO 8601, z. B. {EXAMPLE}."
    assert counts() == before


def test_it_names_the_first_field_at_the_top_of_a_validation_error(client, alice, token_for, valid):
    response = send(client, token_for(alice), {**valid, "room": "x", "start": "soon"})

    assert response.json()["field"] == "room"


def test_it_answers_an_unknown_api_path_in_json(client, alice, token_for):
    response = client.get("/api/v1/no-such-thing", headers=token_for(alice))

    data = assert_clean_error(response, 404)
    assert data["detail"] == "Nicht gefunden."


def test_it_answers_a_wrong_method_in_json(client, alice, token_for, valid):
    response = client.put(
        "/api/v1/bookings", json.dumps(valid), content_type="application/json", headers=token_for(alice)
    )

    assert_clean_error(response, 405)
    assert "POST" in response["Allow"]
