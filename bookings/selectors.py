"""Reads of the booking domain, shaped for the pages and the API.

Each selector runs a fixed number of queries whatever the number of rooms or
bookings, so the day plan of 200 rooms costs what the day plan of 2 costs.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Booking, Room
from .services.bookings import make_span


def rooms(
    *,
    building: int | None = None,
    site: int | None = None,
    min_capacity: int | None = None,
    equipment: list[str] | None = None,
    bookable_only: bool = False,
) -> QuerySet[Room]:
    """Rooms matching the filters, smallest first (the best fit for a group)."""
    qs = Room.objects.select_related("floor__building__site")
    if building is not None:
        qs = qs.filter(floor__building_id=building)
    if site is not None:
        qs = qs.filter(floor__building__site_id=site)
    if min_capacity:
        qs = qs.filter(capacity__gte=min_capacity)
    for code in equipment or []:
        qs = qs.filter(equipment__code=code)
    if bookable_only:
        qs = qs.filter(bookable=True)
    return qs.order_by("capacity", "name", "pk")


def free_rooms(*, start: datetime, end: datetime, **filters) -> QuerySet[Room]:
    """Bookable rooms with no active booking overlapping [start, end)."""
    busy = Booking.objects.filter(
        room=OuterRef("pk"), status__in=Booking.ACTIVE, span__overlap=make_span(start, end)
    )
    return rooms(bookable_only=True, **filters).exclude(Exists(busy))


def visible_title(booking_title: str, *, private: bool, organizer_id: int, viewer) -> str | None:
    """Private titles show only to their organizer and to facility admins."""
    if not private or (viewer is not None and (viewer.pk == organizer_id or viewer.is_staff)):
        return booking_title
    return None


def bookings_in_range(
    *, room_id: int, start: datetime, end: datetime, include_inactive: bool = False
) -> QuerySet[Booking]:
    qs = Booking.objects.filter(room_id=room_id, span__overlap=make_span(start, end))
    if not include_inactive:
        qs = qs.filter(status__in=Booking.ACTIVE)
    return qs.select_related("organizer").order_by("span")


def user_bookings(*, user, upcoming_from: datetime | None = None) -> QuerySet[Booking]:
    qs = Booking.objects.filter(organizer=user).select_related("room", "organizer")
    if upcoming_from is not None:
        qs = qs.filter(span__endswith__gt=upcoming_from)
    return qs.order_by("span")


def day_span(day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to midnight; 23 or 25 hours on daylight-saving days."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


@dataclass
class RoomDay:
    room: Room
    start: datetime
    end: datetime
    bookings: list = field(default_factory=list)


def day_plan(*, day: date, building: int | None = None, site: int | None = None) -> list[RoomDay]:
    """Every room (of a building, a site, or all) with its active bookings that day.

    Two queries: the rooms, then every overlapping booking; days are each site's own.
    """
    room_list = list(rooms(building=building, site=site))
    windows = {}
    for room in room_list:
        site_obj = room.floor.building.site
        if site_obj.pk not in windows:
            windows[site_obj.pk] = day_span(day, site_obj.tz)
    plans = [RoomDay(room, *windows[r.floor.building.site_id]) for r in room_list]
    if not plans:
        return plans
    earliest = min(w[0] for w in windows.values())
    latest = max(w[1] for w in windows.values())
    by_room: dict[int, list] = defaultdict(list)
    room_filter = Q(room__floor__building_id=building) if building else Q()
    if site:
        room_filter &= Q(room__floor__building__site_id=site)
    for row in (
        Booking.objects.filter(
            room_filter, status__in=Booking.ACTIVE, span__overlap=make_span(earliest, latest)
        )
        .order_by("span")
        .values("id", "room_id", "span", "title", "private", "status", "organizer_id", "organizer__username")
    ):
        by_room[row["room_id"]].append(row)
    for plan in plans:
        plan.bookings = [
            b
            for b in by_room.get(plan.room.pk, [])
            if b["span"].lower < plan.end and plan.start < b["span"].upper
        ]
    return plans
