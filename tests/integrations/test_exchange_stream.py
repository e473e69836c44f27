"""EWS streaming notifications: an Outlook meeting arrives through an open GetStreamingEvents
connection without waiting for the next poll, and a dropped subscription falls back to
polling until the listener has subscribed again.

The EWS double speaks Subscribe (StreamingSubscriptionRequest), GetStreamingEvents (one
SOAP envelope per batch on a chunked connection, Closed at its timeout) and Unsubscribe as
exchangelib sends them. The sync a notification queues runs in the listener's thread here
(Celery eager), against the double.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bookings.models import Booking
from integrations.exchange.listen import listen
from integrations.exchange.tasks import sync_exchange_task
from raumfuerraum.celery import app as celery_app

from .exchange_fixtures import MAILBOX, later

pytestmark = pytest.mark.django_db(transaction=True)


def _until(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def listening(ews, spree, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    sync_exchange_task(spree.pk)  # the first poll: the sync state is there before the stream
    stop = threading.Event()
    thread = threading.Thread(
        target=listen, args=(spree.pk,), kwargs={"stop": stop, "minutes": 1, "retry": 0.2}, daemon=True
    )
    thread.start()
    assert _until(lambda: ews.streaming == 1)
    yield ews
    stop.set()
    ews.drop_streams()  # ends the open connection, so the listener sees stop
    thread.join(20)
    assert not thread.is_alive()


def _titles(room) -> set[str]:
    return set(Booking.objects.filter(room=room, status="confirmed").values_list("title", flat=True))


def test_an_outlook_meeting_arrives_through_the_stream_without_a_poll(listening, spree):
    [subscription] = listening.streams
    assert listening.streams[subscription] == MAILBOX
    start = later()
    event_id = listening.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert _until(lambda: "Vertrieb" in _titles(spree))  # no beat cycle ran
    assert _until(lambda: listening.answer(event_id) == "accept")
    assert {"Subscribe", "GetStreamingEvents"} <= set(listening.soap)


def test_a_dropped_subscription_falls_back_to_polling_and_subscribes_again(listening, spree):
    [first] = listening.streams
    listening.drop_streams()  # Exchange restarted: the open connection ends with ErrorSubscriptionNotFound
    start = later()
    listening.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    sync_exchange_task()  # the beat's poll still reads it
    assert "Vertrieb" in _titles(spree)
    assert _until(lambda: listening.streaming == 1 and len(listening.streams) == 1)
    [second] = listening.streams
    assert second != first
    listening.book(MAILBOX, "Einkauf", start + timedelta(hours=2), start + timedelta(hours=3))
    assert _until(lambda: "Einkauf" in _titles(spree))  # through the new stream


def test_the_stream_is_reopened_when_exchange_closes_it_at_its_timeout(listening, spree):
    listening.stream_seconds = 0.5  # the next connection closes (Closed) after half a second
    listening.drop_streams()
    assert _until(lambda: listening.soap.count("Unsubscribe") >= 2)  # closed, unsubscribed, again
    assert _until(lambda: listening.soap.count("GetStreamingEvents") >= 3)
    listening.stream_seconds = 60
    assert _until(lambda: listening.streaming == 1)
    start = later()
    listening.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert _until(lambda: "Vertrieb" in _titles(spree))


def test_more_rooms_than_pooled_connections_all_stream_and_still_sync(ews, spree, monkeypatch):
    """Each stream holds a connection for its whole timeout: with more rooms than the sync's
    pool of 4, every room still gets its stream and the syncs it queues still run."""
    from integrations.exchange.ews import CONNECTIONS
    from integrations.exchange.listen import start
    from tests import factories

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    rooms = [spree]
    for n in range(CONNECTIONS):
        room = factories.room(spree.floor, name=f"Raum {n}")
        room.exchange_mailbox = f"raum-{n}@firma.de"
        room.save()
        ews.add_mailbox(room.exchange_mailbox)
        rooms.append(room)
    for room in rooms:
        sync_exchange_task(room.pk)
    stop = threading.Event()
    threads = start([room.pk for room in rooms], stop=stop, minutes=1, retry=0.2)
    try:
        assert _until(lambda: ews.streaming == len(rooms))
        last = rooms[-1]
        start_at = later()
        ews.book(last.exchange_mailbox, "Vertrieb", start_at, start_at + timedelta(hours=1))
        assert _until(lambda: "Vertrieb" in _titles(last))
    finally:
        stop.set()
        ews.drop_streams()
        for thread in threads:
            thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
