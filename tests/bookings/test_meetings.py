"""One meeting in several rooms: all rooms or none, moved together, each room with its own rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from bookings import services
from bookings.errors import BookingConflict, InvalidBooking, PolicyViolation
from bookings.models import (
    Booking,
    BookingEvent,
    BookingHold,
    Meeting,
    MeetingRoom,
    OutboxMessage,
    Policy,
    RoomPart,
)
from bookings.selectors.meetings import rooms_for_meeting
from bookings.services import meetings
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def haus_a(db):
    """Haus A in Berlin: three rooms for 8, one for 4, and a divisible hall (Saal 1 + Saal 2)."""
    floor = factories.floor(factories.building(factories.site("Berlin"), "Haus A"), "EG")
    rooms = {name: factories.room(floor, name, capacity=8) for name in ("Elbe", "Spree", "Havel")}
    rooms["Klein"] = factories.room(floor, "Klein", capacity=4)
    rooms["Saal 1"] = factories.room(floor, "Saal 1", capacity=40)
    rooms["Saal 2"] = factories.room(floor, "Saal 2", capacity=40)
    rooms["Saal 1+2"] = factories.room(floor, "Saal 1+2", capacity=80)
    for part in ("Saal 1", "Saal 2"):
        RoomPart.objects.create(combined=rooms["Saal 1+2"], part=rooms[part])
    return rooms


@pytest.fixture
def new_york(db):
    floor = factories.floor(factories.building(factories.site("New York", "America/New_York"), "Hudson"))
    return factories.room(floor, "Hudson 1", capacity=8)


@pytest.fixture
def managers(db):
    return Group.objects.create(name="Raumverwaltung")


@pytest.fixture
def maria(managers):
    user = factories.user("maria")
    user.groups.add(managers)
    return user


def needs_approval(room, managers):
    Policy.objects.create(room=room, requires_approval=True, approval_timeout_hours=24).managers.add(managers)
    return room


def meet(rooms, who, start, minutes=60, **extra):
    return meetings.create_meeting(
        rooms=rooms,
        organizer=who,
        title="Workshop",
        start=start,
        end=start + timedelta(minutes=minutes),
        **extra,
    )


def statuses(meeting):
    return {
        b.room.name: b.status
        for b in Booking.objects.filter(meeting_room__meeting=meeting).select_related("room")
    }


def test_it_books_every_room_for_the_same_time(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"], haus_a["Havel"]], alice, at(10))

    bookings = Booking.objects.filter(meeting_room__meeting=meeting)
    assert statuses(meeting) == {"Elbe": "confirmed", "Spree": "confirmed", "Havel": "confirmed"}
    assert {(b.span.lower, b.span.upper) for b in bookings} == {(at(10), at(11))}
    assert {b.organizer_id for b in bookings} == {alice.pk}
    message = OutboxMessage.objects.get(topic="meeting.created", channel="mail")
    assert sorted(b["id"] for b in message.payload["bookings"]) == sorted(b.pk for b in bookings)
    # One announcement for the meeting, none per room.
    assert not OutboxMessage.objects.filter(topic="booking.created").exists()


def test_it_books_nothing_when_one_room_is_taken(haus_a, alice, bob, at):
    taken = services.create_booking(
        room=haus_a["Spree"], organizer=bob, title="Jour fixe", start=at(10), end=at(11)
    )

    with pytest.raises(BookingConflict) as refused:
        meet([haus_a["Elbe"], haus_a["Spree"], haus_a["Havel"]], alice, at(10, 30))

    assert "Spree" in refused.value.message
    assert [c.pk for c in refused.value.conflicts] == [taken.pk]
    assert list(Booking.objects.values_list("pk", flat=True)) == [taken.pk]
    assert not Meeting.objects.exists()
    assert not OutboxMessage.objects.filter(topic__startswith="meeting.").exists()


def test_it_takes_a_combined_room_as_one_of_the_rooms(haus_a, alice, at):
    meeting = meet([haus_a["Saal 1+2"], haus_a["Elbe"]], alice, at(10))

    hall = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Saal 1+2"])
    assert set(BookingHold.objects.filter(booking=hall).values_list("room_id", flat=True)) == {
        haus_a["Saal 1"].pk,
        haus_a["Saal 2"].pk,
    }


def test_it_refuses_a_meeting_when_a_part_of_its_combined_room_is_taken(haus_a, alice, bob, at):
    services.create_booking(room=haus_a["Saal 2"], organizer=bob, title="Schulung", start=at(10), end=at(11))

    with pytest.raises(BookingConflict) as refused:
        meet([haus_a["Elbe"], haus_a["Saal 1+2"]], alice, at(10))

    assert "Saal 1+2" in refused.value.message
    assert not Booking.objects.filter(organizer=alice).exists()


def test_it_refuses_a_combined_room_together_with_its_part(haus_a, alice, at):
    with pytest.raises(InvalidBooking) as refused:
        meet([haus_a["Saal 1"], haus_a["Saal 1+2"]], alice, at(10))

    assert refused.value.field == "rooms"
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "rooms, field",
    [(["Elbe"], "rooms"), (["Elbe", "Elbe"], "rooms")],
)
def test_it_refuses_too_few_or_repeated_rooms(haus_a, alice, at, rooms, field):
    with pytest.raises(InvalidBooking) as refused:
        meet([haus_a[n] for n in rooms], alice, at(10))

    assert refused.value.field == field
    assert not Meeting.objects.exists()


def test_it_names_the_room_whose_rules_refuse(haus_a, alice, at):
    Policy.objects.create(room=haus_a["Havel"], max_duration_minutes=30)

    with pytest.raises(PolicyViolation) as refused:
        meet([haus_a["Elbe"], haus_a["Havel"]], alice, at(10))

    assert refused.value.message.startswith("Havel: ")
    assert not Booking.objects.exists()


def test_the_other_rooms_wait_for_an_approval_when_the_booker_chose_so(haus_a, managers, maria, alice, at):
    needs_approval(haus_a["Havel"], managers)
    meeting = meet([haus_a["Elbe"], haus_a["Havel"]], alice, at(10), approval="wait")

    assert statuses(meeting) == {"Elbe": "pending", "Havel": "pending"}
    # Only the room that needs approval is in the manager's queue.
    assert [b.room.name for b in services.approvals.pending_requests(maria)] == ["Havel"]

    havel = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Havel"])
    services.approve_booking(booking=havel, actor=maria)

    assert statuses(meeting) == {"Elbe": "confirmed", "Havel": "confirmed"}
    assert OutboxMessage.objects.filter(topic="meeting.confirmed", channel="mail").exists()


def test_a_refusal_lets_the_waiting_rooms_go(haus_a, managers, maria, alice, at):
    needs_approval(haus_a["Havel"], managers)
    meeting = meet([haus_a["Elbe"], haus_a["Spree"], haus_a["Havel"]], alice, at(10), approval="wait")
    havel = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Havel"])

    services.reject_booking(booking=havel, actor=maria, reason="Vorstand tagt")

    assert statuses(meeting) == {"Elbe": "cancelled", "Spree": "cancelled", "Havel": "rejected"}
    elbe = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Elbe"])
    assert "Havel" in elbe.events.get(kind=BookingEvent.Kind.CANCELLED).changes["reason"]


def test_the_other_rooms_go_ahead_when_the_booker_chose_so(haus_a, managers, maria, alice, at):
    needs_approval(haus_a["Havel"], managers)
    meeting = meet([haus_a["Elbe"], haus_a["Havel"]], alice, at(10), approval="go_ahead")

    assert statuses(meeting) == {"Elbe": "confirmed", "Havel": "pending"}
    havel = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Havel"])
    services.reject_booking(booking=havel, actor=maria)

    assert statuses(meeting) == {"Elbe": "confirmed", "Havel": "rejected"}


def test_withdrawing_the_request_confirms_the_rooms_that_waited(haus_a, managers, alice, at):
    needs_approval(haus_a["Havel"], managers)
    meeting = meet([haus_a["Elbe"], haus_a["Havel"]], alice, at(10), approval="wait")
    havel = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Havel"])

    services.cancel_booking(booking=havel, actor=alice)

    assert statuses(meeting) == {"Elbe": "confirmed", "Havel": "cancelled"}


def test_it_moves_every_room(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))

    meetings.move_meeting(meeting=meeting, actor=alice, start=at(14), end=at(15, 30))

    spans = {(b.span.lower, b.span.upper) for b in Booking.objects.filter(meeting_room__meeting=meeting)}
    assert spans == {(at(14), at(15, 30))}
    assert OutboxMessage.objects.filter(topic="meeting.updated", channel="mail").exists()


def test_it_moves_nothing_when_one_room_is_not_free_then(haus_a, alice, bob, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"], haus_a["Havel"]], alice, at(10))
    services.create_booking(room=haus_a["Havel"], organizer=bob, title="Jour fixe", start=at(14), end=at(15))

    with pytest.raises(BookingConflict) as refused:
        meetings.move_meeting(meeting=meeting, actor=alice, start=at(14), end=at(15))

    assert "Havel" in refused.value.message
    assert (
        refused.value.message
        == "Havel ist zur neuen Zeit nicht frei; kein Raum der Besprechung wurde verschoben."
    )
    spans = {
        (b.span.lower, b.span.upper, b.version) for b in Booking.objects.filter(meeting_room__meeting=meeting)
    }
    assert spans == {(at(10), at(11), 1)}
    assert not BookingEvent.objects.filter(kind=BookingEvent.Kind.UPDATED).exists()


def test_one_room_cannot_be_moved_on_its_own(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))
    elbe = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Elbe"])

    with pytest.raises(InvalidBooking) as refused:
        services.update_booking(booking=elbe, actor=alice, start=at(12), end=at(13))

    assert refused.value.field == "start"
    elbe.refresh_from_db()
    assert elbe.span.lower == at(10)


def test_cancelling_one_room_keeps_the_others(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))
    elbe = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a["Elbe"])

    services.cancel_booking(booking=elbe, actor=alice)

    assert statuses(meeting) == {"Elbe": "cancelled", "Spree": "confirmed"}


def test_cancelling_the_meeting_cancels_every_room(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))

    meetings.cancel_meeting(meeting=meeting, actor=alice)

    assert statuses(meeting) == {"Elbe": "cancelled", "Spree": "cancelled"}
    meeting.refresh_from_db()
    assert meeting.cancelled_at is not None


def test_only_the_organizer_moves_or_cancels(haus_a, alice, bob, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))

    with pytest.raises(services.NotAllowed):
        meetings.move_meeting(meeting=meeting, actor=bob, start=at(12), end=at(13))
    with pytest.raises(services.NotAllowed):
        meetings.cancel_meeting(meeting=meeting, actor=bob)
    assert statuses(meeting) == {"Elbe": "confirmed", "Spree": "confirmed"}


def test_a_stale_version_moves_nothing(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))
    version = meetings.sequence(meeting)
    services.update_booking(
        booking=Booking.objects.filter(meeting_room__meeting=meeting).first(), actor=alice, title="Neu"
    )

    with pytest.raises(services.StaleBooking):
        meetings.move_meeting(
            meeting=meeting, actor=alice, start=at(12), end=at(13), expected_version=version
        )


def test_it_spans_sites_in_their_own_zones(haus_a, new_york, alice, at):
    meeting = meet([haus_a["Elbe"], new_york], alice, at(16))

    ny = Booking.objects.get(meeting_room__meeting=meeting, room=new_york)
    assert ny.span.lower == at(16)
    assert (
        ny.span.lower.astimezone(new_york.floor.building.site.tz).hour
        == at(16).astimezone(new_york.floor.building.site.tz).hour
    )


def test_the_finder_finds_three_rooms_for_eight_people_each(haus_a, alice, at):
    site = haus_a["Elbe"].floor.building.site
    found = rooms_for_meeting(
        start=at(10),
        end=at(11),
        count=3,
        site_id=site.pk,
        building_id=haus_a["Elbe"].floor.building_id,
        people=8,
    )

    assert not found.short
    assert [r.name for r in found.rooms] == ["Elbe", "Havel", "Spree"]


def test_the_finder_never_offers_a_hall_and_its_part_together(haus_a, alice, bob, at):
    for name in ("Elbe", "Spree", "Havel"):
        services.create_booking(room=haus_a[name], organizer=bob, title="Belegt", start=at(10), end=at(11))
    site = haus_a["Elbe"].floor.building.site

    found = rooms_for_meeting(start=at(10), end=at(11), count=3, site_id=site.pk, people=8)

    assert [r.name for r in found.rooms] == ["Saal 1", "Saal 2"]
    assert found.short


def test_each_link_is_one_booking(haus_a, alice, at):
    meeting = meet([haus_a["Elbe"], haus_a["Spree"]], alice, at(10))

    assert MeetingRoom.objects.filter(meeting=meeting).count() == 2
    assert not MeetingRoom.objects.filter(meeting=meeting, waits=True).exists()


def test_the_demo_shows_a_workshop_and_a_meeting_between_sites(db):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # a second run adds nothing

    made = {m.title: m for m in Meeting.objects.all()}
    assert set(made) == {"Strategie-Workshop mit Gruppenräumen", "Videokonferenz Berlin – New York"}
    workshop = Booking.objects.filter(meeting_room__meeting=made["Strategie-Workshop mit Gruppenräumen"])
    assert workshop.count() == 3
    assert {b.room.floor.building.name for b in workshop} == {"Haus A"}
    call = Booking.objects.filter(meeting_room__meeting=made["Videokonferenz Berlin – New York"])
    assert {b.room.floor.building.site.time_zone for b in call} == {"Europe/Berlin", "America/New_York"}
