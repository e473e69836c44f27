"""A room's state as its door display shows it, and when that state changes by itself.

The status is a pure function of the display's settings, the room's active bookings of
the day and the period of time we are in; it holds no clock reading. So two requests in
the same period build the same bytes, and the ETag (a hash of those bytes) changes
exactly when the bookings, the settings or the period change.
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.selectors.bookings import bookings_in_range
from bookings.selectors.dayplan import day_span

from .models import Display

# A booking "starts soon" this long before its start; check-in opens then too.
SOON = timedelta(minutes=15)
BOOK_NOW_MINUTES = (15, 30, 60)
FREE, SOON_STATE, AWAITING, OCCUPIED = "free", "soon", "awaiting_check_in", "occupied"


@dataclass
class Snapshot:
    body: dict
    etag: str
    valid_until: datetime


def display_info(display: Display) -> dict:
    """What a request needs to know of a display (cached in Redis by token)."""
    site = display.room.floor.building.site
    info = {
        "id": display.pk,
        "room": display.room_id,
        "room_name": display.room.name,
        "bookable": display.room.bookable,
        "tz": site.time_zone,
        "language": display.language,
        "privacy": display.privacy,
        "check_in": display.allow_check_in,
        "book_now": display.allow_book_now,
        "pin": display.has_pin,
        "poll": settings.RFR_DISPLAY_POLL_SECONDS,
    }
    info["cfg"] = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:16]
    return info


def state_labels() -> dict[str, str]:
    """The states in words, in the active language (colour alone is not enough)."""
    return {
        FREE: _("Free"),
        SOON_STATE: _("Booked soon"),
        AWAITING: _("Awaiting check-in"),
        OCCUPIED: _("Occupied"),
    }


def _title(row: dict, info: dict) -> str | None:
    # Private titles never leave the server; in "occupied only" mode no title does.
    if info["privacy"] != Display.Privacy.TITLES or row["private"]:
        return None
    return row["title"]


def _booking(row: dict, info: dict, tz: zoneinfo.ZoneInfo) -> dict:
    start, end = row["span"].lower, row["span"].upper
    return {
        "id": row["id"],
        "start": start.astimezone(tz).isoformat(),
        "end": end.astimezone(tz).isoformat(),
        "start_local": f"{start.astimezone(tz):%H:%M}",
        "end_local": f"{end.astimezone(tz):%H:%M}",
        "title": _title(row, info),
        "checked_in": row["checked_in_at"] is not None,
    }


def _next_offset_change(now: datetime, until: datetime, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """The first quarter hour after ``now`` with another UTC offset (a daylight-saving switch)."""
    offset = now.astimezone(tz).utcoffset()
    if until.astimezone(tz).utcoffset() == offset:
        return None
    probe = now.replace(second=0, microsecond=0)
    probe -= timedelta(minutes=probe.minute % 15)
    while probe < until:
        probe += timedelta(minutes=15)
        if probe.astimezone(tz).utcoffset() != offset:
            return probe
    return None


def build(info: dict, now: datetime) -> Snapshot:
    """The status of the display's room at ``now`` (one query)."""
    tz = zoneinfo.ZoneInfo(info["tz"])
    day_start, day_end = day_span(now.astimezone(tz).date(), tz)
    rows = list(
        bookings_in_range(room_id=info["room"], start=day_start, end=day_end, shared=True).values(
            "id", "span", "title", "private", "checked_in_at"
        )
    )
    current = next((r for r in rows if r["span"].lower <= now < r["span"].upper), None)
    upcoming = [r for r in rows if r["span"].lower > now]
    following = upcoming[0] if upcoming else None

    if current is not None:
        state = AWAITING if info["check_in"] and current["checked_in_at"] is None else OCCUPIED
    elif following is not None and following["span"].lower - SOON <= now:
        state = SOON_STATE
    else:
        state = FREE

    # Check-in is for the booking running now, or the next one once it starts soon.
    check_in_for = None
    if info["check_in"]:
        if current is not None and current["checked_in_at"] is None:
            check_in_for = current["id"]
        elif (
            following is not None
            and following["checked_in_at"] is None
            and following["span"].lower - SOON <= now
            and (current is None or current["checked_in_at"] is not None)
        ):
            check_in_for = following["id"]

    free_until = None
    if current is None:
        free_until = following["span"].lower if following else day_end
    # The durations on offer; which of them still fit before free_until is the page's
    # to work out each minute, so that the status (and its ETag) stays the same meanwhile.
    book_now = list(BOOK_NOW_MINUTES) if info["book_now"] and info["bookable"] and free_until else []

    # The next moment anything above changes without anyone booking: a start, an end,
    # the start of a "soon" window, midnight, or a daylight-saving switch.
    moments = [day_end]
    for row in rows:
        moments += [row["span"].lower - SOON, row["span"].lower, row["span"].upper]
    valid_until = min(m for m in moments if m > now)
    if switch := _next_offset_change(now, valid_until, tz):
        valid_until = min(valid_until, switch)

    with translation.override(info["language"]):
        label = state_labels()[state]
    body = {
        "room": {"id": info["room"], "name": info["room_name"]},
        "language": info["language"],
        "state": state,
        "label": label,
        "current": _booking(current, info, tz) if current else None,
        "next": _booking(following, info, tz) if following else None,
        "bookings": [_booking(r, info, tz) for r in rows],
        "check_in": check_in_for,
        "free_until": free_until.astimezone(tz).isoformat() if free_until else None,
        "book_now_minutes": book_now,
        "pin_required": info["pin"],
        "valid_until": valid_until.astimezone(tz).isoformat(),
        "utc_offset_minutes": int(now.astimezone(tz).utcoffset().total_seconds() // 60),
        "poll_seconds": info["poll"],
    }
    return Snapshot(body=body, etag=etag_of(body), valid_until=valid_until)


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def etag_of(body: dict) -> str:
    return '"' + hashlib.sha256(encode(body)).hexdigest()[:32] + '"'
