"""Who has which room on one local day: for the pages from the ORM, for the API in SQL.

``day_plan`` answers with Room instances and booking dicts, which the pages lay out on
a time axis (``timeline``). ``day_plan_rows`` answers the API's day plan, which clients
poll, in plain rows: no compiled ORM query, no model instances, and the bookings' bounds
read as integers, since parsing timestamps in Python alone took a fifth of its time
(docs/performance.md). tests/bookings/test_selectors.py holds the two to the same answers.
Either way each room's day is its own site's local day.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection
from django.db.models import Q

from ..combinations import share_bookings
from ..models import Booking, Room
from ..spans import make_span
from .places import rooms
from .privacy import title_rule
from .sql import ACTIVE_STATUSES

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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
    plans = [RoomDay(r, *windows[r.floor.building.site_id]) for r in room_list]
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
        .values(
            "id",
            "room_id",
            "span",
            "title",
            "private",
            "status",
            "organizer_id",
            # The organizer by name where colleagues see it (timeline.organizer_name).
            "organizer__username",
            "organizer__first_name",
            "organizer__last_name",
        )
    ):
        by_room[row["room_id"]].append(row)
    share_bookings(by_room, lambda row: row["span"].lower)
    for plan in plans:
        plan.bookings = [
            b
            for b in by_room.get(plan.room.pk, [])
            if b["span"].lower < plan.end and plan.start < b["span"].upper
        ]
    return plans


# --- the API's day plan in SQL -----------------------------------------------------


class DayRoom(NamedTuple):
    id: int
    name: str
    capacity: int
    building_id: int
    time_zone: str


class DayBooking(NamedTuple):
    """A row of DAY_BOOKINGS_SQL, in its order."""

    room_id: int
    id: int
    # Microseconds since 1970: psycopg reads a bigint in C, while Django's timestamptz
    # loader is Python and took a fifth of the day plan's time (two values per booking,
    # 790 a day).
    start_us: int
    end_us: int
    title: str
    private: bool
    status: str
    organizer_id: int


DAY_ROOMS_SQL = """
SELECT r.id, r.name, r.capacity, f.building_id, s.time_zone
  FROM bookings_room r
  JOIN bookings_floor f ON f.id = r.floor_id
  JOIN bookings_building b ON b.id = f.building_id
  JOIN bookings_site s ON s.id = b.site_id
 WHERE {where}
 ORDER BY r.capacity, r.name, r.id
"""
DAY_BOOKINGS_SQL = f"""
SELECT bk.room_id, bk.id,
       (extract(epoch FROM lower(bk.span)) * 1000000)::bigint,
       (extract(epoch FROM upper(bk.span)) * 1000000)::bigint,
       bk.title, bk.private, bk.status, bk.organizer_id
  FROM bookings_booking bk
  JOIN bookings_room r ON r.id = bk.room_id
  JOIN bookings_floor f ON f.id = r.floor_id
  JOIN bookings_building b ON b.id = f.building_id
 WHERE bk.status IN {ACTIVE_STATUSES} AND bk.span && %s AND {{where}}
 ORDER BY bk.span
"""  # noqa: S608 (ACTIVE_STATUSES is the model's constant, not input)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_epoch_us(value: int) -> datetime:
    """Microseconds since 1970 as an aware datetime in UTC (what the ORM would return)."""
    return EPOCH + timedelta(microseconds=value)


def _epoch_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def day_plan_rows(
    *, day: date, building: int | None = None, site: int | None = None
) -> list[tuple[DayRoom, list[DayBooking]]]:
    """``day_plan()`` as [(DayRoom, [DayBooking, ...]), ...]: two queries.

    Rooms in ``places.rooms()`` order, bookings by start, each room's day in its site's zone.
    """
    where, params = [], []
    if building is not None:
        where.append("f.building_id = %s")
        params.append(building)
    if site is not None:
        where.append("b.site_id = %s")
        params.append(site)
    where_sql = " AND ".join(where) or "TRUE"
    with connection.cursor() as cursor:
        cursor.execute(DAY_ROOMS_SQL.format(where=where_sql), params)
        room_list = [DayRoom(*row) for row in cursor.fetchall()]
        if not room_list:
            return []
        windows = {
            tz: tuple(_epoch_us(t) for t in day_span(day, zoneinfo.ZoneInfo(tz)))
            for tz in {r.time_zone for r in room_list}
        }
        earliest = min(w[0] for w in windows.values())
        latest = max(w[1] for w in windows.values())
        span = make_span(from_epoch_us(earliest), from_epoch_us(latest))
        cursor.execute(DAY_BOOKINGS_SQL.format(where=where_sql), [span, *params])
        by_room: dict[int, list[DayBooking]] = defaultdict(list)
        for booking in map(DayBooking._make, cursor.fetchall()):
            by_room[booking.room_id].append(booking)
    share_bookings(by_room, lambda booking: booking.start_us)
    if len(windows) == 1:  # one zone: the query already cut out exactly that day
        return [(room, by_room.get(room.id, [])) for room in room_list]
    plans = []
    for room in room_list:
        start, end = windows[room.time_zone]
        plans.append((room, [b for b in by_room.get(room.id, ()) if b.start_us < end and start < b.end_us]))
    return plans


def day_plan_dict(day: date, plans: list[tuple[DayRoom, list[DayBooking]]], viewer: User | None) -> dict:
    """The API's answer for ``day_plan_rows``; others' private titles hidden."""
    shown = title_rule(viewer)
    # Bookings start and end at a few dozen distinct times a day (the hour, the half
    # hour): format each once instead of twice per booking.
    stamps: dict[int, str] = {}

    def stamp(epoch_us: int) -> str:
        text = stamps.get(epoch_us)
        if text is None:
            text = stamps[epoch_us] = from_epoch_us(epoch_us).isoformat()
        return text

    rooms_out = []
    for room, bookings in plans:
        rooms_out.append(
            {
                "id": room.id,
                "name": room.name,
                "capacity": room.capacity,
                "building": room.building_id,
                "busy": [
                    {
                        "id": b.id,
                        "start": stamp(b.start_us),
                        "end": stamp(b.end_us),
                        "status": b.status,
                        "title": shown(b.title, b.private, b.organizer_id),
                    }
                    for b in bookings
                ],
            }
        )
    return {"date": day.isoformat(), "rooms": rooms_out}
