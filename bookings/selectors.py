"""Reads of the booking domain, shaped for the pages and the API.

Each selector runs a fixed number of queries whatever the number of rooms or
bookings, so the day plan of 200 rooms costs what the day plan of 2 costs.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Booking, Room
from .spans import make_span


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
    """Bookable rooms with no active booking (or its setup and cleanup time) in [start, end)."""
    busy = Booking.objects.filter(
        room=OuterRef("pk"), status__in=Booking.ACTIVE, blocked_span__overlap=make_span(start, end)
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


# --- The API's hot reads ------------------------------------------------------------
#
# The room list, the free-room search and the day plan are what clients poll. They are
# hand-written SQL returning plain tuples: with the ORM, compiling the queries took longer
# than PostgreSQL took to run them, and building a Room, Floor, Building and Site
# instance and an equipment manager per room took five times as long again. The rooms
# themselves change a few times a day, so each process keeps them in memory (Catalogue)
# for as long as the database's catalogue version stays the same (docs/performance.md).
# The ORM selectors above serve the staff pages; tests/bookings/test_selectors.py holds
# both to the same answers.

# "bk.status IN ('pending', 'confirmed')" below is Booking.ACTIVE, written out so the
# planner matches it with the predicate of the partial index booking_active_span.


class RoomRow(NamedTuple):
    id: int
    name: str
    capacity: int
    bookable: bool
    floor_id: int
    floor_name: str
    building_id: int
    building_name: str
    site_id: int
    site_name: str
    time_zone: str
    equipment: list[str]  # codes, by equipment name


@dataclass(frozen=True)
class Catalogue:
    """Every room with its place and equipment, as of one catalogue version."""

    # The database server's start and bookings_catalogueversion.n (migration 0004): the
    # number changes in the transaction of every change to the catalogue and is never
    # reused; the start time tells a restored or failed-over database from the old one.
    key: tuple
    rooms: tuple[RoomRow, ...]  # in rooms() order: smallest first
    by_id: dict[int, RoomRow]


CATALOGUE_KEY_SQL = "SELECT pg_postmaster_start_time(), n FROM bookings_catalogueversion"
CATALOGUE_SQL = """
SELECT pg_postmaster_start_time(), v.n,
       r.id, r.name, r.capacity, r.bookable, f.id, f.name, b.id, b.name, s.id, s.name, s.time_zone,
       coalesce(eq.codes, '{}')
  FROM bookings_catalogueversion v
  LEFT JOIN (bookings_room r
             JOIN bookings_floor f ON f.id = r.floor_id
             JOIN bookings_building b ON b.id = f.building_id
             JOIN bookings_site s ON s.id = b.site_id
             LEFT JOIN (SELECT re.room_id, array_agg(e.code ORDER BY e.name, e.id) AS codes
                          FROM bookings_room_equipment re
                          JOIN bookings_equipment e ON e.id = re.equipment_id
                         GROUP BY re.room_id) eq ON eq.room_id = r.id) ON TRUE
 ORDER BY r.capacity, r.name, r.id
"""
# The catalogue's key and the rooms busy at some time, read in one snapshot.
BUSY_ROOMS_SQL = """
SELECT pg_postmaster_start_time(), v.n,
       ARRAY(SELECT DISTINCT bk.room_id FROM bookings_booking bk
              WHERE bk.status IN ('pending', 'confirmed') AND bk.span && %s)
  FROM bookings_catalogueversion v
