"""Door display fixtures: a room with a display, Redis cleared of display keys, outbox delivery."""

from __future__ import annotations

import pytest
import time_machine

from bookings import outbox
from bookings.models import OutboxMessage
from displays import cache
from displays.services import create_display
from tests import factories


def clear_display_keys() -> None:
    cache.reset()
    client = cache._client()
    keys = list(client.scan_iter(match=cache.PREFIX + "*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def clean_redis():
    """Every test starts with no display state in Redis (ids repeat across runs)."""
    clear_display_keys()
    yield
    cache.reset()


@pytest.fixture(autouse=True)
def mid_morning():
    """A door display shows one day: keep "in a few minutes" on today's list whenever the suite runs.

    Tests that need another moment travel there themselves.
    """
    with time_machine.travel(factories.on(factories.days_ahead(1), 10), tick=True):
        yield


@pytest.fixture
def make_display(db):
    """A display (and its secret token) for a room; keyword arguments go to create_display."""

    def make(room_obj=None, **options):
        display, raw = create_display(room=room_obj or factories.room(), **options)
        return display, raw

    return make


@pytest.fixture
def door(make_display, room):
    """The room's display and its paths."""
    display, raw = make_display(room, name="Tür")
    return Door(display, raw)


class Door:
    def __init__(self, display, raw):
        self.display, self.raw = display, raw
        self.path = f"/d/{raw}"
        self.status = f"/d/{raw}/status.json"
        self.check_in = f"/d/{raw}/check-in"
        self.book_now = f"/d/{raw}/book-now"


def deliver_outbox() -> int:
    """What the worker does after a change: run every due sink (displays, push, log)."""
    ids = list(
        OutboxMessage.objects.filter(delivered_at__isnull=True, given_up_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(outbox.deliver(pk) for pk in ids)
