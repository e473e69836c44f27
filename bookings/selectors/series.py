"""A series before it is booked (what is in its way) and after (what is still to come)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .. import recurrence
from ..models import Booking, Room
from ..spans import ends_after, lasts, make_span
from .privacy import visible_title

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class Occurrence:
    start: datetime
    end: datetime
    conflicts: list[dict]
    # The rule's wall-clock time does not exist that day (the clocks go forward): it starts later.
    moved: bool = False


def series_preview(
    *, room: Room, start: datetime, end: datetime, rrule: str | None, viewer: User | None
) -> list[Occurrence]:
    """Every occurrence the rule yields and what is in its way: one query.

    Raises InvalidBooking (from recurrence) for a rule that cannot be used.
    """
    tz = room.floor.building.site.tz
    starts = recurrence.occurrences(rrule, local_start=start.astimezone(tz), tz=tz) if rrule else [start]
    duration = lasts(start, end)
    spans = [(s, ends_after(s, duration)) for s in starts]
    wall_clock = start.astimezone(tz).time()
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
        result.append(Occurrence(s, e, conflicts, moved=s.astimezone(tz).time() != wall_clock))
    return result


def future_occurrences(*, series_id: int, now: datetime) -> list[Booking]:
    return list(
        Booking.objects.filter(series_id=series_id, status__in=Booking.ACTIVE, span__startswith__gt=now)
        .select_related("room__floor__building__site")
        .order_by("span")
    )
