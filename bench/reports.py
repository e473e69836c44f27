"""The utilisation report benchmark: millions of bookings made inside PostgreSQL, a year's report timed.

    .venv/bin/python bench/reports.py --rooms 3850 --days 260      # 10 million bookings in a year
    .venv/bin/python bench/reports.py --rooms 385 --days 260       # 1 million

Uses the embedded PostgreSQL of var/bench-reports (never another data dir), migrates,
and fills one site's rooms with ten one-hour bookings on each of the last ``--days``
weekdays (08:00–18:00 Berlin; every tenth released for a missing check-in, every tenth
cancelled half an hour before, 1–8 people) with INSERT ... SELECT over generate_series,
batch by batch of rooms, through the real table with its exclusion constraints and
trigger. Idempotent: bookings already there are kept and counted. Then times each report
query (reports/utilisation.py) for the last 365 days of all the rooms and of one room,
each three times: live (no stored day, each day computed from its bookings) where that
is affordable, then after storing the daily roll-up (timed once), beside a baseline that
only counts the year's bookings. Prints a table; the embedded servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["RFR_DATA_DIR"] = str(ROOT / "var" / "bench-reports")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raumfuerraum.settings")

import django  # noqa: E402

from ops import runtime  # noqa: E402

runtime.ensure_services()
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.models import Booking, Building, Floor, Policy, PolicyHours, Room, Site  # noqa: E402
from reports import daily, utilisation  # noqa: E402
from reports.models import RoomDay  # noqa: E402

INSERT = """
INSERT INTO bookings_booking (room_id, organizer_id, title, span, status, source, attendees, private,
    version, buffer_before, buffer_after, series_exception, created_at, updated_at, cancelled_at)
SELECT r.id, %(organizer)s, 'Besprechung', tstzrange(start, start + interval '1 hour', '[)'),
       CASE WHEN n %% 10 = 0 THEN 'released' WHEN n %% 10 = 1 THEN 'cancelled' ELSE 'confirmed' END,
       'web', array_fill('gast@example.com'::varchar, ARRAY[n %% 8]), false,
       1, interval '0', interval '0', false, now(), now(),
       CASE WHEN n %% 10 = 1 THEN start - interval '30 minutes' END
FROM unnest(%(rooms)s::bigint[]) AS r(id)
CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
CROSS JOIN generate_series(8, 17) AS h
CROSS JOIN LATERAL (SELECT (d::date + make_time(h, 0, 0)) AT TIME ZONE 'Europe/Berlin' AS start,
                           (r.id * 31 + extract(doy FROM d)::int * 7 + h)::int AS n) AS s
WHERE extract(isodow FROM d) < 6
"""


def places(rooms: int) -> list[int]:
    site, _ = Site.objects.get_or_create(name="Bench Berlin", defaults={"time_zone": "Europe/Berlin"})
    building, _ = Building.objects.get_or_create(site=site, name="Bench Haus")
    floor, _ = Floor.objects.get_or_create(building=building, name="Bench EG")
    have = Room.objects.filter(floor=floor).count()
    Room.objects.bulk_create(
        Room(floor=floor, name=f"Bench {n:05d}", capacity=4 + n % 16) for n in range(have, rooms)
    )
    policy, created = Policy.objects.get_or_create(site=site)
    if created:
        PolicyHours.objects.bulk_create(
            PolicyHours(policy=policy, weekday=d, opens="07:00", closes="19:00") for d in range(1, 6)
        )
    return list(Room.objects.filter(floor=floor).order_by("pk").values_list("pk", flat=True)[:rooms])


def fill(room_ids: list[int], days: int, batch: int) -> None:
    organizer, _ = User.objects.get_or_create(username="bench-organizer")
    today = timezone.localdate()
    # Weekdays only: ``days`` weekdays back needs about 7/5 as many calendar days.
    first, last = today - timedelta(days=days * 7 // 5), today - timedelta(days=1)
    with_bookings = set(
        Booking.objects.filter(room_id__in=room_ids).values_list("room_id", flat=True).distinct()
    )
    todo = [pk for pk in room_ids if pk not in with_bookings]
    started = time.monotonic()
    for n in range(0, len(todo), batch):
        chunk = todo[n : n + batch]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT, {"organizer": organizer.pk, "rooms": chunk, "first": first, "last": last})
            made = cursor.rowcount
        elapsed = time.monotonic() - started
        print(f"  rooms {n + len(chunk)}/{len(todo)}: +{made} bookings, {elapsed:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")


def timed(label: str, run, repeat: int = 3) -> tuple[str, float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return label, min(times), max(times)


COPY_ROWS = f"""
INSERT INTO reports_roomday ({daily.COLUMNS}, refreshed_at)
SELECT extra.id, {", ".join("d." + column for column in daily.COLUMNS.split(", ")[1:])}, now()
FROM unnest(%(extra)s::bigint[]) WITH ORDINALITY AS extra(id, n)
JOIN reports_roomday d
    ON d.room_id = (%(real)s::bigint[])[1 + (extra.n - 1) %% cardinality(%(real)s::bigint[])]
