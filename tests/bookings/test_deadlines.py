"""Every deadline holds at the moment of the action; the periodic jobs only tidy up.

Personas: alice requests or books, bob wants the same slot, maria manages the room.
No job runs in these tests: whatever is freed, the action itself freed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingEvent, Policy
from bookings.services.checkin import check_in_booking
from tests import factories


@pytest.fixture
def board_room(maria):
    """Requests expire after one hour without a decision."""
    room = factories.room(name="Vorstandszimmer")
    policy = Policy.objects.create(room=room, requires_approval=True, approval_timeout_hours=1)
    policy.managers.set(maria.groups.all())
    return room


@pytest.fixture
def day():
    return factories.days_ahead(3)


@pytest.fixture
def request_(alice, board_room, day):
    booking = services.create_booking(
        room=board_room,
        organizer=alice,
        title="Budget",
        start=factories.on(day, 10),
        end=factories.on(day, 11),
    )
    assert booking.status == Booking.Status.PENDING
    return booking


def kinds(booking) -> list[str]:
    return list(booking.events.order_by("pk").values_list("kind", flat=True))


@pytest.mark.django_db
def test_a_request_cannot_be_approved_a_second_after_its_deadline(request_, maria):
    with (
        time_machine.travel(request_.decision_due_at + timedelta(seconds=1), tick=False),
        pytest.raises(services.InvalidBooking, match="abgelaufen"),
    ):
        services.approve_booking(booking=request_, actor=maria)
    request_.refresh_from_db()
    assert request_.status == Booking.Status.REJECTED
    assert kinds(request_) == [BookingEvent.Kind.CREATED, BookingEvent.Kind.EXPIRED]


@pytest.mark.django_db
def test_a_request_can_still_be_approved_a_second_before_its_deadline(request_, maria):
    with time_machine.travel(request_.decision_due_at - timedelta(seconds=1), tick=False):
        services.approve_booking(booking=request_, actor=maria)
    request_.refresh_from_db()
    assert request_.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_a_late_rejection_records_the_expiry_not_the_rejection(request_, maria):
    with (
        time_machine.travel(request_.decision_due_at, tick=False),
        pytest.raises(services.InvalidBooking, match="abgelaufen"),
    ):
        services.reject_booking(booking=request_, actor=maria, reason="zu spät")
    assert kinds(request_) == [BookingEvent.Kind.CREATED, BookingEvent.Kind.EXPIRED]


@pytest.mark.django_db
def test_the_slot_of_an_undecided_request_is_free_the_moment_its_deadline_passes(
    request_, bob, client, token_for
):
    body = {
        "room": request_.room_id,
        "title": "Vertrieb",
        "start": request_.span.lower.isoformat(),
        "end": request_.span.upper.isoformat(),
    }
    with time_machine.travel(request_.decision_due_at - timedelta(seconds=1), tick=False):
        taken = client.post("/api/v1/bookings", body, content_type="application/json", headers=token_for(bob))
    assert taken.status_code == 409
    with time_machine.travel(request_.decision_due_at + timedelta(seconds=1), tick=False):
        free = client.post("/api/v1/bookings", body, content_type="application/json", headers=token_for(bob))
    assert free.status_code == 201, free.content
    request_.refresh_from_db()
    assert request_.status == Booking.Status.REJECTED
    assert kinds(request_)[-1] == BookingEvent.Kind.EXPIRED


@pytest.mark.django_db
def test_a_series_may_take_dates_whose_requests_expired(request_, bob, day):
    with time_machine.travel(request_.decision_due_at + timedelta(seconds=1), tick=False):
        result = services.create_series(
            room=request_.room,
            organizer=bob,
            title="Jour fixe",
            start=request_.span.lower,
            end=request_.span.upper,
            rrule="FREQ=DAILY;COUNT=2",
        )
    assert result.skipped == []
    assert len(result.created) == 2
    request_.refresh_from_db()
    assert request_.status == Booking.Status.REJECTED


@pytest.fixture
def check_in_room(db):
    room = factories.room(name="Spree")
    Policy.objects.create(room=room, requires_check_in=True, check_in_grace_minutes=10)
    return room


@pytest.mark.django_db
def test_a_no_show_gives_way_to_someone_at_the_door_as_soon_as_check_in_closes(
    check_in_room, alice, bob, day
):
    meeting = services.create_booking(
        room=check_in_room,
        organizer=alice,
        title="Planung",
        start=factories.on(day, 10),
        end=factories.on(day, 12),
    )
    with (
        time_machine.travel(meeting.check_in_deadline - timedelta(seconds=1), tick=False),
        pytest.raises(services.BookingConflict),
    ):
        services.create_booking(
            room=check_in_room,
            organizer=bob,
            title="Spontan",
            start=meeting.check_in_deadline,
            end=factories.on(day, 11),
        )
    with time_machine.travel(meeting.check_in_deadline + timedelta(seconds=1), tick=False):
        walk_in = services.create_booking(
            room=check_in_room,
            organizer=bob,
            title="Spontan",
            start=meeting.check_in_deadline + timedelta(seconds=1),
            end=factories.on(day, 11),
        )
    assert walk_in.status == Booking.Status.CONFIRMED
    meeting.refresh_from_db()
    assert meeting.status == Booking.Status.RELEASED
    assert meeting.span.upper == meeting.check_in_deadline
    assert kinds(meeting)[-1] == BookingEvent.Kind.RELEASED


@pytest.mark.django_db
def test_a_checked_in_meeting_keeps_its_room_after_the_deadline(check_in_room, alice, bob, day):
    meeting = services.create_booking(
        room=check_in_room,
        organizer=alice,
        title="Planung",
        start=factories.on(day, 10),
        end=factories.on(day, 12),
    )
    with time_machine.travel(meeting.span.lower, tick=False):
        check_in_booking(booking=meeting, actor=alice)
    with (
        time_machine.travel(meeting.check_in_deadline + timedelta(minutes=5), tick=False),
        pytest.raises(services.BookingConflict),
    ):
        services.create_booking(
            room=check_in_room,
            organizer=bob,
            title="Spontan",
            start=meeting.check_in_deadline + timedelta(minutes=5),
            end=factories.on(day, 11),
        )
    meeting.refresh_from_db()
    assert meeting.status == Booking.Status.CONFIRMED
