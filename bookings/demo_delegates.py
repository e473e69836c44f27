"""Demo data for delegates: Dana Demo books for a manager, and a colleague may book for Dana (idempotent)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Booking, BookingEvent, Delegation, Room
from .spans import make_span


def seed_delegates(demo, *, manager, deputy) -> None:
    """``manager`` names ``demo`` their delegate, ``demo`` names ``deputy``; one booking next
    Tuesday that Dana made in the manager's name shows both sides in "My bookings"."""
    if not manager.get_full_name():
        manager.first_name, manager.last_name = "Max", "Muster"
        manager.save(update_fields=["first_name", "last_name"])
    for principal, delegate in ((manager, demo), (demo, deputy)):
        if not Delegation.objects.filter(
            principal=principal, delegate=delegate, revoked_at__isnull=True
        ).exists():
            Delegation.objects.create(principal=principal, delegate=delegate, granted_by=principal)
    room = Room.objects.filter(bookable=True, part_links__isnull=True).select_related("floor__building__site")
    room = room.order_by("floor__building__site__name", "floor__building__name", "name").first()
    if room is None:
        return
    tz = room.floor.building.site.tz
    now = timezone.now()
    today = now.astimezone(tz).date()
    tuesday = today + timedelta(days=7 - today.weekday() + 1)
    start = datetime.combine(tuesday, time(7), tz)
    title = "Vorstandsrunde"
    if Booking.objects.filter(
        organizer=manager, booked_by=demo, title=title, span__startswith=start
    ).exists():
        return
    booking = Booking(
        room=room,
        span=make_span(start, start + timedelta(hours=1)),
        organizer=manager,
        booked_by=demo,
        title=title,
        source=Booking.Source.WEB,
    )
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        return  # the slot is taken in this demo database; the delegations still show
    BookingEvent.objects.create(
        booking=booking,
        kind=BookingEvent.Kind.CREATED,
        actor=demo,
        at=now,
        changes={"source": "seed_demo", "on_behalf_of": manager.get_username()},
    )
