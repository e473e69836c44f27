"""RFC 5545 recurrence rules, evaluated in a site's local time.

We accept the subset a booking dialog offers (daily; weekly with weekdays; monthly by
date or by weekday; an interval; UNTIL or COUNT) and refuse the rest with a reason,
so a rule never means something other than what the user saw.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Literal

from dateutil import rrule as du
from django.utils.translation import gettext as _

from .errors import InvalidBooking
from .spans import on_the_clock

MAX_OCCURRENCES = 500
MAX_HORIZON = timedelta(days=731)
# rrule takes its frequency as one of these constants (YEARLY=0 … SECONDLY=6).
Frequency = Literal[0, 1, 2, 3, 4, 5, 6]
FREQUENCIES: dict[str, Frequency] = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
WEEKDAYS = {"MO": du.MO, "TU": du.TU, "WE": du.WE, "TH": du.TH, "FR": du.FR, "SA": du.SA, "SU": du.SU}
ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "WKST"}


def _invalid(message: str) -> InvalidBooking:
    return InvalidBooking(message, field="rrule")


def _parse_until(value: str, tz: zoneinfo.ZoneInfo) -> datetime:
    """UNTIL as local wall-clock time; a date means the whole day counts."""
    try:
        if len(value) == 8:
            return datetime.combine(date(int(value[:4]), int(value[4:6]), int(value[6:])), time.max)
        parsed = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
        if value.endswith("Z"):
            # OverflowError: in years 1 and 9999 the local time can fall off the calendar.
            parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise _invalid(_("UNTIL must be a date like 20270131 or 20270131T170000Z.")) from None
    return parsed


def _parse_byday(value: str, freq: str) -> list:
    days = []
    for item in value.split(","):
        item = item.strip().upper()
        code, ordinal = item[-2:], item[:-2]
        if code not in WEEKDAYS:
            raise _invalid(_("BYDAY takes weekdays like MO,WE or 2TU."))
        if ordinal:
            if freq != "MONTHLY":
                raise _invalid(_("Numbered weekdays (like 2TU) only work with FREQ=MONTHLY."))
            try:
                n = int(ordinal)
            except ValueError:
                raise _invalid(_("BYDAY takes weekdays like MO,WE or 2TU.")) from None
            if n == 0 or not -5 <= n <= 5:
                raise _invalid(_("BYDAY takes weekdays like MO,WE or 2TU."))
            days.append(WEEKDAYS[code](n))
        else:
            days.append(WEEKDAYS[code])
    return days


def parse(rule: str, *, dtstart: datetime, tz: zoneinfo.ZoneInfo) -> du.rrule:
    """A dateutil rrule for the text, starting at the naive local ``dtstart``."""
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for piece in filter(None, text.split(";")):
        name, sep, value = piece.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise _invalid(_("The recurrence rule is not valid: %(part)s") % {"part": piece})
        if name not in ALLOWED_PARTS:
            raise _invalid(_("The recurrence rule part %(part)s is not supported.") % {"part": name})
        parts[name] = value.strip()
    freq = parts.get("FREQ", "").upper()
    if freq not in FREQUENCIES:
        raise _invalid(_("FREQ must be DAILY, WEEKLY or MONTHLY."))
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise _invalid(_("A series needs an end: UNTIL or COUNT."))
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid(_("Give either UNTIL or COUNT, not both."))
    kwargs: dict = {"dtstart": dtstart, "cache": False}
    try:
        kwargs["interval"] = int(parts.get("INTERVAL", "1"))
        if "COUNT" in parts:
            kwargs["count"] = int(parts["COUNT"])
        if "BYMONTHDAY" in parts:
            kwargs["bymonthday"] = [int(d) for d in parts["BYMONTHDAY"].split(",")]
    except ValueError:
        raise _invalid(_("INTERVAL, COUNT and BYMONTHDAY take whole numbers.")) from None
    if not 1 <= kwargs["interval"] <= 99:
        raise _invalid(_("INTERVAL must be between 1 and 99."))
    if kwargs.get("count", 1) < 1:
        raise _invalid(_("COUNT must be at least 1."))
    if kwargs.get("count", 0) > MAX_OCCURRENCES:
        raise _invalid(_("A series can have at most %(n)d occurrences.") % {"n": MAX_OCCURRENCES})
    if any(not (1 <= abs(d) <= 31) for d in kwargs.get("bymonthday", [])):
        raise _invalid(_("BYMONTHDAY takes days from 1 to 31 (or -1 for the last)."))
    if "BYMONTHDAY" in parts and freq != "MONTHLY":
        raise _invalid(_("BYMONTHDAY only works with FREQ=MONTHLY."))
    if "UNTIL" in parts:
        kwargs["until"] = _parse_until(parts["UNTIL"], tz)
    if "BYDAY" in parts:
        if freq == "DAILY":
            raise _invalid(_("BYDAY does not work with FREQ=DAILY."))
        kwargs["byweekday"] = _parse_byday(parts["BYDAY"], freq)
    if "WKST" in parts:
        if parts["WKST"].upper() not in WEEKDAYS:
            raise _invalid(_("WKST must be a weekday like MO."))
        kwargs["wkst"] = WEEKDAYS[parts["WKST"].upper()]
    return du.rrule(FREQUENCIES[freq], **kwargs)


def occurrences(rule: str, *, local_start: datetime, tz: zoneinfo.ZoneInfo) -> list[datetime]:
    """Aware start times of every occurrence; 09:00 local stays 09:00 across DST.

    A start that falls into the hour the clocks skip moves forward by the gap (see
    ``spans.on_the_clock``).
    """
    naive = local_start.astimezone(tz).replace(tzinfo=None)
    starts: list[datetime] = []
    for occurrence in parse(rule, dtstart=naive, tz=tz):
        if len(starts) == MAX_OCCURRENCES:
            raise _invalid(_("A series can have at most %(n)d occurrences.") % {"n": MAX_OCCURRENCES})
        if occurrence - naive > MAX_HORIZON:
            raise _invalid(_("A series can reach at most two years ahead."))
        starts.append(on_the_clock(occurrence, tz))
    if not starts:
        raise _invalid(_("The recurrence rule yields no occurrences."))
    return starts
