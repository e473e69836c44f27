"""Demo data for the waiting list: Dana Demo waits for a colleague's room (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import Booking, WaitingEntry


def seed_waiting(demo) -> WaitingEntry | None:
    """Dana waits for the first colleague's booking from tomorrow on; None when there is none."""
    if WaitingEntry.objects.filter(person=demo, status=WaitingEntry.Status.WAITING).exists():
        return None
    taken = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            span__startswith__gt=timezone.now() + timedelta(days=1),
            room__bookable=True,
        )
        .exclude(organizer=demo)
        .exclude(booked_by=demo)
        .order_by("span", "pk")
        .first()
    )
    if taken is None:
        return None
    return WaitingEntry.objects.create(person=demo, room=taken.room, span=taken.span, title="Projektrunde")
