"""seed_bench: the benchmark's data set, small here (20 rooms, 500 bookings)."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from bookings.models import ApiToken, Booking, BookingEvent, Building, Equipment, Room, Series, Site
from bookings.services.tokens import authenticate_token

pytestmark = pytest.mark.django_db

SIZES = {"rooms": 20, "bookings": 500, "users": 20}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_bench", **{**SIZES, **options}, stdout=out)
    return out.getvalue()


def table_sizes() -> dict:
    models = [Site, Building, Room, Equipment, Booking, Series, BookingEvent, ApiToken, get_user_model()]
    return {m.__name__: m.objects.count() for m in models}


def test_it_seeds_the_sizes_asked_for():
    seed()
    site = Site.objects.get(name="Benchmark")
    assert site.time_zone == "Europe/Berlin"
    assert Building.objects.filter(site=site).count() == 8
    rooms = Room.objects.filter(floor__building__site=site)
    assert rooms.count() == 20
    capacities = set(rooms.values_list("capacity", flat=True))
    assert min(capacities) >= 4 and max(capacities) <= 400 and len(capacities) > 3
    assert Room.equipment.through.objects.filter(room__in=rooms).exists()
    bookings = Booking.objects.filter(room__in=rooms)
    assert bookings.count() == 500
    assert set(bookings.values_list("source", flat=True)) == {Booking.Source.IMPORT}
    statuses = Counter(bookings.values_list("status", flat=True))
    assert statuses["pending"] and statuses["cancelled"] and statuses["confirmed"] > 400
    # One audit event per booking, and one more for each cancelled one.
    assert BookingEvent.objects.filter(kind="created").count() == 500
    assert BookingEvent.objects.filter(kind="cancelled").count() == statuses["cancelled"]


def test_it_changes_nothing_the_second_time_and_says_so():
    seed()
    before = table_sizes()
    output = seed()
    assert "nothing changed" in output
    assert table_sizes() == before


def test_it_refuses_other_sizes_on_a_seeded_database():
    seed()
    with pytest.raises(CommandError, match="fresh RFR_DATA_DIR"):
        seed(rooms=30)


def test_it_never_overlaps_active_bookings():
    seed()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                 ON a.room_id = b.room_id AND a.id < b.id AND a.span && b.span
              WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')"""
        )
        assert cursor.fetchone()[0] == 0


def test_it_books_weekdays_on_the_half_hour_grid_within_three_months():
    seed()
    site = Site.objects.get(name="Benchmark")
    today = timezone.now().astimezone(site.tz).date()
    for span in Booking.objects.values_list("span", flat=True):
        start, end = span.lower.astimezone(site.tz), span.upper.astimezone(site.tz)
        assert start.weekday() < 5
        assert today - timedelta(days=30) <= start.date() <= today + timedelta(days=60)
        assert start.minute in (0, 30) and end.minute in (0, 30)
        assert start.hour >= 8 and (end.hour, end.minute) <= (19, 0) and end.date() == start.date()
        assert timedelta(minutes=30) <= end - start <= timedelta(hours=3)


def test_it_makes_weekly_series_of_four_to_twelve_weeks():
    seed()
    series = list(Series.objects.all())
    assert series
    in_series = 0
    for s in series:
        starts = sorted(b.span.lower for b in s.occurrences.all())
        assert 4 <= len(starts) <= 12
        assert s.rrule == f"FREQ=WEEKLY;COUNT={len(starts)}"
        # Weekly in local time: the same weekday and wall-clock time across DST changes.
        local = [t.astimezone(Site.objects.get(name="Benchmark").tz) for t in starts]
        assert {t.weekday() for t in local} == {local[0].weekday()}
        assert {t.time() for t in local} == {local[0].time()}
        in_series += len(starts)
    assert in_series == 25  # 5 % of 500


def test_it_prints_the_day_with_the_most_active_bookings():
    output = seed()
    printed = re.search(r"^benchmark day: (\d{4}-\d{2}-\d{2})$", output, re.MULTILINE).group(1)
    tz = Site.objects.get(name="Benchmark").tz
    per_day = Counter(
        span.lower.astimezone(tz).date()
        for span in Booking.objects.filter(status__in=Booking.ACTIVE).values_list("span", flat=True)
    )
    most = max(per_day.values())
    assert printed == min(day for day, n in per_day.items() if n == most).isoformat()
    # The second run reads it from the database and prints the same day.
    assert f"benchmark day: {printed}" in seed()


def test_it_gives_every_bench_user_a_working_token(tmp_path):
    tokens = tmp_path / "tokens.txt"
    seed(tokens_file=tokens)
    lines = tokens.read_text().split()
    assert len(lines) == 20
    users = {authenticate_token(line).username for line in lines}
    assert users == {f"bench{i:04d}" for i in range(1, 21)}
    assert not any(u.has_usable_password() for u in get_user_model().objects.filter(username__in=users))
    # The same tokens on a second run: derived, not issued anew.
    seed(tokens_file=tokens)
    assert tokens.read_text().split() == lines
