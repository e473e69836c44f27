"""The same slot taken in Outlook and on the web in the same instant: exactly one wins, both sides agree.

Each round, the test itself holds the room's write lock (the advisory lock every booking
write takes) on its own connection. Two threads, each with its own connection, start:
the sync reads the room's Outlook meeting and goes to book it, the web books the same
hour. The test waits until PostgreSQL shows both waiting for that lock, then lets go, so
both writes reach the database at the same instant and the database alone decides. No
sleep decides anything; which side wins may differ from round to round, what is asserted
does not: exactly one booking, the loser refused (409 on the web, a decline in Outlook),
and Exchange showing the winner.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, timedelta

import pytest
from django.db import connection, connections

from bookings import services
from bookings.errors import BookingConflict
from bookings.models import Booking
from bookings.services.bookings import ROOM_LOCK

from .exchange_fixtures import MAILBOX, deliver, inbound, later

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 3


def waiting_for_room(room_id: int) -> int:
    """How many sessions wait for the room's write lock (pg_locks: classid, objid = the two keys)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = %s AND objid = %s",
            [ROOM_LOCK, room_id],
        )
        return cursor.fetchone()[0]


def race(room_id: int, *actions) -> None:
    """Run the actions in threads that all meet at the room's lock, then release them together."""
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ROOM_LOCK, room_id])
    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while waiting_for_room(room_id) < len(actions):  # polled: it decides when, never who
            assert time.monotonic() < deadline, "the two sides never both reached the room's lock"
            assert not errors, errors
            time.sleep(0.01)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ROOM_LOCK, room_id])
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_it_lets_exactly_one_side_win_a_same_instant_race(exchange, spree, bob):
    for round_ in range(ROUNDS):
        start = later(minutes=120 * round_)
        event_id = exchange.book(MAILBOX, "Outlook", start, start + timedelta(hours=1))
        web_refused = []

        def web(start=start, web_refused=web_refused):
            try:
                services.create_booking(
                    room=spree, organizer=bob, title="Web", start=start, end=start + timedelta(hours=1)
                )
            except BookingConflict:
                web_refused.append(start)

        race(spree.pk, lambda: inbound(spree), web)
        deliver()
        inbound(spree)

        active = list(
            Booking.objects.filter(
                room=spree, span__overlap=(start, start + timedelta(hours=1)), status__in=Booking.ACTIVE
            )
        )
        assert len(active) == 1, "exactly one side wins"
        winner = active[0].title
        assert winner == ("Outlook" if web_refused else "Web")
        assert exchange.answer(event_id) == ("accept" if winner == "Outlook" else "decline")
        shown = [
            e
            for e in exchange.events(MAILBOX)
            if e["start"]["dateTime"].startswith(start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
        ]
        assert [e["subject"] for e in shown] == [winner], "Exchange shows the winner, and only it"
