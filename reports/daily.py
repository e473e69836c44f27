"""Figures per room and site-local day, and the roll-up table that keeps them for finished days.

A year of a few thousand rooms is a million room-days but ten million bookings: the
reports add up days, and a day's figures are computed from the bookings of that day only
(each booking joined to the days it covers, never to the whole period). The rules are
those of reports/utilisation.py: bookable time from the nearest policy's hours minus
blockings, booked and used time inside it, no-shows counted on the day a booking starts.

Only finished days are stored (a day of today may still change by the minute); a report
reads the stored rows and computes any day without a row live, so the roll-up makes
reports fast and is never needed for them to be right. The stored rows follow changes:
the audit log's new events name the bookings changed (and, for a move, where they were),
blockings made or lifted name their places, and each night yesterday is added.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from bookings.models import Room

from .models import HOUR_COLUMNS, RollupMark

# %(w_rooms)s, %(w_first)s, %(w_stop)s: per room the local days first (inclusive) to stop.
DAILY = """
WITH rooms AS (
    SELECT r.id, s.time_zone AS tz, b.id AS building_id, s.id AS site_id, w.first, w.stop,
           tstzrange(w.first::timestamp AT TIME ZONE s.time_zone,
                     w.stop::timestamp AT TIME ZONE s.time_zone, '[)') AS period
    FROM unnest(%(w_rooms)s::bigint[], %(w_first)s::date[], %(w_stop)s::date[]) AS w(room_id, first, stop)
    JOIN bookings_room r ON r.id = w.room_id
    JOIN bookings_floor f ON f.id = r.floor_id
    JOIN bookings_building b ON b.id = f.building_id
    JOIN bookings_site s ON s.id = b.site_id
    WHERE w.first < w.stop
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
    SELECT rooms.id AS room_id, rooms.tz, d::date AS day,
           tstzrange(d::date::timestamp AT TIME ZONE rooms.tz,
                     (d::date + 1)::timestamp AT TIME ZONE rooms.tz, '[)') AS span
    FROM rooms CROSS JOIN generate_series(rooms.first, rooms.stop - 1, interval '1 day') AS d
),
open AS (
    SELECT days.room_id, days.day,
           range_agg(tstzrange(
               (days.day + coalesce(h.opens, time '00:00')) AT TIME ZONE days.tz,
               CASE WHEN h.id IS NULL THEN (days.day + 1)::timestamp AT TIME ZONE days.tz
                    ELSE (days.day + h.closes) AT TIME ZONE days.tz END,
               '[)')) AS time
    FROM days
    JOIN hours_policy hp ON hp.room_id = days.room_id
    LEFT JOIN bookings_policyhours h
        ON h.policy_id = hp.policy_id AND h.weekday = extract(isodow FROM days.day)
    WHERE hp.policy_id IS NULL OR h.id IS NOT NULL
    GROUP BY days.room_id, days.day
),
closed AS (
    SELECT days.room_id, days.day, range_agg(bl.span) AS time
    FROM days
    JOIN rooms ON rooms.id = days.room_id
    JOIN bookings_blocking bl
        ON (bl.room_id = rooms.id OR bl.building_id = rooms.building_id OR bl.site_id = rooms.site_id)
       AND bl.cancelled_at IS NULL AND bl.span && days.span
    GROUP BY days.room_id, days.day
),
bookable AS (
    SELECT days.room_id, days.day, days.tz, days.span,
           coalesce(open.time, '{}'::tstzmultirange) * tstzmultirange(days.span)
             - coalesce(closed.time, '{}'::tstzmultirange) AS time
    FROM days
    LEFT JOIN open ON open.room_id = days.room_id AND open.day = days.day
    LEFT JOIN closed ON closed.room_id = days.room_id AND closed.day = days.day
),
held AS MATERIALIZED (
    -- What each booking held (a released booking: its span before the release), on each
    -- local day it touches. Materialised: inlined, the planner may scan a room's bookings
    -- once per day instead of joining them to their days once.
    SELECT held.*, d::date AS day
    FROM (
        SELECT bk.room_id, bk.status, bk.cancelled_at, rooms.tz,
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
    ) AS held
    CROSS JOIN generate_series((lower(held.span) AT TIME ZONE held.tz)::date,
                               (upper(held.span) AT TIME ZONE held.tz)::date, interval '1 day') AS d
),
taken AS (
    SELECT held.room_id, held.day,
           range_agg(held.span) FILTER (WHERE held.status IN ('confirmed', 'released')) AS booked,
           range_agg(held.span) FILTER (WHERE held.status = 'confirmed') AS used,
           count(*) FILTER (WHERE lower(held.span) <@ days.span) AS bookings,
           count(*) FILTER (WHERE lower(held.span) <@ days.span AND held.status = 'released') AS released,
           count(*) FILTER (WHERE lower(held.span) <@ days.span AND held.status = 'cancelled'
                            AND held.cancelled_at > lower(held.span) - interval '1 hour') AS late_cancelled
    FROM held
    JOIN days ON days.room_id = held.room_id AND days.day = held.day
    GROUP BY held.room_id, held.day
),
figures AS (
    SELECT bookable.room_id, bookable.day, bookable.tz, bookable.time AS bookable,
           coalesce(taken.booked, '{}'::tstzmultirange) * bookable.time AS booked,
           coalesce(taken.used, '{}'::tstzmultirange) * bookable.time AS used,
           coalesce(taken.bookings, 0) AS bookings, coalesce(taken.released, 0) AS released,
           coalesce(taken.late_cancelled, 0) AS late_cancelled
    FROM bookable
    LEFT JOIN taken ON taken.room_id = bookable.room_id AND taken.day = bookable.day
)
SELECT room_id, day, {seconds_bookable} AS bookable_seconds, {seconds_booked} AS booked_seconds,
       {seconds_used} AS used_seconds, bookings, released, late_cancelled,
       CASE WHEN isempty(bookable) THEN array_fill(0, ARRAY[24]) ELSE ARRAY(
           SELECT {seconds_bookable_cell} FROM generate_series(0, 23) AS h ORDER BY h)
       END AS bookable_by_hour,
       CASE WHEN isempty(booked) THEN array_fill(0, ARRAY[24]) ELSE ARRAY(
           SELECT {seconds_booked_cell} FROM generate_series(0, 23) AS h ORDER BY h) END AS booked_by_hour
