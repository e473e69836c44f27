"""A series before it is booked (what is in its way) and after (what is still to come)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import recurrence
from ..models import Booking, Room
from ..spans import make_span
from .privacy import visible_title


@dataclass
class Occurrence:
    start: datetime
    end: datetime
    conflicts: list[dict]


def series_preview(
    *, room: Room, start: datetime, end: datetime, rrule: str | None, viewer
) -> list[Occurrence]:
    """Every occurrence the rule yields and what is in its way: one query.

    Raises InvalidBooking (from recurrence) for a rule that cannot be used.
    """
    tz = room.floor.building.site.tz
    starts = recurrence.occurrences(rrule, local_start=start.astimezone(tz), tz=tz) if rrule else [start]
    duration = end - start
    spans = [(s, s + duration) for s in starts]
    existing = list(
        Booking.objects.filter(
            room=room, status__in=Booking.ACTIVE, span__overlap=make_span(spans[0][0], spans[-1][1])
        )
        .order_by("span")
        .values("id", "span", "title", "private", "organizer_id", "organizer__username")
    )
    result = []
    for s, e in spans:
        conflicts = []
        for row in existing:
            if row["span"].lower < e and s < row["span"].upper:
                title = visible_title(
                    row["title"], private=row["private"], organizer_id=row["organizer_id"], viewer=viewer
                )
                conflicts.append({"title": title, "start": row["span"].lower, "end": row["span"].upper})
        result.append(Occurrence(s, e, conflicts))
    return result


def future_occurrences(*, series_id: int, now: datetime) -> list[Booking]:
    return list(
        Booking.objects.filter(series_id=series_id, status__in=Booking.ACTIVE, span__startswith__gt=now)
        .select_related("room__floor__building__site")
        .order_by("span")
    )
