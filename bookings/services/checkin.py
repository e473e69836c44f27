"""Check-in: someone is in the room they booked (at the door display, or elsewhere)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import InvalidBooking
from ..models import Booking, BookingEvent
from . import audit

# Check-in opens this long before the start, when the room's display says "starts soon".
CHECK_IN_OPENS = timedelta(minutes=15)


@transaction.atomic
def check_in_booking(*, booking: Booking, actor, source: str = "", now: datetime | None = None) -> Booking:
    """Record the check-in (once; repeating changes nothing). Raises InvalidBooking outside the window."""
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if not booking.is_active:
        raise InvalidBooking(_("This booking is no longer active."), field="status")
    if booking.checked_in_at is not None:
        return booking
    if now < booking.span.lower - CHECK_IN_OPENS:
        raise InvalidBooking(_("Check-in opens 15 minutes before the start."), field="start")
    if now >= booking.span.upper:
        raise InvalidBooking(_("A booking that has ended cannot be checked in."), field="end")
    booking.checked_in_at = now
    booking.version += 1
    booking.save(update_fields=["checked_in_at", "version", "updated_at"])
    audit.record(
        booking,
        kind=BookingEvent.Kind.CHECKED_IN,
        actor=actor,
        at=now,
        changes={"source": source} if source else {},
    )
    return booking
