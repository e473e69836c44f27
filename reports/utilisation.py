"""Room utilisation for a period, computed in PostgreSQL, never by loading bookings.

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

from django.db import connection

SQL = """
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
    SELECT bk.room_id, bk.status, bk.cancelled_at, bk.span AS starts,
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
),
taken AS (
    SELECT held.room_id,
           range_agg(held.span) FILTER (WHERE held.status IN ('confirmed', 'released')) AS booked,
           range_agg(held.span) FILTER (WHERE held.status = 'confirmed') AS used,
           count(*) FILTER (WHERE lower(held.starts) <@ rooms.period) AS bookings,
           count(*) FILTER (WHERE lower(held.starts) <@ rooms.period AND held.status = 'released')
               AS released,
           count(*) FILTER (WHERE lower(held.starts) <@ rooms.period AND held.status = 'cancelled'
                            AND held.cancelled_at > lower(held.starts) - interval '1 hour')
               AS late_cancelled
    FROM held JOIN rooms ON rooms.id = held.room_id
    GROUP BY held.room_id
)
SELECT rooms.id, rooms.name, rooms.capacity,
       (SELECT coalesce(sum(upper(r) - lower(r)), '0') FROM unnest(bookable.time) AS r),
       (SELECT coalesce(sum(upper(r) - lower(r)), '0')
        FROM unnest(coalesce(taken.booked, '{}'::tstzmultirange) * bookable.time) AS r),
       (SELECT coalesce(sum(upper(r) - lower(r)), '0')
        FROM unnest(coalesce(taken.used, '{}'::tstzmultirange) * bookable.time) AS r),
       coalesce(taken.bookings, 0), coalesce(taken.released, 0), coalesce(taken.late_cancelled, 0)
FROM rooms
JOIN bookable ON bookable.room_id = rooms.id
LEFT JOIN taken ON taken.room_id = rooms.id
ORDER BY rooms.name, rooms.id
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


def _hours(duration: timedelta) -> Decimal:
    return (Decimal(duration.days * 86400 + duration.seconds) / 3600).quantize(Decimal("0.01"))


def per_room(*, room_ids: list[int], start: date, end: date) -> list[RoomFigures]:
    """Figures per room for the site-local days start (inclusive) to end (exclusive)."""
    with connection.cursor() as cursor:
        cursor.execute(SQL, {"rooms": room_ids, "start": start, "end": end})
        rows = cursor.fetchall()
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
