"""Benchmark data: one site, N rooms in 8 buildings, three months of bookings, bench users.

Idempotent: a second run finds the bench site and changes nothing. A fixed random seed
makes every data dir hold the same bookings relative to the day it was seeded.

Seeded bookings are imports: status and source are set directly, the "no start in the
past" rule of the services does not apply, and each gets one ``created`` audit event
(plus a ``cancelled`` one when it was cancelled) but no outbox message, since nothing
outside needs to hear about made-up data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from bookings.management.commands.seed_demo import EQUIPMENT, TITLES
from bookings.models import (
    ApiToken,
    Booking,
    BookingEvent,
    Building,
    Equipment,
    Floor,
    Room,
    Series,
    Site,
)
from bookings.spans import make_span

SITE = "Benchmark"
TIME_ZONE = "Europe/Berlin"
BUILDINGS = 8
ROOMS_PER_FLOOR = 5
SEED = 20260
USER_PREFIX = "bench"
BENCH_LABEL = "seed_bench"  # the name of the bench users' API tokens
# Capacities from a phone booth to the auditorium; small rooms are the common ones.
CAPACITIES = [4, 4, 6, 6, 8, 8, 10, 12, 12, 16, 20, 24, 30, 40, 60, 80, 120, 200, 400]
DAYS_BACK, DAYS_AHEAD = 30, 60
# Half-hour grid from 08:00; a booking ends by 19:00.
FIRST_SLOT, SLOTS = time(8), 22
MAX_LENGTH = 6  # 3 hours
SERIES_SHARE = 0.05
PENDING_SHARE, CANCELLED_SHARE, PRIVATE_SHARE = 0.04, 0.06, 0.1


@dataclass
class Planned:
    room: int  # index into the room list
    day: date
    slot: int
    length: int
    status: str
    series: int | None = None  # index into the planned series


def bench_token(username: str) -> str:
    """The bench user's bearer token: derived from SECRET_KEY, so reruns find the same one."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"seed_bench:{username}".encode(), hashlib.sha256)
    return "rfr_" + base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def benchmark_day(site: Site) -> date | None:
    """The site's weekday with the most active bookings (the earliest of equals)."""
    row = (
        Booking.objects.filter(room__floor__building__site=site, status__in=Booking.ACTIVE)
        .annotate(day=TruncDate(F("span__startswith"), tzinfo=site.tz))
        .filter(day__iso_week_day__lte=5)
        .values("day")
        .annotate(n=Count("id"))
        .order_by("-n", "day")
        .first()
    )
    return row["day"] if row else None


