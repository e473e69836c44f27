"""Check-in: someone is in the room they booked (at the door display, by web link or API).

Rooms whose policy requires check-in give each booking a ``check_in_deadline`` (the start
plus the grace period). Without a check-in by then, ``release_no_shows`` releases it: the
booking is cut at the deadline and marked released, never deleted, and since the
exclusion constraints cover only pending and confirmed bookings, the rest of the slot
is free for others again.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..errors import InvalidBooking, NotAllowed
from ..models import Booking, BookingEvent, Series
from ..outbox import enqueue
from ..spans import make_span
from . import audit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Check-in opens this long before the start, when the room's display says "starts soon".
CHECK_IN_OPENS = timedelta(minutes=15)
# One run releases at most this many bookings; the next minute's run takes the rest.
RELEASE_BATCH = 500


def check_in_window(booking: Booking) -> tuple[datetime, datetime]:
    """When check-in opens and closes (the end is excluded): the deadline, or else the end."""
    closes = booking.span.upper
    if booking.check_in_deadline is not None:
        closes = min(closes, booking.check_in_deadline)
    return booking.span.lower - CHECK_IN_OPENS, closes


def check_in_open(booking: Booking, *, now: datetime) -> bool:
    """Whether a check-in would be taken now (for showing the button; the service decides)."""
    opens, closes = check_in_window(booking)
    return booking.is_active and booking.checked_in_at is None and opens <= now < closes


def _clock(booking: Booking, moment: datetime) -> str:
    return formats.time_format(moment.astimezone(booking.room.floor.building.site.tz), "H:i")


@transaction.atomic
def check_in_booking(
    *, booking: Booking, actor: User, source: str = "", now: datetime | None = None
) -> Booking:
    """Record the check-in (once; repeating changes nothing). Raises InvalidBooking outside the window."""
    now = now or timezone.now()
    # Locked, so a check-in and the release of the same booking cannot both win.
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site")
        .get(pk=booking.pk)
    )
    if booking.status == Booking.Status.RELEASED:
        raise InvalidBooking(
            _("This booking was released because nobody checked in by %(time)s.")
            % {"time": _clock(booking, booking.check_in_deadline or booking.span.upper)},
            field="status",
        )
    if not booking.is_active:
        raise InvalidBooking(_("This booking is no longer active."), field="status")
    if booking.checked_in_at is not None:
        return booking
    opens, closes = check_in_window(booking)
    if now < opens:
        raise InvalidBooking(_("Check-in opens 15 minutes before the start."), field="start")
    if now >= booking.span.upper:
        raise InvalidBooking(_("A booking that has ended cannot be checked in."), field="end")
    if now >= closes:
        raise InvalidBooking(
            _("Check-in closed at %(time)s; the booking is being released.")
            % {"time": _clock(booking, closes)},
            field="check_in_deadline",
        )
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


def check_in_own_booking(
    *, booking: Booking, user: User, source: str, now: datetime | None = None
) -> Booking:
    """Check in as the organizer (web link, API); raises NotAllowed for others, InvalidBooking as above."""
    if booking.organizer_id != user.pk:
        raise NotAllowed(_("Only the organizer can check in to this booking."))
    return check_in_booking(booking=booking, actor=user, source=source, now=now)


def _released_span(booking: Booking) -> DateTimeTZRange:
    """The booking up to its release time; never empty, never longer than booked."""
    start, end = booking.span.lower, booking.span.upper
    cut = min(end, booking.check_in_deadline)
    return make_span(start, cut if cut > start else end)


@transaction.atomic
def release_no_shows(
    *, now: datetime | None = None, limit: int = RELEASE_BATCH, ids: list[int] | None = None
) -> list[int]:
    """Release confirmed bookings nobody checked in to by their deadline; returns their ids.

    ``ids``: only these (a booking that needs the slot now), else any that are due.
    Safe to run in several workers at once (each takes the rows the others do not hold)
    and to repeat (a released booking is no longer a candidate). Raises nothing.
    """
    now = now or timezone.now()
    # skip_locked: a booking being checked in (or released by another worker) right now
    # is left to that transaction; the next run sees how it ended.
    candidates = Booking.objects.select_for_update(skip_locked=True).filter(
        status=Booking.Status.CONFIRMED,
        check_in_deadline__isnull=False,
        check_in_deadline__lte=now,
        checked_in_at__isnull=True,
    )
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    due = list(candidates.order_by("check_in_deadline", "pk")[:limit])
    released_per_series: Counter[int] = Counter()
    for booking in due:
        old = booking.span
        booking.span = _released_span(booking)
        booking.status = Booking.Status.RELEASED
        booking.version += 1
        booking.save(update_fields=["span", "status", "version", "updated_at"])
        changes = {"status": [Booking.Status.CONFIRMED, Booking.Status.RELEASED]}
        if booking.span != old:
            changes["end"] = [old.upper.isoformat(), booking.span.upper.isoformat()]
        audit.record(booking, kind=BookingEvent.Kind.RELEASED, actor=None, at=now, changes=changes)
        if booking.series_id:
            released_per_series[booking.series_id] += 1
    if released_per_series:
        _report_series(released_per_series)
    return [b.pk for b in due]


def _report_series(released_now: Counter[int]) -> None:
    """Tell a series' owner once its no-shows reach the threshold, and at each multiple after."""
    every = max(settings.RFR_NO_SHOW_REPORT_AFTER, 1)
    # Locking the series makes concurrent runs count one after the other, so each
    # multiple is crossed (and reported) by exactly one of them.
    series_list = Series.objects.select_for_update().filter(pk__in=released_now).order_by("pk")
    for series in series_list:
        count = Booking.objects.filter(series=series, status=Booking.Status.RELEASED).count()
        before = count - released_now[series.pk]
        if count // every > before // every:
            enqueue(
                topic="series.no_shows",
                payload={"series": series.pk, "organizer": series.organizer_id, "count": count},
            )
