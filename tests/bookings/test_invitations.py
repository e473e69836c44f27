"""Invitations to attendees: a real SMTP server (aiosmtpd) receives them, read as a mail program would.

Alice organizes; bob is a colleague from the directory, "gast@partner.example" an outside guest.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from bookings import services
from bookings.models import Booking, Policy
from tests import factories
from tests.bookings import test_notifications as mailtest
from tests.bookings.test_notifications import book, calendars, deliver_mail, events, subject, thursday

# The real SMTP server and the frozen Monday of the mail tests.
smtp_server, inbox, monday = mailtest.smtp_server, mailtest.inbox, mailtest.monday

GUEST = "gast@partner.example"


@pytest.fixture
def place(db):
    building = factories.building(name="Haus A")
    building.address = "Hauptstraße 1, 10115 Berlin"
    building.save()
    return factories.room(factories.floor(building, name="EG"), name="Spree")


def only_event(mail):
    ((method, cal),) = calendars(mail)
    (event,) = events(cal)
    return method, event


def test_it_invites_colleagues_and_guests_with_the_room_and_its_address(inbox, monday, place, alice, bob):
    booking = book(place, alice, attendees=["bob", GUEST, "Frau Ohnemail"], invite_attendees=True)
    assert all(deliver_mail())

    (to_bob,) = inbox.to("bob@example.com")
    (to_guest,) = inbox.to(GUEST)
    assert subject(to_bob) == "Einladung: Planung Q1, Donnerstag, 26. November 2026, 10:00–11:00"
    assert "alice lädt Sie zu diesem Termin ein" in to_guest.get_body().get_content()
    method, event = only_event(to_guest)
    assert method == "REQUEST"
    assert str(event["uid"]).startswith(f"booking-{booking.pk}@")
    assert event["sequence"] == 1
    assert str(event["location"]) == "Spree, Haus A, Hauptstraße 1, 10115 Berlin"
    assert str(event["attendee"]) == f"mailto:{GUEST}"
    # The organizer gets their own mail, not an invitation; nobody else is mailed.
    assert sorted(m["To"] for m in inbox.mails()) == sorted(["alice@example.com", "bob@example.com", GUEST])


def test_it_sends_updates_with_a_rising_sequence_and_cancels_for_a_removed_attendee(
    inbox, monday, place, alice, bob
):
    booking = book(place, alice, attendees=["bob", GUEST], invite_attendees=True)
    deliver_mail()
    inbox.envelopes.clear()

    services.update_booking(booking=booking, actor=alice, end=thursday(12), attendees=[GUEST])
    deliver_mail()

    (update,) = inbox.to(GUEST)
    method, event = only_event(update)
    assert (method, event["sequence"]) == ("REQUEST", 2)
    (removed,) = inbox.to("bob@example.com")
    method, event = only_event(removed)
    assert (method, str(event["status"]), event["sequence"]) == ("CANCEL", "CANCELLED", 2)


def test_it_cancels_for_every_attendee_when_the_booking_is_cancelled(inbox, monday, place, alice, bob):
    booking = book(place, alice, attendees=["bob", GUEST], invite_attendees=True)
    deliver_mail()
    inbox.envelopes.clear()

    services.cancel_booking(booking=booking, actor=alice)
    deliver_mail()

    for address in ("bob@example.com", GUEST):
        (mail,) = inbox.to(address)
        assert subject(mail).startswith("Storniert: Planung Q1")
        method, event = only_event(mail)
        assert (method, event["sequence"]) == ("CANCEL", 2)


def test_it_mails_no_attendee_unless_the_organizer_asks(inbox, monday, place, alice, bob):
    book(place, alice, attendees=["bob", GUEST])
    deliver_mail()

    assert [m["To"] for m in inbox.mails()] == ["alice@example.com"]


def test_it_invites_only_once_a_request_is_approved(inbox, monday, place, alice, bob):
    Policy.objects.create(room=place, requires_approval=True)
    booking = book(place, alice, attendees=[GUEST], invite_attendees=True)
    assert booking.status == Booking.Status.PENDING
    deliver_mail()
    assert inbox.to(GUEST) == []

    fiona = factories.user("fiona-admin", is_superuser=True)
    services.approve_booking(booking=booking, actor=fiona)
    deliver_mail()

    (mail,) = inbox.to(GUEST)
    assert only_event(mail)[0] == "REQUEST"


# --- the people picker's search and My bookings ------------------------------------------


def test_it_finds_people_by_name_for_the_picker(client, alice, bob):
    bob.first_name, bob.last_name = "Bob", "Baumann"
    bob.save()
    client.force_login(alice)

    found = client.get("/people/", {"q": "baum bo"}).json()["people"]

    assert found == [{"name": "Bob Baumann", "username": "bob", "email": "bob@example.com"}]
    assert client.get("/people/", {"q": "b"}).json() == {"people": []}  # too short
    assert client.get("/people/", {"q": "x" * 101}).json() == {"people": []}
    assert client.get("/people/", {"q": "a\x00b"}).status_code == 200


def test_it_hides_the_directory_from_anonymous_visitors(client, bob):
    response = client.get("/people/", {"q": "bob"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_lists_the_bookings_a_person_is_invited_to(client, room, at, alice, bob):
    services.create_booking(
        room=room, organizer=alice, title="Planung", start=at(9), end=at(10), attendees=["bob@example.com"]
    )
    client.force_login(bob)

    page = client.get("/my/").content.decode()

    assert 'id="attending-heading"' in page
    assert "Planung" in page
    assert "organisiert von alice" in page


def test_it_seeds_an_invitation_for_the_demo(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    (booking,) = Booking.objects.filter(attendees__contains=["demo@example.com"])
    assert booking.invite_attendees
    client.force_login(User.objects.get(username="demo"))
    assert f'id="attending-{booking.pk}"' in client.get("/my/").content.decode()


def test_it_invites_to_every_date_of_a_series_and_cancels_them_together(inbox, monday, place, alice, bob):
    result = services.create_series(
        room=place,
        organizer=alice,
        title="Jour fixe",
        start=thursday(10),
        end=thursday(11),
        rrule="FREQ=WEEKLY;COUNT=3",
        attendees=[GUEST],
        invite_attendees=True,
    )
    deliver_mail()

    (invitation,) = inbox.to(GUEST)
    assert subject(invitation) == "Einladung: Jour fixe (3 Termine)"
    ((method, cal),) = calendars(invitation)
    assert method == "REQUEST"
    assert len(events(cal)) == 3
    inbox.envelopes.clear()

    services.cancel_series(series=result.series, actor=alice)
    deliver_mail()

    (cancellation,) = inbox.to(GUEST)
    ((method, cal),) = calendars(cancellation)
    assert method == "CANCEL"
    assert {str(e["status"]) for e in events(cal)} == {"CANCELLED"}
    assert len(events(cal)) == 3
