"""Only EWS: impersonation or delegate access, a create key instead of transactionId, a 401.

The shared scenarios (both directions, conflicts, recurring meetings, faults) run against
the EWS double in test_exchange_sync.py; these are the EWS-only ones.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bookings import services
from integrations.exchange.adapter import calendar
from integrations.exchange.models import EventLink
from integrations.exchange.sync import draft_for

from .exchange_fixtures import MAILBOX, deliver, inbound, later


def test_it_opens_the_room_mailbox_by_impersonation(ews, spree, alice):
    start = later()
    services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    deliver()
    inbound(spree)
    assert {"GetFolder", "FindItem", "CreateItem", "SyncFolderItems"} <= set(ews.soap)
    assert set(ews.impersonated) == {MAILBOX}  # every request names the room it acts as


def test_it_opens_the_room_mailbox_as_a_delegate(ews, spree, alice, settings):
    settings.RFR_EXCHANGE = replace(settings.RFR_EXCHANGE, ews_access="delegate")
    start = later()
    services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]
    event_id = ews.book(MAILBOX, "Vertrieb", start + timedelta(hours=2), start + timedelta(hours=3))
    assert inbound(spree).applied == {"echo": 1, "booked": 1}
    assert set(ews.impersonated) == {""}  # no impersonation header: the folder names the mailbox
    assert ews.answer(event_id) == "accept"
    assert sorted(e["subject"] for e in ews.events(MAILBOX)) == ["Planung", "Vertrieb"]


def test_a_retried_create_finds_the_event_it_made(ews, spree, alice):
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    cal = calendar()
    first = cal.create(MAILBOX, draft_for(booking), key="rfr-1-1")
    again = cal.create(MAILBOX, draft_for(booking), key="rfr-1-1")  # the answer to the first was lost
    assert again == first
    assert len(ews.events(MAILBOX)) == 1


def test_it_refuses_wrong_service_account_credentials_permanently(ews, spree, alice, settings):
    settings.RFR_EXCHANGE = replace(settings.RFR_EXCHANGE, ews_password="falsch")
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]  # recorded, not retried for ever
    assert ews.events(MAILBOX) == []
    link = EventLink.objects.get(booking=booking)
    assert link.failed_permanently
    assert link.last_error == "Exchange hat Benutzername oder Kennwort des Dienstkontos abgelehnt."
    assert ews.soap == []  # refused at the door, and not asked again