ON CONFLICT (room_id, day) DO NOTHING
"""  # noqa: S608 (constant SQL)


def stored_rooms(real: list[int], rooms: int) -> list[int]:
    """Rooms whose stored days are copies of the real rooms' rows (no bookings of their own):
    what a report reads at a scale whose bookings take too long to make here."""
    site = Site.objects.get(name="Bench Berlin")
    building, _ = Building.objects.get_or_create(site=site, name="Bench Kopien")
    floor, _ = Floor.objects.get_or_create(building=building, name="Bench Kopien EG")
    have = Room.objects.filter(floor=floor).count()
    Room.objects.bulk_create(
        Room(floor=floor, name=f"Kopie {n:05d}", capacity=4 + n % 16) for n in range(have, rooms - len(real))
    )
    extra = list(
        Room.objects.filter(floor=floor).order_by("pk").values_list("pk", flat=True)[: rooms - len(real)]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(COPY_ROWS, {"extra": extra, "real": real})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_roomday")
    return real + extra


def report_rows(room_ids: list[int], start, end, label: str, repeat: int) -> list[tuple[str, float, float]]:
    year = {"room_ids": room_ids, "start": start, "end": end}
    one = {"room_ids": room_ids[:1], "start": start, "end": end}
    return [
        timed(f"per room, all rooms{label}", lambda: utilisation.per_room(**year), repeat),
        timed(f"week by week + a year before, all rooms{label}", lambda: utilisation.weekly(**year), repeat),
        timed(f"weekday × hour, all rooms{label}", lambda: utilisation.heat_map(**year), repeat),
        timed(f"per room, one room{label}", lambda: utilisation.per_room(**one), repeat),
    ]


def counting(sql: str, params: list):
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchone()

    return run


def table(title: str, rows: list[tuple[str, float, float]]) -> None:
    baseline = rows[0][1]
    print()
    print(title)
    print(f"| {'query (365 days)':<52} | {'best s':>7} | {'worst s':>7} | {'× baseline':>10} |")
    print(f"|{'-' * 54}|{'-' * 9}|{'-' * 9}|{'-' * 12}|")
    for label, best, worst in rows:
        print(f"| {label:<52} | {best:7.2f} | {worst:7.2f} | {best / baseline:10.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--days", type=int, default=1000, help="weekdays of bookings, back from yesterday")
    parser.add_argument("--batch", type=int, default=20, help="rooms per INSERT")
    parser.add_argument("--live", action="store_true", help="also time the reports with no stored day")
    parser.add_argument(
        "--stored-rooms", type=int, default=0, help="then time the reports over this many rooms' copied rows"
    )
    args = parser.parse_args()
    try:
        call_command("migrate", verbosity=0)
        room_ids = places(args.rooms)
        started = time.monotonic()
        fill(room_ids, args.days, args.batch)
        loaded = time.monotonic() - started
        total = Booking.objects.filter(room_id__in=room_ids).count()
        end = timezone.localdate()
        start = end - timedelta(days=365)
        year = {"room_ids": room_ids, "start": start, "end": end}
        count_year = counting(
            "SELECT count(*) FROM bookings_booking"
            " WHERE room_id = ANY(%s) AND span && tstzrange(%s::date, %s::date)",
            [room_ids, start, end],
        )
        rows = [timed("baseline: count the year's bookings", count_year)]
        RoomDay.objects.filter(room_id__in=room_ids).delete()
        if args.live:
            rows += report_rows(room_ids, start, end, " (live)", 1)
        # Two years: the weekly trend reads the year before too.
        two_years = {**year, "start": start - utilisation.YEAR_BEFORE}
        rows.append(timed("store the roll-up: 2 years of every room", lambda: daily.refresh(**two_years), 1))
        with connection.cursor() as cursor:
            # As autovacuum would: the visibility map lets the sums read the index alone.
            cursor.execute("VACUUM ANALYZE reports_roomday")
        rows += report_rows(room_ids, start, end, "", 3)
        rows += [
            timed("right-sizing, all rooms", lambda: utilisation.sizes(**year)),
            timed("no-shows per group, all rooms", lambda: utilisation.by_group(**year)),
        ]
        table(
            f"{total:,} bookings in {len(room_ids)} rooms (this run loaded for {loaded:.0f} s); "
            f"report {start} to {end - timedelta(days=1)}; {os.cpu_count()} cores",
            rows,
        )
        if args.stored_rooms > len(room_ids):
            every = stored_rooms(room_ids, args.stored_rooms)
            count_days = counting(
                "SELECT count(*) FROM reports_roomday WHERE room_id = ANY(%s) AND day >= %s AND day < %s",
                [every, start, end],
            )
            table(
                f"{len(every)} rooms' stored days ({len(room_ids)} measured above, the rest their copies)",
                [
                    timed("baseline: count the year's stored room-days", count_days),
                    *report_rows(every, start, end, "", 3),
                ],
            )
    finally:
        call_command("embedded", "stop")


if __name__ == "__main__":
    main()