class Command(BaseCommand):
    help = "Create the benchmark data set (safe to run again: a second run changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--rooms", type=int, default=200)
        parser.add_argument("--bookings", type=int, default=20000)
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument(
            "--tokens-file", type=Path, help="Write the bench users' bearer tokens here, one a line."
        )

    def handle(self, *args, rooms: int, bookings: int, users: int, tokens_file: Path | None, **options):
        if rooms < 1 or bookings < 0 or users < 1:
            raise CommandError("--rooms and --users must be positive, --bookings not negative.")
        started = timezone.now()
        with transaction.atomic():
            site = Site.objects.filter(name=SITE).first()
            if site is not None:
                self._check_same_size(site, rooms, bookings)
                self.stdout.write(
                    f"Benchmark data already seeded ({rooms} rooms, {bookings} bookings); nothing changed."
                )
            else:
                self._seed(rooms=rooms, bookings=bookings, users=users, now=started)
                seconds = (timezone.now() - started).total_seconds()
                self.stdout.write(f"Seeded {rooms} rooms and {bookings} bookings in {seconds:.1f} s.")
            site = Site.objects.get(name=SITE)
        names = list(
            get_user_model()
            .objects.filter(username__startswith=USER_PREFIX, api_tokens__name=BENCH_LABEL)
            .distinct()
            .order_by("username")
            .values_list("username", flat=True)
        )
        if tokens_file is not None:
            tokens_file.parent.mkdir(parents=True, exist_ok=True)
            tokens_file.write_text("".join(bench_token(name) + "\n" for name in names))
            tokens_file.chmod(0o600)
            self.stdout.write(f"{len(names)} bearer tokens in {tokens_file}")
        day = benchmark_day(site)
        self.stdout.write(f"benchmark day: {day.isoformat() if day else '-'}")

    def _check_same_size(self, site: Site, rooms: int, bookings: int) -> None:
        have_rooms = Room.objects.filter(floor__building__site=site).count()
        # Bookings made through the API since (the benchmark's own) don't count.
        have_bookings = Booking.objects.filter(
            room__floor__building__site=site, source=Booking.Source.IMPORT
        ).count()
        if (have_rooms, have_bookings) != (rooms, bookings):
            raise CommandError(
                f"The benchmark site holds {have_rooms} rooms and {have_bookings} bookings, not "
                f"{rooms} and {bookings}; use a fresh RFR_DATA_DIR for other sizes."
            )

    def _seed(self, *, rooms: int, bookings: int, users: int, now: datetime) -> None:
        rng = random.Random(SEED)
        equipment = self._equipment()
        site = Site.objects.create(name=SITE, time_zone=TIME_ZONE)
        room_list = self._rooms(rng, site, rooms, equipment)
        people = self._users(users)
        today = now.astimezone(site.tz).date()
        planned, series_plans = self._plan(rng, len(room_list), bookings, today)
        self._write(rng, site, room_list, people, planned, series_plans, now)

    def _equipment(self) -> list[Equipment]:
        Equipment.objects.bulk_create(
            [Equipment(code=code, name=de, name_en=en) for code, de, en in EQUIPMENT], ignore_conflicts=True
        )
        return list(Equipment.objects.filter(code__in=[code for code, _de, _en in EQUIPMENT]))

    def _rooms(self, rng: random.Random, site: Site, count: int, equipment: list[Equipment]) -> list[Room]:
        buildings = Building.objects.bulk_create(
            Building(site=site, name=f"Haus {i + 1}", address=f"Benchmarkstraße {i + 1}, 10117 Berlin")
            for i in range(BUILDINGS)
        )
        per_building = [count // BUILDINGS + (i < count % BUILDINGS) for i in range(BUILDINGS)]
        floors = Floor.objects.bulk_create(
            Floor(building=b, name=f"{level}. OG" if level else "EG", level=level)
            for b, n in zip(buildings, per_building, strict=True)
            for level in range((n + ROOMS_PER_FLOOR - 1) // ROOMS_PER_FLOOR)
        )
        by_building = defaultdict(list)
        for f in floors:
            by_building[f.building_id].append(f)
        rooms = []
        for b, n in zip(buildings, per_building, strict=True):
            for i in range(n):
                level, number = divmod(i, ROOMS_PER_FLOOR)
                rooms.append(
                    Room(
                        floor=by_building[b.pk][level],
                        name=f"{b.name[-1]}.{level}.{number + 1:02d}",
                        capacity=rng.choice(CAPACITIES),
                    )
                )
        rooms = Room.objects.bulk_create(rooms)
        Through = Room.equipment.through
        Through.objects.bulk_create(
            Through(room_id=room.pk, equipment_id=e.pk)
            for room in rooms
            for e in rng.sample(equipment, rng.randint(0, 4))
        )
        return rooms

    def _users(self, count: int) -> list:
        User = get_user_model()
        names = [f"{USER_PREFIX}{i + 1:04d}" for i in range(count)]
        User.objects.bulk_create(
            [User(username=n, email=f"{n}@example.com", password=make_password(None)) for n in names],
            ignore_conflicts=True,
        )
        people = list(User.objects.filter(username__in=names).order_by("username"))
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user=u,
                    name=BENCH_LABEL,
                    prefix=bench_token(u.username)[:12],
                    key_hash=hashlib.sha256(bench_token(u.username).encode()).hexdigest(),
                )
                for u in people
            ],
            ignore_conflicts=True,
        )
        return people

    def _plan(self, rng: random.Random, rooms: int, count: int, today: date) -> tuple[list[Planned], list]:
        """Where and when every booking goes; active ones never overlap in a room."""
        days = [
            d
            for d in (today + timedelta(days=n) for n in range(-DAYS_BACK, DAYS_AHEAD + 1))
            if d.weekday() < 5
        ]
        # The next two weeks are fuller than the months after, midweek fuller than Friday.
        weights = [
            (1.5 if 0 <= (d - today).days < 14 else 1.0) * (1.2 if d.weekday() in (1, 2, 3) else 1.0)
            for d in days
        ]
        busy: dict[tuple[int, date], int] = defaultdict(int)  # bitmask of taken half-hours

        def free(room: int, day: date, slot: int, length: int) -> bool:
            return not busy[room, day] & (((1 << length) - 1) << slot)

        def take(room: int, day: date, slot: int, length: int) -> None:
            busy[room, day] |= ((1 << length) - 1) << slot

        planned: list[Planned] = []
        series_plans: list[tuple[int, int]] = []  # (first index into planned, occurrences)
        left = round(count * SERIES_SHARE)
        while left >= 4:
            weeks = rng.randint(4, min(12, left))
            if 0 < left - weeks < 4:  # the rest would be too short for a series of its own
                weeks = left if left <= 12 else left - 4
            first = rng.choice(days[: max(1, len(days) - 5 * (weeks - 1))])
            dates = [first + timedelta(weeks=w) for w in range(weeks)]
            room, length = rng.randrange(rooms), rng.randint(1, MAX_LENGTH)
            slot = rng.randrange(SLOTS - length + 1)
            if dates[-1] > days[-1] or not all(free(room, d, slot, length) for d in dates):
                continue
            series_plans.append((len(planned), weeks))
            left -= weeks
            for d in dates:
                take(room, d, slot, length)
                planned.append(
                    Planned(room, d, slot, length, Booking.Status.CONFIRMED, len(series_plans) - 1)
                )
        while len(planned) < count:
            day = rng.choices(days, weights)[0]
            room, length = rng.randrange(rooms), rng.randint(1, MAX_LENGTH)
            slot = rng.randrange(SLOTS - length + 1)
            roll = rng.random()
            if roll < CANCELLED_SHARE:
                # A cancelled booking keeps its row but not its slot, so it may overlap.
                planned.append(Planned(room, day, slot, length, Booking.Status.CANCELLED))
                continue
            if not free(room, day, slot, length):
                continue
            take(room, day, slot, length)
            status = (
                Booking.Status.PENDING if roll < CANCELLED_SHARE + PENDING_SHARE else Booking.Status.CONFIRMED
            )
            planned.append(Planned(room, day, slot, length, status))
        return planned, series_plans

    def _write(self, rng, site, room_list, people, planned, series_plans, now) -> None:
        tz = site.tz

        def local(day: date, slot: int) -> datetime:
            minutes = FIRST_SLOT.hour * 60 + 30 * slot
            return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)

        series_rows = []
        series_meta = []  # (title, organizer, private) shared by every occurrence
        for first, weeks in series_plans:
            p = planned[first]
            title, organizer, private = rng.choice(TITLES), rng.choice(people), rng.random() < PRIVATE_SHARE
            series_meta.append((title, organizer, private))
            series_rows.append(
                Series(
                    room=room_list[p.room],
                    title=title,
                    organizer=organizer,
                    rrule=f"FREQ=WEEKLY;COUNT={weeks}",
                    local_start=local(p.day, p.slot),
                    duration=timedelta(minutes=30 * p.length),
                    time_zone=site.time_zone,
                    private=private,
                )
            )
        series_rows = Series.objects.bulk_create(series_rows)
        rows = []
        for p in planned:
            if p.series is not None:
                title, organizer, private = series_meta[p.series]
            else:
                title, organizer, private = (
                    rng.choice(TITLES),
                    rng.choice(people),
                    rng.random() < PRIVATE_SHARE,
                )
            start = local(p.day, p.slot)
            rows.append(
                Booking(
                    room=room_list[p.room],
                    span=make_span(start, start + timedelta(minutes=30 * p.length)),
                    title=title,
                    organizer=organizer,
                    private=private,
                    status=p.status,
                    series=series_rows[p.series] if p.series is not None else None,
                    source=Booking.Source.IMPORT,
                    cancelled_at=now if p.status == Booking.Status.CANCELLED else None,
                )
            )
        rows = Booking.objects.bulk_create(rows, batch_size=2000)
        events = [
            BookingEvent(
                booking=b,
                kind=BookingEvent.Kind.CREATED,
                actor=b.organizer,
                at=now,
                changes={"source": "seed_bench"},
            )
            for b in rows
        ]
        events += [
            BookingEvent(booking=b, kind=BookingEvent.Kind.CANCELLED, actor=b.organizer, at=now)
            for b in rows
            if b.status == Booking.Status.CANCELLED
        ]
        BookingEvent.objects.bulk_create(events, batch_size=5000)
        # Fresh statistics, as a database in service has: the planner picks its plans by them.
        with connection.cursor() as cursor:
            for model in (Room, Room.equipment.through, Booking, Series, ApiToken):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
