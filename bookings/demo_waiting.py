"""Demo data for the waiting list: Dana Demo waits for a room, and has a slot on offer (idempotent)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from .errors import BookingError
from .models import Booking, Policy, Room, WaitingEntry
from .services.bookings import cancel_booking, create_booking
from .services.waiting import join_waiting_list, promote_waiting


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


def seed_offer(demo) -> WaitingEntry | None:
    """A slot held for Dana from the waiting list, to accept or give back in My bookings.

    The room's policy holds freed slots an hour; a colleague books the room in three days'
    afternoon, Dana queues for it, the colleague cancels, and the promotion offers it to
    her, all through the services. Nothing happens when Dana already has an open offer.
    """
    if WaitingEntry.objects.filter(person=demo, status=WaitingEntry.Status.OFFERED).exists():
        return None
    colleague = get_user_model().objects.filter(is_active=True).exclude(pk=demo.pk).order_by("pk").first()
    waiting_for = list(WaitingEntry.objects.filter(person=demo).values_list("room_id", flat=True))
    room = (
        Room.objects.filter(bookable=True, part_links__isnull=True, combination_links__isnull=True)
        .exclude(pk__in=waiting_for)
        .select_related("floor__building__site")
        .order_by("pk")
        .first()
    )
    if colleague is None or room is None:
        return None
    policy, _created = Policy.objects.get_or_create(room=room)
    if policy.waiting_offer_minutes is None:
        policy.waiting_offer_minutes = 60
        policy.save(update_fields=["waiting_offer_minutes"])
    tz = room.floor.building.site.tz
    today = timezone.now().astimezone(tz).date()
    for days in range(3, 10):
        start = datetime.combine(today + timedelta(days=days), time(16), tzinfo=tz)
        try:
            taken = create_booking(
                room=room,
                organizer=colleague,
                title="Kundentermin",
                start=start,
                end=start + timedelta(hours=1),
            )
            entry = join_waiting_list(
                person=demo, room=room, title="Kundentermin", start=taken.span.lower, end=taken.span.upper
            )
            cancel_booking(booking=taken, actor=colleague, reason="Termin verschoben")
        except BookingError:
            continue  # that afternoon is taken or closed: the next day
        promote_waiting(room_id=room.pk)
        entry.refresh_from_db()
        return entry
    return None
