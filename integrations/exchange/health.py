"""What the admin shows per room: is the sync healthy, how far behind, what is queued."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count

from bookings.models import OutboxMessage, Room

from .models import RoomSync


def ensure_rows() -> None:
    """Every room with a mailbox has its sync row (synced both ways unless an admin chose otherwise)."""
    missing = Room.objects.exclude(exchange_mailbox="").filter(exchange_sync__isnull=True)
    RoomSync.objects.bulk_create([RoomSync(room=room) for room in missing], ignore_conflicts=True)


def queued_by_room() -> dict[int, int]:
    """Changes of ours not yet at Exchange, per room (retries included, given-up ones not)."""
    rows = (
        OutboxMessage.objects.filter(channel="exchange", delivered_at__isnull=True, given_up_at__isnull=True)
        .values("payload__room")
        .annotate(n=Count("pk"))
    )
    return {row["payload__room"]: row["n"] for row in rows if row["payload__room"]}


def configured() -> bool:
    return getattr(settings, "RFR_EXCHANGE", None) is not None