FROM figures
"""


def _seconds(multirange: str) -> str:
    return (
        f"(SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0)::int "  # noqa: S608
        f"FROM unnest({multirange}) AS r)"
    )


# One hour of the site's wall clock: on the night the clocks go forward 02:00 is empty,
# when they go back the repeated hour falls in the 01:00 cell (PostgreSQL reads the
# ambiguous 02:00 as the later instant).
_CELL = (
    "tstzmultirange(tstzrange((day + make_time(h, 0, 0)) AT TIME ZONE tz, "
    "(day + make_time(h, 0, 0) + interval '1 hour') AT TIME ZONE tz, '[)'))"
)

# Filled in by replace: the SQL's own braces ('{}' multiranges) are no format fields.
for _name, _sql in {
    "seconds_bookable": _seconds("bookable"),
    "seconds_booked": _seconds("booked"),
    "seconds_used": _seconds("used"),
    "seconds_bookable_cell": _seconds(f"bookable * {_CELL}"),
    "seconds_booked_cell": _seconds(f"booked * {_CELL}"),
}.items():
    DAILY = DAILY.replace("{" + _name + "}", _sql)

# Without the hourly figures: the sums per room and per week read only the unique index
# (its INCLUDE columns), not the wider rows.
SUMS = "room_id, day, bookable_seconds, booked_seconds, used_seconds, bookings, released, late_cancelled"
COLUMNS = ", ".join([SUMS, *HOUR_COLUMNS])
# The live rows' arrays as the stored rows' hour columns.
_LIVE_HOURS = ", ".join(
    f"{kind}_by_hour[{hour + 1}] AS {kind}_h{hour:02d}"
    for kind in ("bookable", "booked")
    for hour in range(24)
)

# Per room of a report: the first day not stored (its site's today, within the period), and
# whether every day of the period before it has a row; %(rooms)s, %(start)s, %(end)s.
COVERAGE = """
SELECT r.id, cut.day,
       (SELECT count(*) FROM reports_roomday d
        WHERE d.room_id = r.id AND d.day >= %(start)s::date AND d.day < cut.day) = cut.day - %(start)s::date