"""
# This process's copy, replaced whole (one reference assignment: safe across threads).
_catalogue: Catalogue | None = None


def catalogue(key: tuple | None = None) -> Catalogue:
    """The room catalogue, from memory while ``key`` (read now if not given) is unchanged.

    One small query to check; a new catalogue is loaded whole after any change (an admin
    edits rooms a few times a day; clients ask for them many times a second).
    """
    global _catalogue
    with connection.cursor() as cursor:
        if key is None:
            cursor.execute(CATALOGUE_KEY_SQL)
            key = tuple(cursor.fetchone())
        cached = _catalogue
        if cached is not None and cached.key == key:
            return cached
        cursor.execute(CATALOGUE_SQL)
        rows = cursor.fetchall()
    # Loaded in its own snapshot, so possibly newer than ``key``: never older.
    rooms = tuple(RoomRow(*row[2:]) for row in rows if row[2] is not None)
    _catalogue = Catalogue(key=tuple(rows[0][:2]), rooms=rooms, by_id={r.id: r for r in rooms})
    return _catalogue


def room_rows(
    *,
    building: int | None = None,
    site: int | None = None,
    min_capacity: int | None = None,
    equipment: list[str] | None = None,
    bookable_only: bool = False,
    free: tuple[datetime, datetime] | None = None,
) -> tuple[Catalogue, list[RoomRow]]:
    """``rooms()`` (or with ``free``, ``free_rooms()``) as RoomRows: one small query.

    The filters run in Python over the catalogue; with ``free``, the rooms busy then come
    from PostgreSQL in the same statement as the catalogue's key.
    """
    busy: set[int] = set()
    key = None
    if free is not None:
        with connection.cursor() as cursor:
            cursor.execute(BUSY_ROOMS_SQL, [make_span(*free)])
            start, version, busy_ids = cursor.fetchone()
        key, busy = (start, version), set(busy_ids)
    current = catalogue(key)
    codes = set(equipment or ())
    bookable_only = bookable_only or free is not None
    rows = [
        r
        for r in current.rooms
        if (building is None or r.building_id == building)
        and (site is None or r.site_id == site)
        and (not min_capacity or r.capacity >= min_capacity)
        and (not codes or codes.issubset(r.equipment))
        and (not bookable_only or r.bookable)
        and r.id not in busy
    ]
    return current, rows


class DayRoom(NamedTuple):
    id: int
    name: str
    capacity: int
    building_id: int
    time_zone: str


# (id, start, end, title, private, status, organizer_id); start and end in microseconds
# since 1970: psycopg reads a bigint in C, while Django's timestamptz loader is Python and
# took a fifth of the day plan's time (two values per booking, 790 a day).
DAY_ROOMS_SQL = """
SELECT r.id, r.name, r.capacity, f.building_id, s.time_zone
  FROM bookings_room r
  JOIN bookings_floor f ON f.id = r.floor_id
  JOIN bookings_building b ON b.id = f.building_id
  JOIN bookings_site s ON s.id = b.site_id
 WHERE {where}
 ORDER BY r.capacity, r.name, r.id
"""
DAY_BOOKINGS_SQL = """
SELECT bk.room_id, bk.id,
       (extract(epoch FROM lower(bk.span)) * 1000000)::bigint,
       (extract(epoch FROM upper(bk.span)) * 1000000)::bigint,
       bk.title, bk.private, bk.status, bk.organizer_id
  FROM bookings_booking bk
  JOIN bookings_room r ON r.id = bk.room_id
  JOIN bookings_floor f ON f.id = r.floor_id
  JOIN bookings_building b ON b.id = f.building_id
 WHERE bk.status IN ('pending', 'confirmed') AND bk.span && %s AND {where}
 ORDER BY bk.span
"""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_epoch_us(value: int) -> datetime:
    """Microseconds since 1970 as an aware datetime in UTC (what the ORM would return)."""
    return EPOCH + timedelta(microseconds=value)


def _epoch_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def day_plan_rows(*, day: date, building: int | None = None, site: int | None = None) -> list[tuple]:
    """``day_plan()`` as [(DayRoom, [booking row, ...]), ...]: two queries.

    Rooms in ``rooms()`` order, bookings by start, each room's day in its site's zone.
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
        by_room: dict[int, list] = defaultdict(list)
        for room_id, *booking in cursor.fetchall():
            by_room[room_id].append(booking)
    if len(windows) == 1:  # one zone: the query already cut out exactly that day
        return [(room, by_room.get(room.id, [])) for room in room_list]
    plans = []
    for room in room_list:
        start, end = windows[room.time_zone]
        plans.append((room, [b for b in by_room.get(room.id, ()) if b[1] < end and start < b[2]]))
    return plans


def released_bookings(*, since: datetime | None = None) -> QuerySet[Booking]:
    """No-shows: bookings released because nobody checked in (those starting at or after ``since``)."""
    qs = Booking.objects.filter(status=Booking.Status.RELEASED)
    return qs if since is None else qs.filter(span__startswith__gte=since)


def no_show_counts(*, since: datetime | None = None, organizer=None) -> dict[int, int]:
    """Released bookings per organizer id (only organizers with at least one)."""
    qs = released_bookings(since=since)
    if organizer is not None:
        qs = qs.filter(organizer=organizer)
    return dict(qs.order_by().values("organizer").annotate(n=Count("pk")).values_list("organizer", "n"))


def no_show_count_of_organizer(*, since: datetime | None = None):
    """``no_show_counts`` as an annotation for booking querysets: the organizer's no-shows."""
    counts = (
        released_bookings(since=since)
        .filter(organizer=OuterRef("organizer"))
        .order_by()
        .values("organizer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)
