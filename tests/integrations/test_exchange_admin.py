"""Running the sync by hand and watching it: sync_exchange and the admin's health view."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bookings import services
from bookings.models import Booking
from integrations.exchange.models import RoomSync
from integrations.exchange.tasks import sync_exchange_task

from .ews_double import EwsDouble
from .exchange_fixtures import MAILBOX, later


def sync(*args) -> str:
    out = StringIO()
    call_command("sync_exchange", *args, stdout=out)
    return out.getvalue()


def test_it_syncs_by_hand_with_a_line_per_room(exchange, spree, alice):
    start = later()
    exchange.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    later_start = start + timedelta(hours=2)
    services.create_booking(
        room=spree, organizer=alice, title="Planung", start=later_start, end=later_start + timedelta(hours=1)
    )
    out = sync("--room", str(spree.pk))
    assert out.strip() == f"[1/1] {spree.pk} {spree} <{MAILBOX}>: ok (booked 1, echo 1)"
    assert sorted(e["subject"] for e in exchange.events(MAILBOX)) == ["Planung", "Vertrieb"]
    assert Booking.objects.filter(room=spree, source="exchange").count() == 1


def test_it_exits_non_zero_when_a_room_could_not_be_synced(exchange, spree):
    exchange.forbidden.add(MAILBOX)
    with pytest.raises(CommandError, match="1 of 1 rooms could not be synced"):
        call_command("sync_exchange", stdout=StringIO())
    assert RoomSync.objects.get(room=spree).last_error == "Das Dienstkonto darf dieses Postfach nicht öffnen."


def test_it_says_so_when_the_sync_is_off(spree, settings):
    settings.RFR_EXCHANGE = None
    with pytest.raises(CommandError, match="RFR_EXCHANGE_BACKEND"):
        call_command("sync_exchange", stdout=StringIO())


def test_it_shows_each_rooms_health_to_the_admin(exchange, spree, admin_client):
    sync("--full")
    page = admin_client.get("/admin/exchange/roomsync/").content.decode()
    assert MAILBOX in page
    assert "in beide Richtungen abgeglichen" in page
    assert "gesund" in page
    if isinstance(exchange, EwsDouble):
        assert f"Exchange Server (EWS) unter {exchange.url}" in page
    else:
        assert "Exchange Online (Microsoft Graph)" in page


def test_it_shows_the_sync_as_not_configured_when_it_is_off(spree, admin_client, settings):
    settings.RFR_EXCHANGE = None
    page = admin_client.get("/admin/exchange/roomsync/").content.decode()
    assert MAILBOX in page
    assert "nicht eingerichtet" in page


def test_it_reconciles_on_the_admins_request(exchange, spree, admin_client, alice):
    start = later()
    services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    admin_client.get("/admin/exchange/roomsync/")  # the room's row appears
    state = RoomSync.objects.get(room=spree)
    response = admin_client.post(
        "/admin/exchange/roomsync/", {"action": "full_reconcile", "_selected_action": [state.pk]}, follow=True
    )
    assert "1 Raum abgeglichen." in response.content.decode()
    assert [e["subject"] for e in exchange.events(MAILBOX)] == ["Planung"]
    assert RoomSync.objects.get(room=spree).last_repairs == {"recreated": 1, "removed": 0, "cancelled": 0}


def test_it_seeds_demo_rooms_with_mailboxes_shown_as_not_configured(db, admin_client, settings):
    settings.RFR_EXCHANGE = None
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # again: nothing doubled
    assert RoomSync.objects.count() == 2
    assert sorted(RoomSync.objects.values_list("mode", flat=True)) == ["both", "publish"]
    page = admin_client.get("/admin/exchange/roomsync/").content.decode()
    assert page.count("nicht eingerichtet") == 2


def test_it_runs_the_scheduled_cycle_with_a_first_full_reconcile(exchange, spree):
    start = later()
    exchange.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert sync_exchange_task() == {"failed": 0}
    state = RoomSync.objects.get(room=spree)
    assert state.last_full_at is not None  # never reconciled: the first cycle is a full one
    assert Booking.objects.filter(room=spree, title="Vertrieb", source="exchange").count() == 1
    assert sync_exchange_task() == {"failed": 0}
    assert (
        RoomSync.objects.get(room=spree).last_full_at == state.last_full_at
    )  # later cycles read changes only
