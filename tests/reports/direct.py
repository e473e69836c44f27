"""The reports' first queries, over the whole period at once: the oracle for the daily roll-up.

reports/utilisation.py once ran these directly; they are exact but do not scale (each
weekday × hour cell met every booking of the year). tests/reports/test_rollup.py checks
that the roll-up and the live daily figures give exactly their numbers.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection

# The rooms, their period and bookable time: the CTE the reports share. The whole-period
# queries below are the oracle; what they start from is the reports' own.
from reports.utilisation import BASE

# ruff: noqa: S608 (constant SQL; the input goes in as parameters)

PER_ROOM = (
    BASE
    + """,
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
)


HEAT_MAP = (
    BASE
    + """,
booked AS (
    SELECT room_id, range_agg(span) AS time FROM held
    WHERE status IN ('confirmed', 'released') GROUP BY room_id
),
cells AS (
    SELECT extract(isodow FROM days.day)::int AS weekday, h AS hour,
           bookable.time * tstzmultirange(tstzrange(
               (days.day + make_time(h, 0, 0)) AT TIME ZONE rooms.tz,
               (days.day + make_time(h, 0, 0) + interval '1 hour') AT TIME ZONE rooms.tz, '[)')) AS open,
           coalesce(booked.time, '{}'::tstzmultirange) AS booked
    FROM rooms
    CROSS JOIN days
    CROSS JOIN generate_series(0, 23) AS h
    JOIN bookable ON bookable.room_id = rooms.id
    LEFT JOIN booked ON booked.room_id = rooms.id
)
SELECT weekday, hour,
       sum((SELECT coalesce(sum(upper(r) - lower(r)), '0') FROM unnest(open) AS r)),
       sum((SELECT coalesce(sum(upper(r) - lower(r)), '0') FROM unnest(open * booked) AS r))
FROM cells
GROUP BY weekday, hour
ORDER BY weekday, hour
"""
)

WEEKLY = (
    BASE
    + """,
booked AS (
    SELECT room_id, range_agg(span) AS time FROM held
    WHERE status IN ('confirmed', 'released') GROUP BY room_id
),
weeks AS (
    SELECT rooms.id AS room_id, w::date AS week,
           bookable.time * tstzmultirange(tstzrange(
               w AT TIME ZONE rooms.tz, (w + interval '7 days') AT TIME ZONE rooms.tz, '[)')) AS open,
           coalesce(booked.time, '{}'::tstzmultirange) AS booked
    FROM rooms
    CROSS JOIN generate_series(
        date_trunc('week', %(start)s::date::timestamp), %(end)s::date::timestamp - interval '1 day',
        interval '7 days') AS w
    JOIN bookable ON bookable.room_id = rooms.id
    LEFT JOIN booked ON booked.room_id = rooms.id
)
SELECT week,
       sum((SELECT coalesce(sum(upper(r) - lower(r)), '0') FROM unnest(open) AS r)),
       sum((SELECT coalesce(sum(upper(r) - lower(r)), '0') FROM unnest(open * booked) AS r))
FROM weeks
GROUP BY week
ORDER BY week
"""
)


def _hours(duration: timedelta) -> Decimal:
    return (Decimal(duration.days * 86400 + duration.seconds) / 3600).quantize(Decimal("0.01"))


def run(sql: str, room_ids, start, end) -> list[tuple]:
    """Rows with every interval turned into hours."""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"rooms": room_ids, "start": start, "end": end})
        rows = cursor.fetchall()
    return [tuple(_hours(v) if isinstance(v, timedelta) else v for v in row) for row in rows]
