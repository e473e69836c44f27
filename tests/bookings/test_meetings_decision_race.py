"""Decisions and a move on the rooms of one meeting at the same instant, through real gunicorn.

Each of them locks the meeting and its rooms in one order (services.meeting_locks.lock_meetings_of),
so they take turns: no deadlock (which PostgreSQL would end by rolling one back, a 503), and
the meeting ends in one consistent state.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from bookings.models import Booking, Meeting, Policy
from bookings.services import meetings
from tests import factories
from tests.helpers import bearer, send_all

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MEETINGS = 4  # each with three clients at once: approve or reject Elbe, approve Havel, move it


@pytest.fixture
def house(transactional_db):
    floor = factories.floor(factories.building(factories.site("Berlin"), "Haus A"))
    managers = Group.objects.create(name="Raumverwaltung")
    maria = factories.user("maria")
    maria.groups.add(managers)
    rooms = {}
    for i in range(MEETINGS):
        for name in ("Elbe", "Havel", "Spree"):
            rooms[name, i] = factories.room(floor, f"{name} {i}", capacity=8)
        for name in ("Elbe", "Havel"):
            policy = Policy.objects.create(
                room=rooms[name, i], requires_approval=True, approval_timeout_hours=24
            )
            policy.managers.add(managers)
    return {"rooms": rooms, "maria": maria}


def _race(gunicorn_server, house, alice, first_decision: str, *, give_back_havel: bool = False):
    start = factories.on(factories.days_ahead(3), 10)
    moved = start + timedelta(hours=4)
    maria, rooms = house["maria"], house["rooms"]
    calls, all_meetings = [], []
    for i in range(MEETINGS):
        meeting = meetings.create_meeting(
            rooms=[rooms["Elbe", i], rooms["Havel", i], rooms["Spree", i]],
            organizer=alice,
            title=f"Workshop {i}",
            start=start,
            end=start + timedelta(hours=1),
            approval=Meeting.Approval.WAIT,
        )
        all_meetings.append(meeting)
        elbe, havel = (
            Booking.objects.get(meeting_room__meeting=meeting, room=rooms[name, i])
            for name in ("Elbe", "Havel")
        )
        calls += [
            ("POST", f"/api/v1/bookings/{elbe.pk}/{first_decision}", bearer(maria, name="race"), {}),
            # The organizer gives Havel back (cancel_booking) instead of its manager deciding it.
            ("DELETE", f"/api/v1/bookings/{havel.pk}", bearer(alice, name="race"), None)
            if give_back_havel
            else ("POST", f"/api/v1/bookings/{havel.pk}/approve", bearer(maria, name="race"), None),
            (
                "PATCH",
                f"/api/v1/meetings/{meeting.pk}",
                bearer(alice, name="race"),
                {"start": moved.isoformat(), "end": (moved + timedelta(hours=1)).isoformat()},
            ),
        ]

    responses = send_all(gunicorn_server, calls)
    return all_meetings, responses, moved


def _state(meeting):
    return {
        b.room.name.split()[0]: b.status
        for b in Booking.objects.filter(meeting_room__meeting=meeting).select_related("room")
    }


def test_two_approvals_and_a_move_take_turns(gunicorn_server, house, alice):
    all_meetings, responses, moved = _race(gunicorn_server, house, alice, "approve")

    assert Counter(r.status_code for r in responses) == {200: 3 * MEETINGS}, [r.text for r in responses]
    for meeting in all_meetings:
        # Both requests approved, so the room that waited for them is confirmed too; all moved.
        assert _state(meeting) == {"Elbe": "confirmed", "Havel": "confirmed", "Spree": "confirmed"}
        spans = set(Booking.objects.filter(meeting_room__meeting=meeting).values_list("span", flat=True))
        assert {s.lower for s in spans} == {moved}


def test_a_refusal_an_approval_and_a_move_take_turns(gunicorn_server, house, alice):
    all_meetings, responses, _moved = _race(gunicorn_server, house, alice, "reject")

    statuses = Counter(r.status_code for r in responses)
    assert 503 not in statuses and 500 not in statuses, [r.text for r in responses]
    triples = [responses[i : i + 3] for i in range(0, len(responses), 3)]
    for meeting, (reject, approve, move) in zip(all_meetings, triples, strict=True):
        assert reject.status_code == 200, reject.text
        state = _state(meeting)
        # All rooms or none: the refusal lets the meeting go, whichever came first.
        assert state["Elbe"] == "rejected"
        assert state["Spree"] == "cancelled"
        # Approved before the refusal and then let go with it (200), or already let go (422).
        assert approve.status_code in (200, 422), approve.text
        assert state["Havel"] == "cancelled"
        # A move after the refusal finds no room left; before it, it moved them all.
        assert move.status_code in (200, 422), move.text
        spans = {
            s.lower
            for s in Booking.objects.filter(meeting_room__meeting=meeting).values_list("span", flat=True)
        }
        assert len(spans) == 1


def test_an_approval_a_room_given_back_and_a_move_take_turns(gunicorn_server, house, alice):
    all_meetings, responses, moved = _race(gunicorn_server, house, alice, "approve", give_back_havel=True)

    statuses = Counter(r.status_code for r in responses)
    assert 503 not in statuses and 500 not in statuses, [r.text for r in responses]
    triples = [responses[i : i + 3] for i in range(0, len(responses), 3)]
    for meeting, (approve, give_back, move) in zip(all_meetings, triples, strict=True):
        assert [r.status_code for r in (approve, give_back, move)] == [200, 200, 200], [
            r.text for r in (approve, give_back, move)
        ]
        # Elbe approved and Havel given back: no room waits any more, so Spree is confirmed.
        assert _state(meeting) == {"Elbe": "confirmed", "Havel": "cancelled", "Spree": "confirmed"}
        active = Booking.objects.filter(meeting_room__meeting=meeting, status=Booking.Status.CONFIRMED)
        assert {s.lower for s in active.values_list("span", flat=True)} == {moved}
