"""Erasing one person on request (Art. 17): petra erases alice; bob's data stays as it was,
and alice's meetings stay in the rooms' history as the former employee's."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction

from bookings.models import Booking, BookingEvent, CalendarFeed, Series
from orders.models import Order
from privacy.erasure import PLACEHOLDER_NAME, erase_person
from privacy.models import PrivacyEvent
from tests import factories
from tests.helpers import text
from tests.privacy.conftest import MONDAY
from tests.visitors.conftest import GUEST_EN
from visitors import services as visitor_services
from visitors.models import Visit, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def history(alice, bob, room, alices_world, monday):
    """A week ago: alice's meeting with a visitor; bob's meeting that alice attends."""
    monday.move_to(MONDAY - timedelta(days=8))
    last_week = MONDAY - timedelta(days=7)
    past = factories.booking(room, alice, last_week, title="Review Q3", attendees=["bob@example.com"])
    visitor_services.register_visit(host=alice, booking=past, visitors=[GUEST_EN])
    attendees = ["alice@example.com", "carl@x.de"]
    later = last_week + timedelta(hours=3)
    bobs = factories.booking(room, bob, later, title="Bobs Runde", attendees=attendees)
    monday.move_to(MONDAY)
    return {**alices_world, "past": past, "bobs_with_alice": bobs}


def _erase(client, petra, person, confirm=None):
    client.force_login(petra)
    return client.post(f"/privacy/people/{person.pk}/erase/", {"confirm": confirm or person.username})


def test_it_erases_alice_and_keeps_her_meetings_as_the_former_employees(client, petra, alice, history):
    response = _erase(client, petra, alice)
    assert response.status_code == 302
    future, past = Booking.objects.get(pk=history["booking"].pk), Booking.objects.get(pk=history["past"].pk)
    assert future.status == "cancelled" and past.status == "confirmed"
    for booking, before in ((future, history["booking"]), (past, history["past"])):
        assert (booking.title, booking.attendees) == ("", [])
        assert booking.organizer.get_full_name() == PLACEHOLDER_NAME
        # The room's occupancy is what stays: same room, same time.
        assert (booking.room_id, booking.span) == (before.room_id, before.span)
    alice.refresh_from_db()
    assert alice.username == f"erased-{alice.pk}" and alice.email == "" and not alice.is_active
    assert not client.login(username="alice", password="alice-pw-123")
    assert Series.objects.get().title == "" and Series.objects.get().cancelled_at is not None
    assert CalendarFeed.objects.get().revoked_at is not None


def test_it_keeps_bobs_data_and_removes_only_alices_address(client, petra, alice, bob, history):
    _erase(client, petra, alice)
    bobs = Booking.objects.get(pk=history["theirs"].pk)
    assert (bobs.title, bobs.organizer_id, bobs.status) == ("Bobs Geheimprojekt", bob.pk, "confirmed")
    with_alice = Booking.objects.get(pk=history["bobs_with_alice"].pk)
    assert (with_alice.title, with_alice.attendees) == ("Bobs Runde", ["carl@x.de"])
    bob.refresh_from_db()
    assert (bob.username, bob.email, bob.is_active) == ("bob", "bob@example.com", True)


def test_it_keeps_order_amounts_and_erases_past_visitors(client, petra, alice, history):
    _erase(client, petra, alice)
    order = Order.objects.get()
    assert str(order.amount) == "9.40" and order.ordered_by.get_full_name() == PLACEHOLDER_NAME
    past_visitor = Visitor.objects.get(visit__booking=history["past"])
    assert past_visitor.name == "" and past_visitor.anonymised_at is not None
    assert Visit.objects.get(pk=history["visit"].pk).is_cancelled
    assert not Visit.objects.filter(host=alice).exists()


def test_it_writes_the_erasure_into_the_audit_logs_without_names(client, petra, alice, history):
    _erase(client, petra, alice)
    event = PrivacyEvent.objects.get(kind="erased")
    assert (event.subject_id, event.actor_id) == (alice.pk, petra.pk)
    assert event.changes["bookings_pseudonymised"] == 2 and event.changes["bookings_cancelled"] == 1
    assert event.changes["attendee_entries_removed"] == 1
    assert "alice" not in str(event.changes)
    assert BookingEvent.objects.filter(booking=history["past"], changes={"erased": "organizer"}).exists()
    attendee_entry = {"booking": history["bobs_with_alice"], "changes": {"erased": "attendee"}}
    assert BookingEvent.objects.filter(**attendee_entry).exists()


def test_it_asks_for_the_user_name_to_confirm(client, petra, alice, history):
    response = _erase(client, petra, alice, confirm="alise")
    assert response.status_code == 422
    assert "Bitte geben Sie den Benutzernamen zur Bestätigung ein." in text(response)
    alice.refresh_from_db()
    assert alice.is_active and Booking.objects.get(pk=history["past"].pk).title == "Review Q3"


def test_a_colleague_cannot_erase_anyone(client, bob, alice, history):
    client.force_login(bob)
    assert client.get(f"/privacy/people/{alice.pk}/erase/").status_code == 403
    assert client.post(f"/privacy/people/{alice.pk}/erase/", {"confirm": "alice"}).status_code == 403
    assert User_active(alice)


def test_an_admin_cannot_erase_herself(client, petra):
    response = _erase(client, petra, petra)
    assert response.status_code == 422
    assert User_active(petra)


def test_the_page_says_what_stays_in_both_languages(client, petra, alice):
    client.force_login(petra)
    assert "ehemalige/r Mitarbeiter/in" in text(client.get(f"/privacy/people/{alice.pk}/erase/"))
    english = text(client.get(f"/privacy/people/{alice.pk}/erase/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "What stays" in english


def test_erasing_twice_changes_nothing_more(petra, alice, history):
    erase_person(person=alice, actor=petra, now=MONDAY)
    again = erase_person(person=alice, actor=petra, now=MONDAY)
    assert again.bookings_pseudonymised == 0 and again.bookings_cancelled == 0
    assert Booking.objects.get(pk=history["theirs"].pk).title == "Bobs Geheimprojekt"


def User_active(user) -> bool:
    user.refresh_from_db()
    return user.is_active


def test_it_empties_earlier_audit_details_of_her_meetings_and_keeps_who_did_what(
    client, petra, alice, history
):
    renamed = BookingEvent.objects.create(
        booking=history["past"],
        kind="updated",
        actor=alice,
        at=MONDAY - timedelta(days=8),
        changes={"title": ["Review Q2", "Review Q3"]},
    )
    bobs = BookingEvent.objects.create(
        booking=history["bobs_with_alice"],
        kind="updated",
        actor=alice,
        at=MONDAY - timedelta(days=8),
        changes={"title": ["Runde", "Bobs Runde"]},
    )

    assert _erase(client, petra, alice).status_code == 302

    renamed.refresh_from_db()
    bobs.refresh_from_db()
    assert renamed.changes == {} and (renamed.kind, renamed.actor_id) == ("updated", alice.pk)
    assert bobs.changes == {"title": ["Runde", "Bobs Runde"]}  # bob's meeting keeps its log
    # Anything else on the log stays refused.
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        BookingEvent.objects.filter(pk=bobs.pk).update(changes={})
