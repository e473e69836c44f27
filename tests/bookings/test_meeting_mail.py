"""Mail about a meeting in several rooms, read from a real SMTP server: one mail, every location,
each room at its own site's time, and one calendar entry that later changes update."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from bookings import services
from bookings.models import Booking, Policy
from bookings.services import meetings
from tests import factories
from tests.bookings import test_notifications as mailbox
from tests.bookings.test_notifications import calendars, deliver_mail, events, subject, thursday

# The real SMTP server and the frozen Monday of the mail tests.
smtp_server, inbox, monday = mailbox.smtp_server, mailbox.inbox, mailbox.monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(db):
    berlin = factories.room(
        factories.floor(factories.building(factories.site("Berlin"), "Haus A")), "Elbe", capacity=8
    )
    ny_building = factories.building(factories.site("New York", "America/New_York"), "Hudson Yards")
    ny_building.address = "500 W 33rd St, New York"
    ny_building.save()
    new_york = factories.room(factories.floor(ny_building), "Hudson 1", capacity=8)
    return berlin, new_york


def test_one_mail_names_every_room_at_its_local_time(inbox, monday, two_sites, alice):
    berlin, new_york = two_sites
    meetings.create_meeting(
        rooms=[berlin, new_york], organizer=alice, title="Standort-Call", start=thursday(15), end=thursday(16)
    )

    assert deliver_mail() == [True]
    [mail] = inbox.to("alice@example.com")
    text = mail.get_body(("plain",)).get_content()
    assert "Elbe, Haus A: Donnerstag, 26. November 2026, 15:00–16:00" in text
    assert "Hudson 1, Hudson Yards: Donnerstag, 26. November 2026, 09:00–10:00 (America/New_York)" in text
    assert subject(mail).startswith("Besprechung in 2 Räumen gebucht: Standort-Call")
    [(method, cal)] = calendars(mail)
    [event] = events(cal)
    assert method == "REQUEST"
    assert str(event["location"]) == "Elbe, Haus A; Hudson 1, Hudson Yards"
    assert str(event["uid"]).startswith("meeting-")
    assert event["sequence"] == 2


def test_a_move_updates_the_same_entry_with_a_higher_sequence(inbox, monday, two_sites, alice):
    berlin, new_york = two_sites
    meeting = meetings.create_meeting(
        rooms=[berlin, new_york], organizer=alice, title="Standort-Call", start=thursday(15), end=thursday(16)
    )
    deliver_mail()
    meetings.move_meeting(meeting=meeting, actor=alice, start=thursday(16), end=thursday(17))
    deliver_mail()

    first, moved = inbox.to("alice@example.com")
    [(_m, old)] = calendars(first)
    [(_m, new)] = calendars(moved)
    assert events(new)[0]["uid"] == events(old)[0]["uid"]
    assert events(new)[0]["sequence"] > events(old)[0]["sequence"]
    assert "10:00–11:00 (America/New_York)" in moved.get_body(("plain",)).get_content()


def test_invited_attendees_get_every_room_with_its_address(inbox, monday, two_sites, alice):
    berlin, new_york = two_sites
    meetings.create_meeting(
        rooms=[berlin, new_york],
        organizer=alice,
        title="Standort-Call",
        start=thursday(15),
        end=thursday(16),
        attendees=["gast@partner.example"],
        invite_attendees=True,
    )
    deliver_mail()

    [mail] = inbox.to("gast@partner.example")
    text = mail.get_body(("plain",)).get_content()
    assert "500 W 33rd St, New York" in text
    assert "Elbe, Haus A" in text
    [(method, cal)] = calendars(mail)
    assert method == "REQUEST"
    assert "Hudson 1" in str(events(cal)[0]["location"])


def test_cancelling_the_meeting_cancels_the_entry(inbox, monday, two_sites, alice):
    berlin, new_york = two_sites
    meeting = meetings.create_meeting(
        rooms=[berlin, new_york], organizer=alice, title="Standort-Call", start=thursday(15), end=thursday(16)
    )
    deliver_mail()
    meetings.cancel_meeting(meeting=meeting, actor=alice)
    deliver_mail()

    cancelled = inbox.to("alice@example.com")[-1]
    [(method, cal)] = calendars(cancelled)
    assert method == "CANCEL"
    assert str(events(cal)[0]["status"]) == "CANCELLED"


def test_the_manager_of_the_room_that_needs_approval_is_asked(inbox, monday, two_sites, alice):
    berlin, new_york = two_sites
    managers = Group.objects.create(name="Raumverwaltung")
    maria = factories.user("maria")
    maria.groups.add(managers)
    Policy.objects.create(room=new_york, requires_approval=True).managers.add(managers)

    meetings.create_meeting(
        rooms=[berlin, new_york], organizer=alice, title="Standort-Call", start=thursday(15), end=thursday(16)
    )
    deliver_mail()

    [request] = inbox.to("maria@example.com")
    assert "Hudson 1" in subject(request)
    text = inbox.to("alice@example.com")[0].get_body(("plain",)).get_content()
    assert "wartet auf die Freigabe eines anderen Raums" in text
    assert Booking.objects.filter(status="pending").count() == 2


def test_giving_one_room_back_updates_the_meetings_entry(inbox, monday, two_sites, alice):
    berlin, new_york = two_sites
    meeting = meetings.create_meeting(
        rooms=[berlin, new_york], organizer=alice, title="Standort-Call", start=thursday(15), end=thursday(16)
    )
    deliver_mail()
    [(_m, first)] = calendars(inbox.to("alice@example.com")[0])

    services.cancel_booking(
        booking=Booking.objects.get(meeting_room__meeting=meeting, room=new_york), actor=alice
    )
    deliver_mail()

    given_back = inbox.to("alice@example.com")[-1]
    assert "Hudson 1" in given_back.get_body(("plain",)).get_content()
    [(method, cal)] = calendars(given_back)
    [event] = events(cal)
    assert method == "REQUEST"
    assert event["uid"] == events(first)[0]["uid"]
    assert event["sequence"] > events(first)[0]["sequence"]
    assert str(event["location"]) == "Elbe, Haus A"
