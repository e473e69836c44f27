"""One call records a change twice: in the audit log and in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import QuerySet

from raumfuerraum import instruments

from ..models import Booking, BookingEvent
from ..outbox import enqueue
from .freed import slot_freed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Changes after which a room may have time free that someone is waiting for.
FREEING = {"updated", "cancelled", "rejected", "released", "expired"}


def booking_payload(booking: Booking) -> dict:
    """What the outside world hears of a booking (no private data beyond the flag)."""
    return {
        "id": booking.pk,
        "room": booking.room_id,
        "start": booking.span.lower.isoformat(),
        "end": booking.span.upper.isoformat(),
        "status": booking.status,
        "series": booking.series_id,
        "version": booking.version,
        "private": booking.private,
    }


def record(
    booking: Booking,
    *,
    kind: str,
    actor: User | None,
    at: datetime,
    changes: dict | None = None,
    announce: bool = True,
) -> None:
    """Append the audit event and (unless the caller announces a batch) the outbox message."""
    BookingEvent.objects.create(booking=booking, kind=kind, actor=actor, at=at, changes=changes or {})
    if kind in FREEING:
        slot_freed(booking.room_id)
    if kind == BookingEvent.Kind.CREATED:
        source = booking.source
        transaction.on_commit(lambda: instruments.bookings_created.labels(source).inc())
    if announce:
        enqueue(topic=f"booking.{kind}", payload=booking_payload(booking))


def empty_details(events: QuerySet[BookingEvent]) -> int:
    """Empty the details (``changes``) of these audit events; the one change the log's
    append-only trigger lets through (migration 0009), for retention and erasure only.
    Must run inside a transaction: the permission is ``SET LOCAL``. Returns how many."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL rfr.audit_reduction = 'on'")
    count = events.exclude(changes={}).update(changes={})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL rfr.audit_reduction = 'off'")
    return count
