"""Spans and times, the bottom layer: what a storable, valid booking span is.

Pure functions over datetimes; nothing here reads the database or imports a service,
so every layer above (rules, reads, writes, notifications) may use it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def make_span(start: datetime, end: datetime) -> DateTimeTZRange:
    return DateTimeTZRange(start, end, "[)")


def validate_span(start: datetime, end: datetime) -> None:
    """Raise InvalidBooking for naive, unstorable or reversed times (any span: bookings, blockings)."""
    for field, value in (("start", start), ("end", end)):
        if timezone.is_naive(value):
            raise InvalidBooking(_("The time needs a time zone offset (ISO 8601)."), field=field)
        if value > LATEST:
            raise InvalidBooking(_("The time lies too far in the future."), field=field)
    if end <= start:
        raise InvalidBooking(_("The end must be after the start."), field="end")


def validate_times(start: datetime, end: datetime, *, now: datetime, new: bool = True) -> None:
    """Raise InvalidBooking for naive, reversed, too long or past spans."""
    validate_span(start, end)
    if end - start > MAX_DURATION:
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
