"""The pages' plans on a time axis: a building's or a site's day, a room's week.

Each plan runs a fixed number of queries; the geometry (positions on the axis, blocks
for bookings, bookable gaps between them) is worked out in Python on their rows.
"""

from __future__ import annotations

import threading
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection

from ..combinations import name_parts, share_bookings
from ..models import Booking, Building, Room, Site
from ..rules.groups import closures, read_only_rooms
from ..spans import make_span
from .availability import MIN_GAP
from .catalogue import catalogue, catalogue_key
from .dayplan import day_span, from_epoch_us
from .places import buildings as places_buildings
from .places import equipment as places_equipment
from .places import rooms
from .privacy import visible_title
from .sql import ACTIVE_STATUSES

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The hours a plan shows unless a booking reaches further.
DAY_FROM, DAY_TO = 7, 20
STEP = timedelta(minutes=5)


def ceil_time(moment: datetime, step: timedelta = STEP) -> datetime:
    """The next step boundary at or after ``moment`` (seconds dropped)."""
    moment = moment.replace(second=0, microsecond=0)
    minutes = moment.minute % int(step.total_seconds() // 60)
    return moment if not minutes else moment + step - timedelta(minutes=minutes)


@dataclass
class Block:
    """A booking on a time axis; ``title`` is None where it is someone else's private one."""

    id: int
    start: datetime
    end: datetime
    title: str | None
    organizer: str | None
    mine: bool
    left: float
    width: float


@dataclass
class Closed:
    """A blocking on a time axis, with its reason; ``closes`` where it keeps the viewer out."""

    start: datetime
    end: datetime
    reason: str
    closes: bool
    left: float
    width: float


@dataclass
class Gap:
    """A free stretch on a time axis that can be booked."""

    start: datetime
    end: datetime
    left: float
    width: float

    @property
    def suggested_end(self) -> datetime:
        return min(self.end, self.start + timedelta(hours=1))


@dataclass
class Track:
    """One row of a plan: a room on a day, or a day of a room."""

    room: Room
    day: date
    blocks: list[Block] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    # False where a policy names who may book and the viewer is not among them.
    can_book: bool = True
    # A day plan's row before ``lay_out``: its bookings and blockings (see ``_plan``).
    bookings: Sequence[Mapping[str, Any]] = ()
    blockings: Sequence[tuple[Any, bool]] = ()


@dataclass
class Axis:
    start: datetime
    end: datetime
    hours: list[tuple[datetime, float]]
    now: float | None

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def position(self, moment: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        offset = (moment.astimezone(UTC) - self.start).total_seconds()
        return round(max(0.0, min(100.0, offset / total * 100)), 3)


def hour_range(
    day: date, tz: zoneinfo.ZoneInfo, spans: Iterable[tuple[datetime, datetime]]
) -> tuple[int, int]:
    """07–20 h, widened to the local hours the spans cover on that day (24 = midnight)."""
    midnight = datetime.combine(day, time.min, tzinfo=tz)
    next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    first, last = DAY_FROM, DAY_TO
    for s, e in spans:
        if not (s < next_midnight and midnight < e):
            continue
        s, e = max(s, midnight).astimezone(tz), min(e, next_midnight)
        first = min(first, s.hour)
        if e >= next_midnight:
            last = 24
        else:
            e = e.astimezone(tz)
            last = max(last, e.hour + (1 if e.minute or e.second else 0))
    return first, last


def day_axis(day: date, tz: zoneinfo.ZoneInfo, now: datetime, hours: tuple[int, int]) -> Axis:
    """The visible part of a local day, from hour to hour, with a tick for each hour."""
    first, last = hours
    start = datetime.combine(day, time(first), tzinfo=tz)
    end = (
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
        if last >= 24
        else datetime.combine(day, time(last), tzinfo=tz)
    )
    # In UTC: Python subtracts two times of one zone as wall-clock times, which would
    # misplace everything on a daylight-saving day.
    axis = Axis(start=start.astimezone(UTC), end=end.astimezone(UTC), hours=[], now=None)
    seen = set()
    for hour in range(first, last):
        tick = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        position = axis.position(tick)
        if position not in seen:  # the hour skipped when clocks go forward
            seen.add(position)
            axis.hours.append((tick, position))
    if axis.start <= now < axis.end:
        axis.now = axis.position(now)
    return axis


def lay_out(
    track: Track,
    rows: Sequence[Mapping[str, Any]],
    axis: Axis,
    *,
    viewer: User,
    now: datetime,
    blockings: Sequence[tuple[Any, bool]] = (),
) -> Track:
    """Blocks for the bookings, blocked time, and bookable gaps between them, clipped to the axis.

    ``blockings`` are (Blocking, closes-to-the-viewer); a gap is never offered inside one
    that closes the room to the viewer (the booking would be refused).
    """
    busy: list[tuple[datetime, datetime]] = []
    for blocking, closes in blockings:
        s, e = max(blocking.span.lower, axis.start), min(blocking.span.upper, axis.end)
        if s >= e:
            continue
        left = axis.position(s)
        track.closed.append(Closed(s, e, blocking.reason, closes, left, max(axis.position(e) - left, 0.4)))
        if closes:
            busy.append((s, e))
    cursor = max(axis.start, ceil_time(now))
    for row in sorted(rows, key=lambda r: r["span"].lower):
        s, e = row["span"].lower, row["span"].upper
        title = visible_title(
            row["title"], private=row["private"], organizer_id=row["organizer_id"], viewer=viewer
        )
        left, right = axis.position(s), axis.position(e)
        track.blocks.append(
            Block(
                id=row["id"],
                start=s,
                end=e,
                title=title,
                organizer=organizer_name(row) if title is not None else None,
                mine=row["organizer_id"] == viewer.pk,
                left=left,
                width=max(right - left, 0.4),
            )
        )
        busy.append((s, e))
    bookable = track.room.bookable and track.can_book
    for s, e in sorted(busy):
        if bookable and s - cursor >= MIN_GAP:
            track.gaps.append(_gap(axis, cursor, s))
        cursor = max(cursor, e)
    if bookable and axis.end - cursor >= MIN_GAP:
        track.gaps.append(_gap(axis, cursor, axis.end))
    return track


def organizer_name(row: Mapping[str, Any]) -> str | None:
    """The organizer as colleagues know them: their name, the login only where none is set."""
    full = f"{row.get('organizer__first_name') or ''} {row.get('organizer__last_name') or ''}".strip()
    return full or row.get("organizer__username")


def blockings_by_room(
    rooms: Sequence[Room], start: datetime, end: datetime, viewer: User
) -> dict[int, list[tuple[Any, bool]]]:
    """Per room, the blockings there in [start, end) and whether each keeps the viewer out."""
    drawn = closures(None, rooms, start, end)
    if not drawn:
        return {}
    closing = {b.pk for found in closures(viewer, rooms, start, end).values() for b in found}
    return {pk: [(b, b.pk in closing) for b in found] for pk, found in drawn.items()}


def _gap(axis: Axis, start: datetime, end: datetime) -> Gap:
    left = axis.position(start)
    return Gap(start=start, end=end, left=left, width=axis.position(end) - left)


@dataclass
class Plan:
    axis: Axis
    floors: list[tuple[str, list[Track]]]
    room_count: int


class Span(NamedTuple):
    """A booking's bounds as ``lay_out`` reads them (``row["span"].lower``)."""

    lower: datetime
    upper: datetime


# A plan's bookings in plain SQL: bounds as bigint microseconds (psycopg reads them in C;
# Django's timestamptz loader is Python), the organizer's login and name joined in. By room ids, not
# by joining the place: so the planner reads the day from the partial span index
# (booking_active_span) once instead of the exclusion index once per room, 20 times
# faster for a 200-room site (docs/performance.md).
PLAN_BOOKINGS_SQL = f"""
SELECT bk.room_id, bk.id,
       (extract(epoch FROM lower(bk.span)) * 1000000)::bigint,
       (extract(epoch FROM upper(bk.span)) * 1000000)::bigint,
       bk.title, bk.private, bk.organizer_id, u.username, u.first_name, u.last_name
  FROM bookings_booking bk
  JOIN {{users}} u ON u.id = bk.organizer_id
 WHERE bk.status IN {ACTIVE_STATUSES} AND bk.span && %s AND bk.room_id = ANY(%s::integer[])
 ORDER BY bk.span
"""  # noqa: S608 (ACTIVE_STATUSES is the model's constant, not input)


def plan_bookings(*, day: date, tz: zoneinfo.ZoneInfo, room_ids: list[int]) -> dict:
    """Per room, its active bookings on the local day (with those of rooms sharing a part):
    one query, as the dicts ``lay_out_row`` reads, with the bounds as microseconds (``us``)."""
    start, end = day_span(day, tz)
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    by_room: dict[int, list[dict]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(PLAN_BOOKINGS_SQL.format(users=users), [make_span(start, end), room_ids])
        for row in cursor.fetchall():
            room_id, pk, start_us, end_us, title, private, organizer_id, username, first, last = row
            by_room[room_id].append(
                {
                    "id": pk,
                    "us": (start_us, end_us),  # "span" is added by lay_out_row
                    "title": title,
                    "private": private,
                    "organizer_id": organizer_id,
                    "organizer__username": username,
                    "organizer__first_name": first,
                    "organizer__last_name": last,
                }
            )
    share_bookings(by_room, lambda row: row["us"][0])
    return by_room


# The rooms of a place, as model instances with their floor, building, site and parts'
# names, per process while the database's catalogue version (migration 0004) stays the
# same: a room, floor, building, site or combination changed is a new version.
_places: dict[tuple, Any] = {}
_places_lock = threading.Lock()


def _per_catalogue(what: tuple, load: Callable[[], Any], version: tuple | None = None) -> Any:
    key = (version or catalogue_key(), *what)
    found = _places.get(key)
    if found is None:
        found = load()  # read after the key: as new as the key, or newer
        with _places_lock:
            if len(_places) > 256:
                _places.clear()
            _places[key] = found
    return found


def plan_buildings() -> tuple[tuple, list[Building]]:
    """The catalogue's version and ``places.buildings()``, from memory while that version
    stays the same: one tiny query."""
    version = catalogue_key()
    return version, _per_catalogue(("buildings",), places_buildings, version)


def plan_equipment(version: tuple) -> list:
    """``places.equipment()`` from memory while the catalogue's version stays the same."""
    return _per_catalogue(("equipment",), places_equipment, version)


@dataclass(frozen=True)
class RoomFilter:
    """The plan's filter: at least ``people`` seats and every one of ``codes``."""

    people: int | None = None
    codes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.people or self.codes)

    def keep(self, room_list: list[Room], version: tuple | None) -> list[Room]:
        if self.codes:
            # The rooms' equipment codes from the catalogue, in memory for this version.
            by_id = catalogue(version).by_id
            wanted = set(self.codes)
            room_list = [r for r in room_list if r.pk in by_id and wanted.issubset(by_id[r.pk].equipment)]
        if self.people:
            room_list = [r for r in room_list if r.capacity >= self.people]
        return room_list


def _plan_rooms(*, building: int | None, site: int | None, version: tuple | None) -> list[Room]:
    def load() -> list[Room]:
        found = list(rooms(building=building, site=site))
        name_parts(found)
        return found

    return _per_catalogue(("rooms", building, site), load, version)


def building_day(
    *,
    building: Building,
    day: date,
    viewer: User,
    now: datetime,
    version: tuple | None = None,
    only: RoomFilter = RoomFilter(),
) -> Plan:
    """Every room of a building on a local day, grouped by floor; rows laid out by ``lay_out_row``.

    ``version``: the catalogue's, when the caller has read it (``plan_buildings``);
    ``only``: the rooms shown, when the viewer filters them.
    """
    return _plan(
        building=building.pk,
        site=None,
        day=day,
        tz=building.site.tz,
        viewer=viewer,
        now=now,
        version=version,
        only=only,
    )


def site_day(
    *,
    site: Site,
    day: date,
    viewer: User,
    now: datetime,
    version: tuple | None = None,
    only: RoomFilter = RoomFilter(),
) -> Plan:
    """Every room of a site on a local day, grouped by building and floor."""
    return _plan(
        building=None, site=site.pk, day=day, tz=site.tz, viewer=viewer, now=now, version=version, only=only
    )


def _plan(
    *,
    building: int | None,
    site: int | None,
    day: date,
    tz: zoneinfo.ZoneInfo,
    viewer: User,
    now: datetime,
    version: tuple | None,
    only: RoomFilter,
) -> Plan:
    """The rooms with their day's bookings and blockings, not laid out yet: a row is laid
    out (``lay_out_row``) only when its rendered fragment is not cached (views.plan_rows)."""
    room_list = _plan_rooms(building=building, site=site, version=version)
    if only:
        room_list = only.keep(room_list, version)
    by_room = plan_bookings(day=day, tz=tz, room_ids=[r.pk for r in room_list]) if room_list else {}
    # Every booking found meets the day, and a local hour never falls as time goes on, so
    # the earliest start and the latest end give hour_range's answer for all of them.
    found = [row["us"] for rows in by_room.values() for row in rows]
    spans = (
        [(from_epoch_us(min(us[0] for us in found)), from_epoch_us(max(us[1] for us in found)))]
        if found
        else []
    )
    axis = day_axis(day, tz, now, hour_range(day, tz, spans))
    by_floor: dict[tuple, list[Track]] = defaultdict(list)
    read_only = read_only_rooms(viewer, room_list)
    blocked = blockings_by_room(room_list, axis.start, axis.end, viewer)
    for room in room_list:
        floor = room.floor
        track = Track(
            room=room,
            day=day,
            can_book=room.pk not in read_only,
            bookings=by_room.get(room.pk, ()),
            blockings=blocked.get(room.pk, ()),
        )
        by_floor[(floor.building.name if site is not None else "", floor.level, floor.name)].append(track)
    floors = []
    for (building_name, _level, name), tracks in sorted(by_floor.items()):
        tracks.sort(key=lambda t: t.room.name)
        floors.append((f"{building_name} · {name}" if building_name else name, tracks))
    return Plan(axis=axis, floors=floors, room_count=len(room_list))


def lay_out_row(track: Track, axis: Axis, *, viewer: User, now: datetime) -> Track:
    """A plan's row laid out: blocks, gaps and blocked time from its bookings and blockings."""
    bookings = [
        {**row, "span": Span(from_epoch_us(row["us"][0]), from_epoch_us(row["us"][1]))}
        for row in track.bookings
    ]
    return lay_out(track, bookings, axis, viewer=viewer, now=now, blockings=track.blockings)


@dataclass
class WeekDay:
    axis: Axis
    track: Track


def room_week(
    *, room: Room, monday: date, viewer: User, now: datetime, can_book: bool = True
) -> list[WeekDay]:
    """A room's seven local days on one shared hour range: one query."""
    tz = room.floor.building.site.tz
    week_start = datetime.combine(monday, time.min, tzinfo=tz)
    week_end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)
    rows = list(
        Booking.objects.filter(
            room=room, status__in=Booking.ACTIVE, span__overlap=make_span(week_start, week_end)
        )
        .order_by("span")
        .values(
            "id",
            "span",
            "title",
            "private",
            "organizer_id",
            "organizer__username",
            "organizer__first_name",
            "organizer__last_name",
        )
    )
    blocked = blockings_by_room([room], week_start, week_end, viewer).get(room.pk, [])
    days = [monday + timedelta(days=n) for n in range(7)]
    spans = [(r["span"].lower, r["span"].upper) for r in rows]
    ranges = [hour_range(day, tz, spans) for day in days]
    # One hour range for the whole week, so the days line up.
    hours = (min(r[0] for r in ranges), max(r[1] for r in ranges))
    week = []
    for day in days:
        axis = day_axis(day, tz, now, hours)
        todays = [r for r in rows if r["span"].lower < axis.end and axis.start < r["span"].upper]
        track = Track(room=room, day=day, can_book=can_book)
        week.append(WeekDay(axis, lay_out(track, todays, axis, viewer=viewer, now=now, blockings=blocked)))
    return week
