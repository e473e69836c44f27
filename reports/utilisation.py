"""Room utilisation for a period, computed in PostgreSQL, never by loading bookings.

Hours and per-room counts are sums of daily figures per room and site-local day
(reports/daily.py: stored for finished days, computed live for the rest); the rules
below say how a day's figures are made. No-shows per group and right-sizing read the
bookings directly. A meeting's size is its organizer plus its attendees, where an
attendee that is a distribution list counts with its members (the directory sync stores
them; integrations/directory/models.py, MailGroup).

Only bookable time counts: a room's hours are those of the nearest policy (room, then
building, then site) that lists any (bookings/rules/resolve.py reads them the same way),
and a place's blockings that were not lifted close the room. With no hours anywhere the
room is bookable all day. Days are the site's calendar days, so a day when the clocks
change has 23 or 25 hours, and opening hours are wall-clock times of the site's zone.

The times are PostgreSQL multiranges (tstzmultirange, PostgreSQL 14+): bookable time is
the union of the day's opening stretches minus the blockings; booked and used time are
the bookings' union intersected with it, so nothing outside opening hours and nothing
twice is counted.

- booked: confirmed bookings and those released for a missing check-in, the latter with
  the span they had before the release (the audit log's "end" change);
- used: confirmed bookings (checked in, or never asked to);
- no-shows: bookings released for a missing check-in, and bookings cancelled less than an
  hour before their start; the rate is over confirmed, released and cancelled bookings
  that start in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection

from bookings.models import Room

from . import daily

# Shared by every report: the rooms and their period, bookable time, what bookings held.
BASE = """
WITH rooms AS (
    SELECT r.id, r.name, r.capacity, s.time_zone AS tz, b.id AS building_id, s.id AS site_id,
           tstzrange(%(start)s::date::timestamp AT TIME ZONE s.time_zone,
                     %(end)s::date::timestamp AT TIME ZONE s.time_zone, '[)') AS period
    FROM bookings_room r
    JOIN bookings_floor f ON f.id = r.floor_id
    JOIN bookings_building b ON b.id = f.building_id
    JOIN bookings_site s ON s.id = b.site_id
    WHERE r.id = ANY(%(rooms)s)
),
hours_policy AS (
    SELECT rooms.id AS room_id, (
        SELECT p.id FROM bookings_policy p
        WHERE (p.room_id = rooms.id OR p.building_id = rooms.building_id OR p.site_id = rooms.site_id)
          AND EXISTS (SELECT 1 FROM bookings_policyhours h WHERE h.policy_id = p.id)
        ORDER BY (p.room_id IS NULL), (p.building_id IS NULL)
        LIMIT 1
    ) AS policy_id
    FROM rooms
),
days AS (
    SELECT d::date AS day
    FROM generate_series(%(start)s::date, %(end)s::date - 1, interval '1 day') AS d
),
open AS (
    SELECT rooms.id AS room_id,
           range_agg(tstzrange(
               (days.day + coalesce(h.opens, time '00:00')) AT TIME ZONE rooms.tz,
               CASE WHEN h.id IS NULL THEN (days.day + 1)::timestamp AT TIME ZONE rooms.tz
                    ELSE (days.day + h.closes) AT TIME ZONE rooms.tz END,
               '[)')) AS time
    FROM rooms
    JOIN hours_policy hp ON hp.room_id = rooms.id
    CROSS JOIN days
    LEFT JOIN bookings_policyhours h
        ON h.policy_id = hp.policy_id AND h.weekday = extract(isodow FROM days.day)
    WHERE hp.policy_id IS NULL OR h.id IS NOT NULL
    GROUP BY rooms.id
),
closed AS (
    SELECT rooms.id AS room_id, range_agg(bl.span) AS time
    FROM rooms
    JOIN bookings_blocking bl
        ON (bl.room_id = rooms.id OR bl.building_id = rooms.building_id OR bl.site_id = rooms.site_id)
       AND bl.cancelled_at IS NULL AND bl.span && rooms.period
    GROUP BY rooms.id
),
bookable AS (
    SELECT rooms.id AS room_id,
           coalesce(open.time, '{}'::tstzmultirange) * tstzmultirange(rooms.period)
             - coalesce(closed.time, '{}'::tstzmultirange) AS time
    FROM rooms
    LEFT JOIN open ON open.room_id = rooms.id
    LEFT JOIN closed ON closed.room_id = rooms.id
),
held AS (
    -- What each booking held: a released booking its span before the release.
    SELECT bk.room_id, bk.organizer_id, bk.status, bk.cancelled_at, bk.span AS starts,
           CASE WHEN bk.status = 'released' THEN tstzrange(
               lower(bk.span),
               greatest(upper(bk.span), coalesce(
                   (SELECT (ev.changes -> 'end' ->> 0)::timestamptz FROM bookings_bookingevent ev
                    WHERE ev.booking_id = bk.id AND ev.kind = 'released' LIMIT 1),
                   upper(bk.span))),
               '[)')
           ELSE bk.span END AS span
    FROM bookings_booking bk
    JOIN rooms ON rooms.id = bk.room_id
    WHERE bk.span && rooms.period AND bk.status IN ('confirmed', 'released', 'cancelled')
)
"""

PER_ROOM = """
SELECT r.id, r.name, r.capacity, coalesce(sum(f.bookable_seconds), 0), coalesce(sum(f.booked_seconds), 0),
       coalesce(sum(f.used_seconds), 0), coalesce(sum(f.bookings), 0), coalesce(sum(f.released), 0),
       coalesce(sum(f.late_cancelled), 0)
