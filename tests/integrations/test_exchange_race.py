"""The same slot taken in Outlook and on the web in the same moment: exactly one wins, both sides agree.

Two threads, each with its own database connection, wait at a barrier: one reads the
room's Outlook meeting in (the sync), the other books on the web. The exclusion
constraint decides; the loser is refused (409 on the web, a decline in Outlook).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, timedelta

import pytest
from django.db import connection

from bookings import services
from bookings.errors import BookingConflict
from bookings.models import Booking

from .exchange_fixtures import MAILBOX, deliver, inbound, later

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 6
DELAYS = (0.0, 0.02, 0.05, 0.1, 0.3, 1.0)


def race(*actions) -> None:
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            barrier.wait(timeout=30)
            action()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_it_lets_exactly_one_side_win_a_same_second_race(graph, spree, bob):
    slots = [later(minutes=120 * i) for i in range(ROUNDS)]
    web_refused = []

    def web(start, delay):
        def book():
            time.sleep(delay)  # the sync reads Exchange first: shift the web across its booking
            try:
                services.create_booking(
                    room=spree, organizer=bob, title="Web", start=start, end=start + timedelta(hours=1)
                )
            except BookingConflict:
                web_refused.append(start)

        return book

    for start, delay in zip(slots, DELAYS, strict=True):
        graph.book(MAILBOX, "Outlook", start, start + timedelta(hours=1))
        race(lambda: inbound(spree), web(start, delay))
    deliver()
    inbound(spree)
    assert 0 < len(web_refused) < ROUNDS, "both sides should have won a round"

    for start in slots:
        active = list(
            Booking.objects.filter(
                room=spree, span__overlap=(start, start + timedelta(hours=1)), status__in=Booking.ACTIVE
            )
        )
        assert len(active) == 1
        shown = [
            e
            for e in graph.events(MAILBOX)
            if e["start"]["dateTime"].startswith(start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
        ]
        assert [e["subject"] for e in shown] == [active[0].title]
        assert (active[0].title == "Web") == (start not in web_refused)
