"""The API answers in the caller's language: German by default, English on request, for
each kind of refusal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests import factories
from tests.helpers import EXAMPLE, send

pytestmark = pytest.mark.django_db


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
