"""Demo data for privacy: a colleague who left and was erased, so the rooms' history shows
meetings of "ehemalige/r Mitarbeiter/in" and the admin's privacy log has an entry. Idempotent."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking, Room
from bookings.spans import make_span

from .erasure import erase_person
from .models import PrivacyEvent

LEAVER = "ehemalig"


def seed_former_employee() -> str:
    """Three past early-morning meetings of a leaver, then the leaver erased by ``admin``."""
    if PrivacyEvent.objects.filter(kind=PrivacyEvent.Kind.ERASED).exists():
        return "Privacy: a former employee's meetings are in the rooms' history (/privacy/people/)."
    admin = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    room = Room.objects.filter(bookable=True).select_related("floor__building__site").order_by("pk").first()
    if admin is None or room is None:
        return ""
    names = {"first_name": "Erika", "last_name": "Ehemalig", "email": "erika@firma.example"}
    leaver, _ = get_user_model().objects.get_or_create(username=LEAVER, defaults=names)
    now = timezone.now()
    tz = room.floor.building.site.tz
    for days in (3, 5, 9):
        day = (now - timedelta(days=days)).astimezone(tz).date()
        start = datetime.combine(day, time(6, 30), tzinfo=tz)
        try:
            with transaction.atomic():
                Booking.objects.create(
                    room=room,
                    organizer=leaver,
                    title="Übergabe an das Team",
                    attendees=["demo@firma.example"],
                    span=make_span(start, start + timedelta(minutes=45)),
                )
        except IntegrityError:
            continue  # the slot is taken in this demo: one meeting fewer
    erase_person(person=leaver, actor=admin, now=now)
    return "Privacy: a former employee erased; their meetings stay as “ehemalige/r Mitarbeiter/in”."
