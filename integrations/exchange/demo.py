"""Demo data: two rooms with an Exchange mailbox, one of them publish-only.

The demo runs with RFR_EXCHANGE_BACKEND=off, so the admin's health view shows these
rooms truthfully as not configured.
"""

from __future__ import annotations

from bookings.models import Room

from .models import RoomSync

MAILBOXES = (("raum-{}@firma.example", RoomSync.Mode.BOTH), ("raum-{}@firma.example", RoomSync.Mode.PUBLISH))


def seed_exchange_demo() -> None:
    """Idempotent: the first two rooms get a mailbox (when they have none) and a sync mode."""
    for room, (pattern, mode) in zip(Room.objects.order_by("pk")[:2], MAILBOXES, strict=False):
        if not room.exchange_mailbox:
            room.exchange_mailbox = pattern.format(room.pk)
            room.save(update_fields=["exchange_mailbox"])
        RoomSync.objects.get_or_create(room=room, defaults={"mode": mode})
