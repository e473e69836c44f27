"""The pages' plans on a time axis: a building's or a site's day, a room's week.

Each plan runs a fixed number of queries; the geometry (positions on the axis, blocks
for bookings, bookable gaps between them) is worked out in Python on their rows.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..combinations import name_parts
from ..models import Booking, Building, Room, Site
from ..rules.groups import closures, read_only_rooms
from ..spans import make_span
from .availability import MIN_GAP
from .dayplan import RoomDay, day_plan
from .privacy import visible_title

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
                organizer=_organizer_name(row) if title is not None else None,
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


def _organizer_name(row: Mapping[str, Any]) -> str | None:
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


def building_day(*, building: Building, day: date, viewer: User, now: datetime) -> Plan:
    """Every room of a building on a local day, grouped by floor: two queries."""
    plans = day_plan(day=day, building=building.pk)
    return _plan(plans, day=day, tz=building.site.tz, viewer=viewer, now=now, with_building=False)


def site_day(*, site: Site, day: date, viewer: User, now: datetime) -> Plan:
    """Every room of a site on a local day, grouped by building and floor: two queries."""
    plans = day_plan(day=day, site=site.pk)
    return _plan(plans, day=day, tz=site.tz, viewer=viewer, now=now, with_building=True)


def _plan(
    plans: list[RoomDay],
    *,
    day: date,
    tz: zoneinfo.ZoneInfo,
    viewer: User,
    now: datetime,
    with_building: bool,
) -> Plan:
    spans = [(b["span"].lower, b["span"].upper) for p in plans for b in p.bookings]
    axis = day_axis(day, tz, now, hour_range(day, tz, spans))
    by_floor: dict[tuple, list[Track]] = defaultdict(list)
    read_only = read_only_rooms(viewer, [p.room for p in plans])
    name_parts(p.room for p in plans)
    blocked = blockings_by_room([p.room for p in plans], axis.start, axis.end, viewer)
    for p in plans:
        floor = p.room.floor
        building = floor.building.name if with_building else ""
        track = Track(room=p.room, day=day, can_book=p.room.pk not in read_only)
        track = lay_out(track, p.bookings, axis, viewer=viewer, now=now, blockings=blocked.get(p.room.pk, ()))
        by_floor[(building, floor.level, floor.name)].append(track)
    floors = []
    for (building, _level, name), tracks in sorted(by_floor.items()):
        tracks.sort(key=lambda t: t.room.name)
        floors.append((f"{building} · {name}" if building else name, tracks))
    return Plan(axis=axis, floors=floors, room_count=len(plans))


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
