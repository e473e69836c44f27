"""Conflicts: which active bookings stand in a span's way, and how to say so.

The exclusion constraints decide; these reads name the bookings they refused for.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils.translation import gettext as _

from .combinations import sharing
from .errors import BookingConflict
from .models import Booking
from .spans import blocked

# The plain overlap, the one counting setup and cleanup buffers, and the one over the
# physical parts a booking holds (a combined room and its parts).
OVERLAP_CONSTRAINTS = {"booking_no_overlap", "booking_no_overlap_buffered", "booking_hold_no_overlap"}


def find_conflicts(
    room_id: int,
    span: DateTimeTZRange,
    *,
    exclude: int | None = None,
    before: timedelta = timedelta(0),
    after: timedelta = timedelta(0),
) -> list[Booking]:
    """Active bookings of the room, or of a room sharing a part with it, in the way of the
    span and its buffers (and theirs)."""
    qs = Booking.objects.filter(
        room_id__in=sharing(room_id),
        status__in=Booking.ACTIVE,
        blocked_span__overlap=blocked(span, before, after),
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.select_related("organizer").order_by("span"))


def is_overlap_violation(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in OVERLAP_CONSTRAINTS


def conflict_error(
    room_id: int,
    span: DateTimeTZRange,
    *,
    exclude: int | None = None,
    before: timedelta = timedelta(0),
    after: timedelta = timedelta(0),
) -> BookingConflict:
    conflicts = find_conflicts(room_id, span, exclude=exclude, before=before, after=after)
    if conflicts and not any(c.span.lower < span.upper and span.lower < c.span.upper for c in conflicts):
        return BookingConflict(
            _("The room is booked right before or after; it needs time to set up and clean up in between."),
            conflicts=conflicts,
        )
    return BookingConflict(_("The room is already booked at this time."), conflicts=conflicts)
