"""Demo data for combinable rooms: the divisible hall "Saal 1+2" in Haus A (idempotent)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Booking, BookingEvent, Floor, Room, RoomPart
from .spans import make_span


def seed_divisible_hall(organizer) -> Room | None:
    """Saal 1 and Saal 2 on the ground floor of Haus A, "Saal 1+2" joining them, and a
    booking of the whole hall and one of a part this week; None without Haus A."""
    floor = Floor.objects.filter(building__name="Haus A", level=0).select_related("building__site").first()
    if floor is None:
        return None
    saal1, _ = Room.objects.get_or_create(floor=floor, name="Saal 1", defaults={"capacity": 60})
    saal2, _ = Room.objects.get_or_create(floor=floor, name="Saal 2", defaults={"capacity": 60})
    hall, _ = Room.objects.get_or_create(
        floor=floor,
        name="Saal 1+2",
        defaults={"capacity": 120, "description": "Saal 1 und Saal 2 mit geöffneter Trennwand."},
    )
    for part in (saal1, saal2):
        RoomPart.objects.get_or_create(combined=hall, part=part)
    tz = floor.building.site.tz
    now = timezone.now()
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    for room, weekday, hour, hours, title in (
        (hall, 2, 9, 3, "Betriebsversammlung"),
        (saal1, 3, 13, 2, "Schulung"),
    ):
        start = datetime.combine(monday + timedelta(days=weekday), time(hour), tz)
        if Booking.objects.filter(room=room, title=title, span__startswith=start).exists():
            continue
        booking = Booking(
            room=room,
            span=make_span(start, start + timedelta(hours=hours)),
            organizer=organizer,
            title=title,
            source=Booking.Source.IMPORT,
        )
        try:
            with transaction.atomic():
                booking.save()
        except IntegrityError:
            continue  # a part or the hall is already taken then
        BookingEvent.objects.create(
            booking=booking,
            kind=BookingEvent.Kind.CREATED,
            actor=organizer,
            at=now,
            changes={"source": "seed_demo"},
        )
    return hall
