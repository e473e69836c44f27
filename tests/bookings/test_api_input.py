"""The API's answer to bad input: the right 4xx, JSON {"detail": ...} naming the field, and
nothing written. Never a 500, never a traceback; ISO 8601 only, JSON for routing errors.

The same contract in the caller's language: test_api_language.py; who may call and see
what: test_api_access.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from tests import factories
from tests.helpers import EXAMPLE, assert_clean_error, field_of, send, written_with_keys

pytestmark = pytest.mark.django_db


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
    before = written_with_keys()

    response = send(client, headers, spoil(valid))

    data = assert_clean_error(response, 422)
    assert field_of(response) == field
    if detail is not None:
        assert data["detail"] == detail
    assert written_with_keys() == before


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
    before = written_with_keys()

    response = send(
        client, token_for(alice), {**valid, "start": at(*start).isoformat(), "end": at(*end).isoformat()}
    )

    assert assert_clean_error(response, 422) == {"detail": detail, "field": field}
    assert written_with_keys() == before


def test_it_refuses_a_start_in_the_past(client, alice, token_for, valid):
    start = timezone.now() - timedelta(hours=1)
    before = written_with_keys()

    response = send(
        client,
        token_for(alice),
        {**valid, "start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
    )

    assert assert_clean_error(response, 422) == {
        "detail": "Der Beginn liegt in der Vergangenheit.",
        "field": "start",
    }
    assert written_with_keys() == before


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
    before = written_with_keys()

    response = send(
        client, token_for(alice), {**valid, "end": (at(9) + timedelta(days=14, minutes=1)).isoformat()}
    )

    assert assert_clean_error(response, 422) == {
        "detail": "Eine Buchung kann höchstens 14 Tage dauern.",
        "field": "end",
    }
    assert written_with_keys() == before


def test_it_accepts_a_booking_of_exactly_14_days(client, alice, token_for, valid, at):
    response = send(client, token_for(alice), {**valid, "end": (at(9) + timedelta(days=14)).isoformat()})

    assert response.status_code == 201


def test_it_accepts_a_title_of_200_characters(client, alice, token_for, valid):
    response = send(client, token_for(alice), {**valid, "title": "x" * 200})

    assert response.status_code == 201
    assert response.json()["title"] == "x" * 200


def test_it_refuses_a_time_beyond_what_the_database_can_give_back(client, alice, token_for, valid):
    # 9999-12-31 evening in New York is already year 10000 in UTC: stored, it could never be read.
    before = written_with_keys()

    response = send(
        client,
        token_for(alice),
        {**valid, "start": "9999-12-31T20:00:00-05:00", "end": "9999-12-31T21:00:00-05:00"},
    )

    data = assert_clean_error(response, 422)
    assert field_of(response) in {"start", "end"}
    assert data["detail"] == "Die Zeit liegt zu weit in der Zukunft."
    assert written_with_keys() == before
    assert client.get("/api/v1/bookings", headers=token_for(alice)).status_code == 200


def test_it_refuses_an_unknown_room(client, alice, token_for, valid):
    before = written_with_keys()

    response = send(client, token_for(alice), {**valid, "room": 987654})

    assert assert_clean_error(response, 422) == {
        "detail": "Es gibt keinen Raum mit dieser ID.",
        "field": "room",
    }
    assert written_with_keys() == before


def test_it_refuses_a_room_id_too_large_for_the_database(client, alice, token_for, valid):
    response = send(client, token_for(alice), {**valid, "room": 10**30})

    assert field_of(response) == "room"
    assert_clean_error(response, 422)


def test_it_refuses_a_room_that_cannot_be_booked(client, alice, token_for, valid, room):
    room.bookable = False
    room.save()
    before = written_with_keys()

    response = send(client, token_for(alice), valid)

    assert assert_clean_error(response, 422) == {
        "detail": f"Der Raum {room.name} kann nicht gebucht werden.",
        "field": "room",
    }
    assert written_with_keys() == before


def test_it_refuses_malformed_json_with_400(client, alice, token_for, valid):
    before = written_with_keys()

    response = send(client, token_for(alice), json.dumps(valid)[:-1], raw=True)

    assert assert_clean_error(response, 400) == {"detail": "Der Inhalt der Anfrage ist kein gültiges JSON."}
    assert written_with_keys() == before


@pytest.mark.parametrize(
    "content", ["", "[]", "null", '"a booking"', "42"], ids=["empty", "array", "null", "string", "number"]
)
def test_it_refuses_a_body_that_is_not_an_object(client, alice, token_for, content):
    before = written_with_keys()

    response = send(client, token_for(alice), content, raw=True)

    assert_clean_error(response, 422)
    # The client never saw the view's argument name; the whole body is at fault.
    assert field_of(response) == "body"
    assert "payload" not in response.json()["detail"]
    assert written_with_keys() == before


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
        assert written_with_keys() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


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
    before = written_with_keys()

    response = client.patch(
        f"/api/v1/bookings/{booking.pk}", payload, content_type="application/json", headers=token_for(alice)
    )

    field = next(iter(payload))
    assert assert_clean_error(response, 422) == {
        "detail": "Dieses Feld darf nicht null sein.",
        "field": field,
    }
    assert written_with_keys() == before


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
    before = written_with_keys()

    response = client.patch(
        f"/api/v1/bookings/{booking.pk}", payload, content_type="application/json", headers=token_for(alice)
    )

    assert_clean_error(response, 422)
    assert field_of(response) == field
    booking.refresh_from_db()
    assert (booking.title, booking.start, booking.version) == ("Meeting", at(9), 1)
    assert written_with_keys() == before


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
    before = written_with_keys()

    response = send(client, token_for(alice), spoil(valid))

    assert 400 <= response.status_code < 500, response.content
    assert_clean_error(response, response.status_code)
    assert written_with_keys() == before


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00", b'{"room": 1, "title": "\\ud800"', b"{" * 5000 + b"}" * 5000, b'{"room": NaN}'],
    ids=["not-utf8", "lone-surrogate-unclosed", "deeply-nested", "nan"],
)
def test_it_never_answers_an_unreadable_body_with_a_500(client, alice, token_for, raw):
    response = client.post("/api/v1/bookings", raw, content_type="application/json", headers=token_for(alice))

    assert response.status_code in {400, 422}, response.content
    assert_clean_error(response, response.status_code)
    assert written_with_keys() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


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
    before = written_with_keys()

    response = send(client, token_for(alice), {**valid, "start": 1_900_000_000})

    data = assert_clean_error(response, 422)
    assert data["field"] == "start"
    assert data["detail"] == f"start: Keine gültige Zeitangabe nach ISO 8601, z. B. {EXAMPLE}."
    assert written_with_keys() == before


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