FROM bookings_room r
JOIN bookings_floor f ON f.id = r.floor_id
JOIN bookings_building b ON b.id = f.building_id
JOIN bookings_site s ON s.id = b.site_id
CROSS JOIN LATERAL (SELECT least(%(end)s::date, greatest(%(start)s::date,
                                 (now() AT TIME ZONE s.time_zone)::date)) AS day) AS cut
WHERE r.id = ANY(%(rooms)s)
"""

STORED = """
SELECT {columns} FROM reports_roomday d
JOIN unnest(%(s_rooms)s::bigint[], %(s_cut)s::date[]) AS s(room_id, cut) ON s.room_id = d.room_id
WHERE d.day >= %(start)s::date AND d.day < s.cut
"""


def figures_sql(room_ids: list[int], start: date, end: date, *, hourly: bool = False) -> tuple[str, dict]:
    """SQL for every (room, day) row of the period, and its parameters: the stored rows of
    rooms whose finished days are all stored, every other day computed live. Without
    ``hourly`` the rows lack the hourly figures (and the live days skip computing them)."""
    params: dict = {"rooms": room_ids, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(COVERAGE, params)
        coverage = cursor.fetchall()
    complete = [(room_id, cut) for room_id, cut, whole in coverage if whole]
    params |= {
        "s_rooms": [room_id for room_id, _cut in complete],
        "s_cut": [cut for _room_id, cut in complete],
        "w_rooms": [room_id for room_id, _cut, _whole in coverage],
        "w_first": [cut if whole else start for _room_id, cut, whole in coverage],
        "w_stop": [end] * len(coverage),
    }
    columns = COLUMNS if hourly else SUMS
    stored = STORED.format(columns=", ".join(f"d.{column}" for column in columns.split(", ")))
    # PostgreSQL leaves out a subquery's unused outputs, so the live arrays are not computed.
    live = f"{SUMS}, {_LIVE_HOURS}" if hourly else SUMS
    return f"(({stored}) UNION ALL (SELECT {live} FROM ({DAILY}) AS live))", params  # noqa: S608


_UPDATE = ", ".join(f"{column} = excluded.{column}" for column in [*COLUMNS.split(", ")[2:], "refreshed_at"])


def refresh(*, room_ids: list[int], start: date, end: date, now: datetime | None = None) -> int:
    """Store the rows of the rooms' finished days from start to end; returns how many."""
    now = now or timezone.now()
    stops = _finished_until(room_ids, now)
    wanted = {
        "w_rooms": room_ids,
        "w_first": [start] * len(room_ids),
        "w_stop": [min(end, stops[pk]) for pk in room_ids],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO reports_roomday ({COLUMNS}, refreshed_at)
            SELECT {SUMS}, {_LIVE_HOURS}, %(now)s FROM ({DAILY}) AS daily
            ON CONFLICT (room_id, day) DO UPDATE SET {_UPDATE}
            """,  # noqa: S608 (constant SQL; the input goes in as parameters)
            {**wanted, "now": now},
        )
        return cursor.rowcount


def _finished_until(room_ids: list[int], now: datetime) -> dict[int, date]:
    """Per room, its site's today: the first day not finished at ``now``."""
    rooms = Room.objects.filter(pk__in=room_ids).values_list("pk", "floor__building__site__time_zone")
    return {pk: timezone.localtime(now, _zone(tz)).date() for pk, tz in rooms}


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def roll_up_recent(*, days: int, now: datetime | None = None) -> int:
    """Store the last ``days`` finished days of every room (beat, nightly: yesterday and any
    day a stopped worker missed); returns the rows written."""
    now = now or timezone.now()
    room_ids = list(Room.objects.values_list("pk", flat=True))
    today = timezone.localtime(now).date()
    # Wide at the end: each room's own zone decides which days are finished.
    start, end = today - timedelta(days=days), today + timedelta(days=2)
    return refresh(room_ids=room_ids, start=start, end=end, now=now)


# Bookings whose days changed since the mark: every booking of a newer audit event, where
# it is and where a move took it from; and the rooms of blockings made or lifted since.
CHANGED = """
SELECT bk.room_id, lower(bk.span), greatest(upper(bk.span), coalesce((ev.changes -> 'end' ->> 0)::timestamptz,
                                                                       upper(bk.span)))
FROM bookings_bookingevent ev JOIN bookings_booking bk ON bk.id = ev.booking_id
WHERE ev.id > %(mark)s
UNION
SELECT coalesce((ev.changes -> 'room' ->> 0)::bigint, bk.room_id),
       coalesce((ev.changes -> 'span' -> 0 ->> 0)::timestamptz, lower(bk.span)),
       coalesce((ev.changes -> 'span' -> 0 ->> 1)::timestamptz, upper(bk.span))
FROM bookings_bookingevent ev JOIN bookings_booking bk ON bk.id = ev.booking_id
WHERE ev.id > %(mark)s AND (ev.changes ? 'room' OR ev.changes ? 'span')
UNION
SELECT r.id, lower(bl.span), upper(bl.span)
FROM bookings_blocking bl
JOIN bookings_room r ON true
JOIN bookings_floor f ON f.id = r.floor_id
JOIN bookings_building b ON b.id = f.building_id
WHERE (bl.room_id = r.id OR bl.building_id = b.id OR bl.site_id = b.site_id)
  AND (bl.created_at >= %(since)s OR bl.cancelled_at >= %(since)s)
"""

# Events younger than this may still have transactions with lower ids in flight: they are
# read again on the next run, so a late commit is never skipped.
SETTLE = timedelta(hours=1)


def refresh_changed(*, now: datetime | None = None) -> int:
    """Rewrite the stored days that changed since the last run (beat, every few minutes);
    returns the rows written."""
    now = now or timezone.now()
    with transaction.atomic():
        # One run at a time: the next waits here and then starts from this run's mark.
        mark, _ = RollupMark.objects.select_for_update().get_or_create(pk=1)
        since = (mark.checked_at or now) - SETTLE
        with connection.cursor() as cursor:
            cursor.execute(CHANGED, {"mark": mark.event_id, "since": since})
            changed = cursor.fetchall()
            cursor.execute(
                "SELECT max(id) FROM bookings_bookingevent WHERE id > %s AND at < %s",
                [mark.event_id, now - SETTLE],
            )
            settled = cursor.fetchone()[0]
        written = 0
        zones = dict(Room.objects.values_list("pk", "floor__building__site__time_zone"))
        days = set()
        for room_id, lower, upper in changed:
            if room_id not in zones:
                continue
            zone = _zone(zones[room_id])
            first = timezone.localtime(lower, zone).date()
            # Most changes are to days to come, which are not stored: nothing to rewrite.
            if first < timezone.localtime(now, zone).date():
                days.add((room_id, first, timezone.localtime(upper, zone).date() + timedelta(days=1)))
        for room_id, first, end in sorted(days):
            written += refresh(room_ids=[room_id], start=first, end=end, now=now)
        mark.event_id = settled or mark.event_id
        mark.checked_at = now
        mark.save()
    return written