FROM bookings_room r
LEFT JOIN {figures} AS f ON f.room_id = r.id
WHERE r.id = ANY(%(rooms)s)
GROUP BY r.id, r.name, r.capacity
ORDER BY r.name, r.id
"""


@dataclass(frozen=True)
class RoomFigures:
    room_id: int
    name: str
    capacity: int
    bookable_hours: Decimal
    booked_hours: Decimal
    used_hours: Decimal
    bookings: int
    released: int
    late_cancelled: int

    @property
    def booked_share(self) -> Decimal | None:
        return _share(self.booked_hours, self.bookable_hours)

    @property
    def used_share(self) -> Decimal | None:
        return _share(self.used_hours, self.bookable_hours)

    @property
    def no_show_rate(self) -> Decimal | None:
        return _share(Decimal(self.released + self.late_cancelled), Decimal(self.bookings))


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    """A fraction rounded once, here, to four places (0.1234 = 12.34 %)."""
    if not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"))


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"))


def _run(sql: str, room_ids: list[int], start: date, end: date, *, hourly: bool = False) -> list[tuple]:
    """A query over the period's (room, day) figures, named {figures} in ``sql``."""
    figures, params = daily.figures_sql(room_ids, start, end, hourly=hourly)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(figures=figures), params)
        return cursor.fetchall()


def per_room(*, room_ids: list[int], start: date, end: date) -> list[RoomFigures]:
    """Figures per room for the site-local days start (inclusive) to end (exclusive)."""
    rows = _run(PER_ROOM, room_ids, start, end)
    return [
        RoomFigures(
            room_id=row[0],
            name=row[1],
            capacity=row[2],
            bookable_hours=_hours(row[3]),
            booked_hours=_hours(row[4]),
            used_hours=_hours(row[5]),
            bookings=row[6],
            released=row[7],
            late_cancelled=row[8],
        )
        for row in rows
    ]


# Weekday × hour of the site's wall clock, over all the rooms: bookable and booked hours
# in each cell (reports/daily.py says where the hours of a day when the clocks change go).
HEAT_MAP = """
SELECT extract(isodow FROM f.day)::int, {sums}
FROM {{figures}} AS f
GROUP BY 1
""".format(sums=", ".join(f"sum(f.bookable_h{h:02d}), sum(f.booked_h{h:02d})" for h in range(24)))

# People per used meeting against the seats: the organizer and each attendee, an attendee
# that is a distribution list of the directory with its member count (the directory's
# meeting size), anyone else as one. Read by address from the directory sync's table
# (integrations.directory.MailGroup): reports import nothing of the directory.
SIZES = (
    BASE  # noqa: S608 (constant SQL; the input goes in as parameters)
    + """
SELECT rooms.id, count(bk.id),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY 1 + (
           SELECT coalesce(sum(coalesce(
               (SELECT max(g.members) FROM directory_mailgroup g WHERE g.email = lower(a.address)), 1)), 0)
           FROM unnest(bk.attendees) AS a(address)))
FROM rooms
LEFT JOIN bookings_booking bk
    ON bk.room_id = rooms.id AND bk.status = 'confirmed' AND lower(bk.span) <@ rooms.period
GROUP BY rooms.id
"""
)


@dataclass(frozen=True)
class Cell:
    weekday: int  # 1 = Monday, as PolicyHours
    hour: int
    bookable_hours: Decimal
    booked_hours: Decimal

    @property
    def booked_share(self) -> Decimal | None:
        return _share(self.booked_hours, self.bookable_hours)


def heat_map(*, room_ids: list[int], start: date, end: date) -> list[Cell]:
    """Every weekday × hour cell (168) with its bookable and booked hours over the rooms."""
    found = {row[0]: row[1:] for row in _run(HEAT_MAP, room_ids, start, end, hourly=True)}
    zeros = (0,) * 48
    return [
        Cell(weekday, hour, _hours(sums[2 * hour]), _hours(sums[2 * hour + 1]))
        for weekday in range(1, 8)
        for sums in [found.get(weekday, zeros)]
        for hour in range(24)
    ]


@dataclass(frozen=True)
class Size:
    room_id: int
    capacity: int
    meetings: int
    median_people: Decimal | None

    @property
    def oversized(self) -> bool:
        """The median meeting uses less than a third of the seats."""
        return self.median_people is not None and self.median_people * 3 < self.capacity


