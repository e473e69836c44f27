"""Rooms from Exchange: Graph /places/microsoft.graph.room and EWS GetRoomLists/GetRooms, matched by mailbox.

Run against both doubles: the real msal/requests or exchangelib list the rooms, and the
import makes or updates our rooms: a preview first, written only on request, never a
room twice.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command

from bookings.models import Room

from .ews_double import EwsDouble
from .exchange_fixtures import MAILBOX


def run(*args) -> list[str]:
    out = StringIO()
    call_command("import_exchange_rooms", *args, stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.fixture
def listed(exchange, spree):
    """Exchange lists our Spree room under a new name, and two rooms we do not have yet."""
    exchange.add_room(MAILBOX, "Spree (2. OG)", capacity=12)
    exchange.add_room("raum-havel@firma.de", "Havel", capacity=8)
    exchange.add_room("raum-oder@firma.de", "Oder", capacity=4, room_list="Haus B")
    return exchange


def test_it_shows_a_preview_and_writes_nothing(listed, spree):
    lines = run("--floor", str(spree.floor_id))
    assert lines[-1] == "preview (nothing written; --apply writes): create 2, update 1, unchanged 0, skip 0"
    assert any(line.startswith("neu: Havel <raum-havel@firma.de>") for line in lines)
    assert Room.objects.count() == 1
    assert Room.objects.get().name == spree.name


def test_it_imports_by_mailbox_and_never_twice(listed, spree):
    run("--floor", str(spree.floor_id), "--apply")
    rooms = {r.exchange_mailbox: r for r in Room.objects.all()}
    assert sorted(rooms) == sorted([MAILBOX, "raum-havel@firma.de", "raum-oder@firma.de"])
    assert rooms[MAILBOX].pk == spree.pk and rooms[MAILBOX].name == "Spree (2. OG)"
    assert rooms["raum-havel@firma.de"].floor_id == spree.floor_id
    if isinstance(listed, EwsDouble):  # EWS lists no capacity: made bookable only after a look
        assert (rooms["raum-havel@firma.de"].capacity, rooms["raum-havel@firma.de"].bookable) == (1, False)
        assert rooms[MAILBOX].capacity == spree.capacity
    else:
        assert (rooms["raum-havel@firma.de"].capacity, rooms["raum-havel@firma.de"].bookable) == (8, True)
        assert rooms[MAILBOX].capacity == 12
    again = run("--floor", str(spree.floor_id), "--apply")
    assert again[-1] == "written: create 0, update 0, unchanged 3, skip 0"
    assert Room.objects.count() == 3


def test_it_creates_no_room_without_a_floor(listed, spree):
    lines = run("--apply")
    assert lines[-1] == "written: create 0, update 1, unchanged 0, skip 2"
    assert Room.objects.count() == 1


def test_it_refuses_an_unknown_floor(listed, spree):
    with pytest.raises(CommandError, match="No floor 9999"):
        run("--floor", "9999", "--apply")
    assert Room.objects.count() == 1


def test_the_admin_previews_then_imports(listed, spree, admin_client):
    page = admin_client.get("/admin/exchange/roomsync/import-rooms/", {"floor": spree.floor_id})
    text = page.content.decode()
    assert page.status_code == 200
    assert "raum-havel@firma.de" in text and "neu" in text
    assert Room.objects.count() == 1  # the preview wrote nothing
    done = admin_client.post("/admin/exchange/roomsync/import-rooms/", {"floor": spree.floor_id}, follow=True)
    assert done.status_code == 200
    assert Room.objects.count() == 3
    assert LogEntry.objects.filter(object_id=str(spree.pk), change_message__contains="Spree (2. OG)").exists()


def test_the_admin_refuses_a_bad_floor_and_writes_nothing(listed, spree, admin_client):
    page = admin_client.post("/admin/exchange/roomsync/import-rooms/", {"floor": "kein"})
    assert page.status_code == 200
    assert "errorlist" in page.content.decode()
    assert Room.objects.count() == 1
    assert Room.objects.get().name == spree.name
