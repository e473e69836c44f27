"""“Why can't I book this?”: the API's /check and the booking dialog say what a refusal would.

Both run the checks of a booking without booking; a real refusal lists the same reasons.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from bookings.models import Booking, Policy
from bookings.services.blockings import create_blocking
from tests import factories
from tests.helpers import BERLIN, frozen_at, post_booking, text, written_with_keys

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 8, 10, tzinfo=BERLIN)
MONDAY = datetime(2027, 1, 11, 9, tzinfo=BERLIN)


frozen = frozen_at(NOW, autouse=True)


def check(client, headers, room_id, start, end):
    return client.get(
        f"/api/v1/rooms/{room_id}/check",
        {"start": start.isoformat(), "end": end.isoformat()},
        headers=headers,
    )


def test_it_says_yes_when_nothing_is_in_the_way(client, alice, room, token_for):
    Policy.objects.create(room=room, requires_approval=True)
    response = check(client, token_for(alice), room.pk, MONDAY, MONDAY + timedelta(hours=1))
    assert response.status_code == 200
    assert response.json() == {
        "allowed": True,
        "reasons": [],
        "needs_approval": True,
        "requires_check_in": False,
    }


def test_it_lists_every_reason_and_the_refusal_says_the_same(client, alice, bob, room, token_for):
    Policy.objects.create(room=room, max_duration_minutes=60, max_advance_days=2)
    factories.booking(room, bob, MONDAY, minutes=30)
    headers = token_for(alice)
    response = check(client, headers, room.pk, MONDAY, MONDAY + timedelta(minutes=90))
    body = response.json()
    assert body["allowed"] is False
    assert [r["rule"] for r in body["reasons"]] == ["max_advance_days", "max_duration", "conflict"]
    assert body["reasons"][0]["message"] == "Dieser Raum kann höchstens 2 Tage im Voraus gebucht werden."

    before = written_with_keys()
    refusal = client.post(
        "/api/v1/bookings",
        {
            "room": room.pk,
            "title": "Planung",
            "start": (MONDAY + timedelta(hours=2)).isoformat(),
            "end": (MONDAY + timedelta(hours=3, minutes=30)).isoformat(),
        },
        content_type="application/json",
        headers={**headers, "Idempotency-Key": "k1"},
    )
    assert refusal.status_code == 403
    assert refusal.json()["detail"] == body["reasons"][0]["message"]
    assert [r["rule"] for r in refusal.json()["reasons"]] == ["max_advance_days", "max_duration"]
    assert written_with_keys() == before


def test_it_answers_in_english_when_asked(client, alice, room, token_for):
    Policy.objects.create(room=room, max_duration_minutes=30)
    headers = {**token_for(alice), "Accept-Language": "en"}
    body = check(client, headers, room.pk, MONDAY, MONDAY + timedelta(hours=1)).json()
    assert body["reasons"][0]["message"] == "This room can be booked for at most 30 minutes at a time."


def test_it_refuses_bad_input_clearly(client, alice, room, token_for):
    headers = token_for(alice)
    assert check(client, headers, 999999, MONDAY, MONDAY + timedelta(hours=1)).status_code == 404
    naive = client.get(
        f"/api/v1/rooms/{room.pk}/check",
        {"start": "2027-01-11T09:00", "end": "2027-01-11T10:00"},
        headers=headers,
    )
    assert naive.status_code == 422
    reversed_ = check(client, headers, room.pk, MONDAY, MONDAY - timedelta(hours=1)).json()
    assert reversed_["allowed"] is False and reversed_["reasons"][0]["rule"] == "times"
    assert client.get(f"/api/v1/rooms/{room.pk}/check").status_code in (401, 422)
    assert check(client, {}, room.pk, MONDAY, MONDAY + timedelta(hours=1)).status_code == 401


def test_it_answers_why_in_the_booking_dialog(client, alice, room):
    group = Group.objects.create(name="Vorstand")
    Policy.objects.create(room=room, max_duration_minutes=30).bookers.add(group)
    client.force_login(alice)
    before = written_with_keys()
    response = post_booking(client, room, MONDAY.date(), start="09:00", end="10:00", action="check")
    assert response.status_code == 200
    page = text(response)
    assert "Das kann nicht gebucht werden, weil:" in page
    assert "Nur bestimmte Gruppen dürfen diesen Raum buchen" in page
    assert "höchstens 30 Minuten am Stück" in page
    assert written_with_keys() == before

    # Booking anyway: refused with the same reasons, nothing written.
    refused = post_booking(client, room, MONDAY.date(), start="09:00", end="10:00")
    assert refused.status_code == 403
    assert "höchstens 30 Minuten am Stück" in text(refused)
    assert written_with_keys() == before


def test_it_says_when_the_room_can_be_booked_and_that_it_needs_approval(client, alice, room):
    Policy.objects.create(room=room, requires_approval=True, requires_check_in=True)
    client.force_login(alice)
    page = text(post_booking(client, room, MONDAY.date(), action="check"))
    assert "Sie können diesen Raum zu dieser Zeit buchen." in page
    assert "Der Raum braucht eine Freigabe" in page
    assert "Check-in" in page

    booked = post_booking(client, room, MONDAY.date())
    assert booked.status_code == 302
    follow = client.get(booked["Location"])
    assert "wartet" in text(follow) or "Freigabe" in text(follow)
    assert Booking.objects.get().status == Booking.Status.PENDING


def test_it_shows_rooms_others_may_not_book_as_view_only_in_the_plan(client, alice, bob, room):
    group = Group.objects.create(name="Vorstand")
    alice.groups.add(group)
    Policy.objects.create(room=room, max_advance_days=365).bookers.add(group)
    other = factories.room(floor_obj=room.floor)
    url = f"/plan/?building={room.floor.building_id}&date={MONDAY.date().isoformat()}"

    client.force_login(bob)
    page = text(client.get(url))
    assert "nur ansehen" in page
    assert f"room={room.pk}&amp;" not in page  # no free stretch to click
    assert f"room={other.pk}&amp;" in page

    client.force_login(alice)
    page = text(client.get(url))
    assert "nur ansehen" not in page and f"room={room.pk}&amp;" in page


def test_it_offers_in_the_finder_only_rooms_the_person_can_book_then(client, alice, bob, fiona, room):
    group = Group.objects.create(name="Vorstand")
    alice.groups.add(group)
    board = factories.room(floor_obj=room.floor, name="Vorstandszimmer")
    Policy.objects.create(room=board, max_advance_days=365).bookers.add(group)
    closed = factories.room(floor_obj=room.floor, name="Baustelle")
    create_blocking(
        place=closed,
        start=MONDAY - timedelta(hours=1),
        end=MONDAY + timedelta(hours=8),
        reason="Renovierung",
        actor=fiona,
    )
    tidy = factories.room(floor_obj=room.floor, name="Nachbereitet")
    factories.booking(tidy, alice, MONDAY - timedelta(hours=1), buffer_after=timedelta(minutes=30))
    query = {
        "place": f"building-{room.floor.building_id}",
        "date": MONDAY.date().isoformat(),
        "start": "09:00",
        "end": "10:00",
    }

    client.force_login(bob)
    offered = {o.room.name for o in client.get("/", query).context["results"]}
    # Bob may not book the board room; the building site is closed; the last room is
    # still being cleaned up after the 08:00 meeting.
    assert offered == {room.name}

    client.force_login(alice)
    assert {o.room.name for o in client.get("/", query).context["results"]} == {room.name, "Vorstandszimmer"}


def test_it_shows_the_rules_on_the_room_page_and_who_may_book(client, alice, bob, room):
    group = Group.objects.create(name="Vorstand")
    alice.groups.add(group)
    policy = Policy.objects.create(
        room=room,
        max_advance_days=90,
        buffer_after_minutes=15,
        requires_approval=True,
        requires_check_in=True,
        check_in_grace_minutes=10,
    )
    policy.bookers.add(group)
    url = f"/rooms/{room.pk}/?week={MONDAY.date().isoformat()}"

    client.force_login(bob)
    page = text(client.get(url))
    assert "Regeln für diesen Raum" in page
    assert "Bis zu 90 Tage im Voraus." in page
    assert "15 Minuten zum Nachbereiten nach jeder Buchung." in page
    assert "Buchungen brauchen die Freigabe der Raumverantwortlichen." in page
    assert "Einchecken innerhalb von 10 Minuten nach Beginn, sonst wird die Buchung freigegeben." in page
    assert "Sie können ihn ansehen, aber nicht buchen." in page
    assert "Diesen Raum buchen" not in page and 'class="gap ' not in page

    client.force_login(alice)
    page = text(client.get(url))
    assert "Diesen Raum buchen" in page and 'class="gap ' in page