def sizes(*, room_ids: list[int], start: date, end: date) -> dict[int, Size]:
    """Per room: how many used meetings started in the period, and their median head count."""
    capacities = dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "capacity"))
    with connection.cursor() as cursor:
        cursor.execute(SIZES, {"rooms": room_ids, "start": start, "end": end})
        rows = cursor.fetchall()
    return {
        room_id: Size(
            room_id,
            capacities[room_id],
            meetings,
            None if median is None else Decimal(str(median)).quantize(Decimal("0.1")),
        )
        for room_id, meetings, median in rows
    }


# Week by week (weeks start on Monday, in the site's calendar), over all the rooms.
WEEKLY = """
SELECT date_trunc('week', f.day)::date, sum(f.bookable_seconds), sum(f.booked_seconds)
FROM {figures} AS f
GROUP BY 1
ORDER BY 1
"""

# A year before, on the same weekdays: 52 weeks back.
YEAR_BEFORE = timedelta(weeks=52)


@dataclass(frozen=True)
class Week:
    monday: date
    bookable_hours: Decimal
    booked_hours: Decimal
    # The same week 52 weeks before; None without bookable hours or any booking then.
    booked_share_year_before: Decimal | None = None

    @property
    def booked_share(self) -> Decimal | None:
        return _share(self.booked_hours, self.bookable_hours)


def _weeks(room_ids: list[int], start: date, end: date) -> list[tuple[date, Decimal, Decimal]]:
    return [(row[0], _hours(row[1]), _hours(row[2])) for row in _run(WEEKLY, room_ids, start, end)]


def weekly(*, room_ids: list[int], start: date, end: date) -> list[Week]:
    """Booked share per week of the period, beside the same week a year before."""
    earlier = _weeks(room_ids, start - YEAR_BEFORE, end - YEAR_BEFORE)
    # Not a single booking then: the system was not in use yet, which is not 0 %.
    in_use = any(booked for _monday, _bookable, booked in earlier)
    before = {
        monday + YEAR_BEFORE: _share(booked, bookable) for monday, bookable, booked in earlier if in_use
    }
    return [
        Week(monday, bookable, booked, before.get(monday))
        for monday, bookable, booked in _weeks(room_ids, start, end)
    ]


# No-shows per group of the organizer (a booking counts for each of the organizer's groups;
# organizers in no group form one row of their own, group None).
BY_GROUP = (
    BASE  # noqa: S608 (constant SQL; the input goes in as parameters)
    + """
SELECT g.id, g.name,
       (SELECT count(*) FROM auth_user_groups m WHERE m.group_id = g.id),
       count(*),
       count(*) FILTER (WHERE held.status = 'released'),
       count(*) FILTER (WHERE held.status = 'cancelled'
                        AND held.cancelled_at > lower(held.starts) - interval '1 hour')
FROM held
JOIN rooms ON rooms.id = held.room_id
LEFT JOIN auth_user_groups ug ON ug.user_id = held.organizer_id
LEFT JOIN auth_group g ON g.id = ug.group_id
WHERE lower(held.starts) <@ rooms.period
GROUP BY g.id, g.name
ORDER BY g.name NULLS LAST
"""
)


@dataclass(frozen=True)
class GroupFigures:
    # None: the groups below the minimum size, merged (and organizers in no group).
    name: str | None
    bookings: int
    released: int
    late_cancelled: int

    @property
    def no_show_rate(self) -> Decimal | None:
        return _share(Decimal(self.released + self.late_cancelled), Decimal(self.bookings))


def by_group(*, room_ids: list[int], start: date, end: date) -> list[GroupFigures]:
    """No-shows per organizer group; groups with fewer than RFR_REPORT_MIN_GROUP_SIZE
    members are merged into one row (None), so no figure points at a few people."""
    with connection.cursor() as cursor:
        cursor.execute(BY_GROUP, {"rooms": room_ids, "start": start, "end": end})
        rows = cursor.fetchall()
    shown, merged = [], [0, 0, 0]
    for group_id, name, members, bookings, released, late in rows:
        if group_id is not None and members >= settings.RFR_REPORT_MIN_GROUP_SIZE:
            shown.append(GroupFigures(name, bookings, released, late))
        else:
            merged = [merged[0] + bookings, merged[1] + released, merged[2] + late]
    if merged[0]:
        shown.append(GroupFigures(None, *merged))
    return shown


def total(rooms: list[RoomFigures]) -> RoomFigures:
    """The rooms together (a building, a site): hours and counts added, shares recomputed."""
    return RoomFigures(
        room_id=0,
        name="",
        capacity=sum(r.capacity for r in rooms),
        bookable_hours=sum((r.bookable_hours for r in rooms), Decimal(0)),
        booked_hours=sum((r.booked_hours for r in rooms), Decimal(0)),
        used_hours=sum((r.used_hours for r in rooms), Decimal(0)),
        bookings=sum(r.bookings for r in rooms),
        released=sum(r.released for r in rooms),
        late_cancelled=sum(r.late_cancelled for r in rooms),
    )
