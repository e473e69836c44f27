"""Mail to visitors and hosts, read off a real SMTP server as a mail program would."""

from __future__ import annotations

import email
import email.policy

import icalendar
import pytest

from bookings import services as booking_services
from tests.visitors.conftest import GUEST, GUEST_EN, deliver, thursday
from visitors import services

pytestmark = pytest.mark.django_db


def mails(inbox, address):
    return [
        email.message_from_bytes(e.content, policy=email.policy.default)
        for e in inbox.envelopes
        if address in e.rcpt_tos
    ]


def body(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def ics(mail) -> tuple[str, icalendar.Event]:
    part = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")[0]


def test_it_invites_each_visitor_in_their_language_with_a_calendar_entry(
    inbox, monday, room, alice, reception
):
    alice.first_name, alice.last_name = "Alice", "Albers"
    alice.save()
    booking = booking_services.create_booking(
        room=room, organizer=alice, title="Geheim", start=thursday(10), end=thursday(11)
    )
    services.register_visit(host=alice, booking=booking, visitors=[GUEST, GUEST_EN])
    assert all(deliver())
    [de] = mails(inbox, "eva@kunde.example")
    [en] = mails(inbox, "john@client.example")
    assert str(de["Subject"]).strip().startswith("Einladung: Ihr Besuch bei Alice Albers, Donnerstag")
    assert str(en["Subject"]).strip().startswith("Invitation: your visit to Alice Albers, Thursday")
    assert "Haupteingang, Empfang im Erdgeschoss" in body(de)
    assert "Geheim" not in body(de) + str(de["Subject"])
    method, event = ics(en)
    assert method == "REQUEST"
    assert event.decoded("dtstart") == thursday(10)
    assert str(event["location"]).startswith(room.floor.building.name)


def test_it_sends_an_update_and_a_cancellation_for_the_same_entry(inbox, monday, room, alice):
    booking = booking_services.create_booking(
        room=room, organizer=alice, title="T", start=thursday(10), end=thursday(11)
    )
    services.register_visit(host=alice, booking=booking, visitors=[GUEST_EN])
    deliver()
    booking_services.update_booking(booking=booking, actor=alice, start=thursday(13), end=thursday(14))
    deliver()
    booking.refresh_from_db()
    booking_services.cancel_booking(booking=booking, actor=alice)
    deliver()
    sent = mails(inbox, "john@client.example")
    assert [str(m["Subject"]).strip().split(":")[0] for m in sent] == ["Invitation", "Changed", "Cancelled"]
    entries = [ics(m) for m in sent]
    assert [m for m, _e in entries] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(e["uid"]) for _m, e in entries}) == 1
    assert [int(e["sequence"]) for _m, e in entries] == [1, 2, 3]
    assert entries[1][1].decoded("dtstart") == thursday(13)


def test_it_tells_the_host_when_the_visitor_arrives_and_leaves(inbox, monday, building, alice, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    deliver()
    visitor = visit.visitors.get()
    monday.move_to(thursday(8, 57))
    services.check_in_visitor(visitor=visitor, actor=rita)
    services.check_out_visitor(visitor=visitor, actor=rita)
    deliver()
    subjects = [str(m["Subject"]).strip() for m in mails(inbox, "alice@example.com")]
    assert subjects == [
        "Ihr Besuch ist eingetroffen: Dr. Eva Gast",
        "Ihr Besuch ist gegangen: Dr. Eva Gast",
    ]
    assert "08:57" in body(mails(inbox, "alice@example.com")[0])
