"""Demo data for attendees: Dana Demo is invited to a colleague's meeting (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import Booking, WaitingEntry


def seed_invitation(demo) -> Booking | None:
    """Add Dana to the attendees of the first colleague's booking from tomorrow on, as invited."""
    if Booking.objects.filter(attendees__contains=[demo.email]).exists():
        return None
    waited_for = WaitingEntry.objects.filter(person=demo).values_list("span", flat=True)
    booking = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED, span__startswith__gt=timezone.now() + timedelta(days=1)
        )
        .exclude(organizer=demo)
        .exclude(booked_by=demo)
        .exclude(span__in=list(waited_for))
        .order_by("span", "pk")
        .first()
    )
    if booking is None:
        return None
    booking.attendees = [*booking.attendees, demo.email, "gast@partner.example"]
    booking.invite_attendees = True
    booking.save(update_fields=["attendees", "invite_attendees", "updated_at"])
    return booking
