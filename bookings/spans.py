"""Spans and times, the bottom layer: what a storable, valid booking span is.

Pure functions over datetimes; nothing here reads the database or imports a service,
so every layer above (rules, reads, writes, notifications) may use it.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import cast

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .errors import InvalidBooking

# A booking may start a few minutes ago (booking the room you are standing in).
START_GRACE = timedelta(minutes=5)
MAX_DURATION = timedelta(days=14)
# Python, and so psycopg, stops at year 9999: a later time would be stored but could
# never be read back, and every list that includes it would fail.
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
# The days a request may name (a day plan, a week, a time): a margin inside Python's
# calendar (years 1 to 9999), so that the week around a day, the days either side and
# any time zone's offset stay on it. Nobody books a room before 1900.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def day_range_message() -> str:
    return _("The date must lie between %(first)s and %(last)s.") % {
        "first": FIRST_DAY.isoformat(),
        "last": LAST_DAY.isoformat(),
    }


def make_span(start: datetime, end: datetime) -> DateTimeTZRange:
    return DateTimeTZRange(start, end, "[)")


# Python adds and subtracts aware datetimes of the same zone on the wall clock: 02:00 +
# one hour is 03:00 local even on the night the clocks change, and 01:30–03:30 differs by
# two hours though only one passes. Durations are real time, so they are measured in UTC.


def ends_after(start: datetime, duration: timedelta) -> datetime:
    """The moment ``duration`` of real time after ``start``, whatever the clocks do between."""
    try:
        return start.astimezone(UTC) + duration
    except OverflowError:
        raise InvalidBooking(_("The time lies too far in the future."), field="end") from None


def lasts(start: datetime, end: datetime) -> timedelta:
    """The real time between two aware moments (not their wall-clock difference)."""
    # Wall-clock difference corrected by the offsets: exact, and unlike a conversion to UTC
    # it cannot fall off the calendar in years 1 and 9999. Aware moments have an offset (a
    # naive one still fails here, with a TypeError).
    offsets = cast(timedelta, end.utcoffset()) - cast(timedelta, start.utcoffset())
    return (end.replace(tzinfo=None) - start.replace(tzinfo=None)) - offsets


def on_the_clock(naive: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """The aware moment a local wall-clock time means in ``tz``.

    A time the clocks skip when they go forward (02:30 on the spring night in Berlin) is
    taken with the offset before the gap, so it moves forward by the gap (03:30), as
    RFC 5545 (3.3.5) says; a time that happens twice when they go back is the first one.
    The result carries its true offset, so arithmetic on it after ``astimezone(UTC)`` and
    comparisons are exact.
    """
    aware = naive.replace(tzinfo=tz, fold=0)
    try:
        return aware.astimezone(UTC).astimezone(tz)
    except OverflowError:
        # At the ends of the calendar (years 1 and 9999) UTC falls off it; no clock
        # changes there to correct for, and validate_span refuses such times by name.
        return aware


def moved_by_clock_change(naive: datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether the clocks skip this local time, so the occurrence starts later than the rule says."""
    return on_the_clock(naive, tz).replace(tzinfo=None) != naive


def validate_span(start: datetime, end: datetime) -> None:
    """Raise InvalidBooking for naive, unstorable or reversed times (any span: bookings, blockings)."""
    for field, value in (("start", start), ("end", end)):
        if timezone.is_naive(value):
            raise InvalidBooking(_("The time needs a time zone offset (ISO 8601)."), field=field)
        if value > LATEST:
            raise InvalidBooking(_("The time lies too far in the future."), field=field)
    if lasts(start, end) <= timedelta(0):
        raise InvalidBooking(_("The end must be after the start."), field="end")


def validate_times(start: datetime, end: datetime, *, now: datetime, new: bool = True) -> None:
    """Raise InvalidBooking for naive, reversed, too long or past spans."""
    validate_span(start, end)
    if lasts(start, end) > MAX_DURATION:
        raise InvalidBooking(
            ngettext(
                "A booking can last at most %(days)d day.",
                "A booking can last at most %(days)d days.",
                MAX_DURATION.days,
            )
            % {"days": MAX_DURATION.days},
            field="end",
        )
    if new and start < now - START_GRACE:
        raise InvalidBooking(_("The start lies in the past."), field="start")


def storable(text: str) -> bool:
    """PostgreSQL text holds neither NUL nor lone surrogates; JSON can carry both."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def blocked(span: DateTimeTZRange, before: timedelta, after: timedelta) -> DateTimeTZRange:
    return make_span(span.lower - before, span.upper + after)
