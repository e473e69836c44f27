"""Reads shaped for the staff pages.

Each function runs a fixed number of queries whatever the number of rooms or
bookings; the shaping (free gaps, alternatives, positions on a time axis) happens
in Python on the rows those queries returned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q

from . import recurrence, selectors
from .models import Booking, Building, Equipment, Room, Site
from .rules.groups import closed_rooms, read_only_rooms
from .spans import START_GRACE, make_span

# The hours a plan shows unless a booking reaches further.
DAY_FROM, DAY_TO = 7, 20
# Free gaps shorter than this are not offered for booking.
MIN_GAP = timedelta(minutes=15)
STEP = timedelta(minutes=5)


def ceil_time(moment: datetime, step: timedelta = STEP) -> datetime:
    """The next step boundary at or after ``moment`` (seconds dropped)."""
    moment = moment.replace(second=0, microsecond=0)
    minutes = moment.minute % int(step.total_seconds() // 60)
    return moment if not minutes else moment + step - timedelta(minutes=minutes)


def buildings() -> list[Building]:
    """Every building with its site, by site and name: one query."""
    return list(Building.objects.select_related("site").order_by("site__name", "name"))


def equipment() -> list[Equipment]:
    return list(Equipment.objects.order_by("name"))


def bookable_rooms(*, site_id: int | None = None) -> list[Room]:
    """Bookable rooms grouped for a select (by site, building, name): one query."""
    qs = Room.objects.filter(bookable=True).select_related("floor__building__site")
    if site_id is not None:
        qs = qs.filter(floor__building__site_id=site_id)
    return list(qs.order_by("floor__building__site__name", "floor__building__name", "name"))


def room_with_place(room_id: int) -> Room | None:
    return (
        Room.objects.select_related("floor__building__site")
        .prefetch_related("equipment")
        .filter(pk=room_id)
        .first()
    )


def free_rooms(
    *,
    start: datetime,
    end: datetime,
    site_id: int,
    building_id=None,
    people=None,
    codes=(),
    limit=50,
    viewer=None,
) -> tuple[list[Room], bool]:
    """The best-fitting free rooms (smallest first) and whether more fit.

    With a viewer, rooms they may not book then (who-may-book, blockings) are left out:
    two to four queries.
    """
    qs = selectors.free_rooms(
        start=start,
        end=end,
        site=site_id,
        building=building_id,
        min_capacity=people,
        equipment=list(codes),
    ).prefetch_related("equipment")
    found = list(qs[: limit + 1])
    if viewer is not None and found:
        hidden = read_only_rooms(viewer, found) | closed_rooms(viewer, found, start, end)
        found = [r for r in found if r.pk not in hidden]
    return found[:limit], len(found) > limit


# --- alternatives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    room: Room
    start: datetime
    end: datetime
    kind: str = ""

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class Alternatives:
    shifted: list[Slot] = field(default_factory=list)
    shorter: list[Slot] = field(default_factory=list)
    elsewhere: list[Slot] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.shifted or self.shorter or self.elsewhere)


def alternatives(
    *,
    site_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    room: Room | None = None,
    building_id: int | None = None,
    people: int | None = None,
    codes=(),
    per_kind: int = 3,
) -> Alternatives:
    """Where and when else: ±30/60 minutes, a shorter slot, other rooms or buildings.

    ``room`` given: alternatives to that room (its neighbours count as elsewhere);
    otherwise to the rooms matching the filters in ``building_id``. Two queries.
    """
    candidates = list(
        selectors.rooms(site=site_id, min_capacity=people, equipment=list(codes), bookable_only=True)
    )
    if room is not None:
        home = [room]
        others = [r for r in candidates if r.pk != room.pk]
        # The same building first, then the rest of the site; smallest first within each.
        others.sort(key=lambda r: (r.floor.building_id != room.floor.building_id, r.capacity, r.name))
    else:
        home = [r for r in candidates if building_id is None or r.floor.building_id == building_id]
        others = [r for r in candidates if building_id is not None and r.floor.building_id != building_id]
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    window = make_span(start - timedelta(minutes=60), end + timedelta(minutes=60))
    for room_id, span in Booking.objects.filter(
        room__floor__building__site_id=site_id, status__in=Booking.ACTIVE, span__overlap=window
    ).values_list("room_id", "span"):
        busy[room_id].append((span.lower, span.upper))

    def is_free(r: Room, s: datetime, e: datetime) -> bool:
        return all(not (b0 < e and s < b1) for b0, b1 in busy[r.pk])

    found = Alternatives()
    earliest = now - START_GRACE
    for minutes in (30, -30, 60, -60):
        delta = timedelta(minutes=minutes)
        s, e = start + delta, end + delta
        if s < earliest:
            continue
        free_here = [r for r in home if is_free(r, s, e)][:2]
        found.shifted.extend(Slot(r, s, e, "later" if minutes > 0 else "earlier") for r in free_here)
    found.shifted = found.shifted[: per_kind * 2]

    for r in home:
        overlapping = sorted((b0, b1) for b0, b1 in busy[r.pk] if b0 < end and start < b1)
        if not overlapping:
            continue
        first_start = overlapping[0][0]
        if first_start - start >= MIN_GAP:
            found.shorter.append(Slot(r, start, first_start, "until"))
        last_end = max(b1 for _b0, b1 in overlapping)
        if end - last_end >= MIN_GAP and is_free(r, last_end, end):
            found.shorter.append(Slot(r, last_end, end, "from"))
    found.shorter.sort(key=lambda slot: (-slot.minutes, slot.room.capacity))
    found.shorter = found.shorter[:per_kind]

    found.elsewhere = [Slot(r, start, end, "room") for r in others if is_free(r, start, end)][:per_kind]
    return found


# --- time axes: the building plan and a room's week -----------------------------------


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


def hour_range(day: date, tz, spans) -> tuple[int, int]:
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


def day_axis(day: date, tz, now: datetime, hours: tuple[int, int]) -> Axis:
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


def lay_out(track: Track, rows: list[dict], axis: Axis, *, viewer, now: datetime) -> Track:
    """Blocks for the bookings and bookable gaps between them, clipped to the axis."""
    cursor = max(axis.start, ceil_time(now))
    for row in sorted(rows, key=lambda r: r["span"].lower):
        s, e = row["span"].lower, row["span"].upper
        title = selectors.visible_title(
            row["title"], private=row["private"], organizer_id=row["organizer_id"], viewer=viewer
        )
        left, right = axis.position(s), axis.position(e)
        track.blocks.append(
            Block(
                id=row["id"],
                start=s,
                end=e,
                title=title,
                organizer=row.get("organizer__username") if title is not None else None,
                mine=row["organizer_id"] == viewer.pk,
                left=left,
                width=max(right - left, 0.4),
            )
        )
        if track.room.bookable and track.can_book and s - cursor >= MIN_GAP:
            track.gaps.append(_gap(axis, cursor, s))
        cursor = max(cursor, e)
    if track.room.bookable and track.can_book and axis.end - cursor >= MIN_GAP:
        track.gaps.append(_gap(axis, cursor, axis.end))
    return track


def _gap(axis: Axis, start: datetime, end: datetime) -> Gap:
    left = axis.position(start)
    return Gap(start=start, end=end, left=left, width=axis.position(end) - left)


@dataclass
class Plan:
    axis: Axis
    floors: list[tuple[str, list[Track]]]
    room_count: int


def building_day(*, building: Building, day: date, viewer, now: datetime) -> Plan:
    """Every room of a building on a local day, grouped by floor: two queries."""
    plans = selectors.day_plan(day=day, building=building.pk)
    return _plan(plans, day=day, tz=building.site.tz, viewer=viewer, now=now, with_building=False)


def site_day(*, site: Site, day: date, viewer, now: datetime) -> Plan:
    """Every room of a site on a local day, grouped by building and floor: two queries."""
    plans = selectors.day_plan(day=day, site=site.pk)
    return _plan(plans, day=day, tz=site.tz, viewer=viewer, now=now, with_building=True)


def _plan(plans, *, day: date, tz, viewer, now: datetime, with_building: bool) -> Plan:
    spans = [(b["span"].lower, b["span"].upper) for p in plans for b in p.bookings]
    axis = day_axis(day, tz, now, hour_range(day, tz, spans))
    by_floor: dict[tuple, list[Track]] = defaultdict(list)
    read_only = read_only_rooms(viewer, [p.room for p in plans])
    for p in plans:
        floor = p.room.floor
        building = floor.building.name if with_building else ""
        track = Track(room=p.room, day=day, can_book=p.room.pk not in read_only)
        track = lay_out(track, p.bookings, axis, viewer=viewer, now=now)
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


def room_week(*, room: Room, monday: date, viewer, now: datetime, can_book: bool = True) -> list[WeekDay]:
    """A room's seven local days on one shared hour range: one query."""
    tz = room.floor.building.site.tz
    week_start = datetime.combine(monday, time.min, tzinfo=tz)
    week_end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)
    rows = list(
        Booking.objects.filter(
            room=room, status__in=Booking.ACTIVE, span__overlap=make_span(week_start, week_end)
        )
        .order_by("span")
        .values("id", "span", "title", "private", "organizer_id", "organizer__username")
    )
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
        week.append(WeekDay(axis, lay_out(track, todays, axis, viewer=viewer, now=now)))
    return week


# --- my bookings and series -----------------------------------------------------------


def my_bookings(*, user, now: datetime, past_limit: int = 50, upcoming_limit: int = 300):
    """The user's upcoming active bookings and their most recent past or cancelled ones."""
    base = Booking.objects.filter(organizer=user).select_related("room__floor__building__site", "series")
    upcoming = list(
        base.filter(status__in=Booking.ACTIVE, span__endswith__gt=now).order_by("span")[:upcoming_limit]
    )
    past = list(
        base.filter(Q(span__endswith__lte=now) | ~Q(status__in=Booking.ACTIVE)).order_by("-span")[:past_limit]
    )
    return upcoming, past


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
                title = selectors.visible_title(
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
