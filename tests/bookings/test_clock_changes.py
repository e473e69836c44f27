"""Meetings on the nights the clocks change: a meeting lasts as long as it lasts.

Berlin changes on the last Sunday of March (02:00 → 03:00) and of October (03:00 → 02:00).
A start the clocks skip moves forward by the gap (RFC 5545, 3.3.5); a time that happens
twice means the first. Durations are real time, never wall-clock differences.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookings import services
from bookings.forms import combine
from bookings.models import Booking
from bookings.spans import ends_after, lasts, moved_by_clock_change, on_the_clock
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")


def last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


@pytest.fixture
def spring() -> date:
    return last_sunday(timezone.now().year + 1, 3)


@pytest.fixture
def autumn() -> date:
    return last_sunday(timezone.now().year + 1, 10)


def durations(bookings) -> dict[date, timedelta]:
    return {b.span.lower.astimezone(BERLIN).date(): b.span.upper - b.span.lower for b in bookings}


def daily_series(alice, first: date, start: time, minutes: int, count: int = 3):
    room = factories.room()
    begin = on_the_clock(datetime.combine(first, start), BERLIN)
    return services.create_series(
        room=room,
        organizer=alice,
        title="Nachtschicht",
        start=begin,
        end=ends_after(begin, timedelta(minutes=minutes)),
        rrule=f"FREQ=DAILY;COUNT={count}",
    )


def test_it_moves_a_start_the_clocks_skip_forward_by_the_gap(spring):
    skipped = datetime.combine(spring, time(2, 30))
    moved = on_the_clock(skipped, BERLIN)
    assert moved.astimezone(UTC) == datetime.combine(spring, time(1, 30), UTC)
    assert moved.astimezone(BERLIN).time() == time(3, 30)
    assert moved_by_clock_change(skipped, BERLIN)
    assert not moved_by_clock_change(datetime.combine(spring, time(3, 30)), BERLIN)


def test_it_takes_the_first_of_a_time_that_happens_twice(autumn):
    twice = on_the_clock(datetime.combine(autumn, time(2, 30)), BERLIN)
    assert twice.astimezone(UTC) == datetime.combine(autumn, time(0, 30), UTC)
    assert not moved_by_clock_change(datetime.combine(autumn, time(2, 30)), BERLIN)


def test_it_measures_real_time_not_the_wall_clock(spring):
    start = on_the_clock(datetime.combine(spring, time(1, 30)), BERLIN)
    end = on_the_clock(datetime.combine(spring, time(3, 30)), BERLIN)
    assert end - start == timedelta(hours=2)  # what Python's wall-clock arithmetic says
    assert lasts(start, end) == timedelta(hours=1)
    assert lasts(start, ends_after(start, timedelta(hours=2))) == timedelta(hours=2)


@pytest.mark.django_db
def test_it_books_a_series_through_the_spring_night_without_an_error(alice, spring):
    result = daily_series(alice, spring - timedelta(days=1), time(2, 30), 60)
    assert len(result.created) == 3
    assert set(durations(result.created).values()) == {timedelta(hours=1)}
    on_the_night = next(b for b in result.created if b.span.lower.astimezone(BERLIN).date() == spring)
    assert on_the_night.span.lower.astimezone(BERLIN).time() == time(3, 30)


@pytest.mark.django_db
def test_it_keeps_an_hour_an_hour_on_the_autumn_night(alice, autumn):
    result = daily_series(alice, autumn - timedelta(days=1), time(2, 30), 60)
    assert set(durations(result.created).values()) == {timedelta(hours=1)}
    stored = Booking.objects.filter(series=result.series)
    assert set(durations(stored).values()) == {timedelta(hours=1)}


@pytest.mark.django_db
def test_it_keeps_a_two_hour_meeting_two_hours_on_the_spring_night(alice, spring):
    result = daily_series(alice, spring - timedelta(days=1), time(1, 30), 120)
    lengths = durations(Booking.objects.filter(series=result.series))
    assert lengths[spring] == timedelta(hours=2)
    assert set(lengths.values()) == {timedelta(hours=2)}


def test_the_booking_form_reads_skipped_and_doubled_times_the_same_way(spring, autumn):
    start, end = combine(spring, time(2, 30), time(3, 30), BERLIN)
    assert start.astimezone(UTC) == end.astimezone(UTC)  # 02:30 is 03:30 that night: nothing left
    start, end = combine(autumn, time(1, 30), time(3, 30), BERLIN)
    assert lasts(start, end) == timedelta(hours=3)


@pytest.mark.django_db
def test_the_api_books_a_series_at_half_past_two_through_the_spring_night(client, alice, token_for, spring):
    room = factories.room()
    start = on_the_clock(datetime.combine(spring - timedelta(days=1), time(2, 30)), BERLIN)
    body = {
        "room": room.pk,
        "title": "Nachtschicht",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "rrule": "FREQ=DAILY;COUNT=3",
    }
    response = client.post("/api/v1/series", body, content_type="application/json", headers=token_for(alice))
    assert response.status_code == 201, response.content
    stored = Booking.objects.filter(room=room).order_by("span")
    assert [b.span.lower.astimezone(BERLIN).time() for b in stored] == [time(2, 30), time(3, 30), time(2, 30)]
    assert set(durations(stored).values()) == {timedelta(hours=1)}


@pytest.mark.django_db
def test_the_preview_names_the_date_that_starts_later(client, alice, spring):
    room = factories.room(factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))))
    client.force_login(alice)
    data = {
        "key": "k",
        "room": room.pk,
        "date": (spring - timedelta(days=1)).isoformat(),
        "start": "02:30",
        "end": "03:30",
        "title": "Nachtschicht",
        "freq": "daily",
        "ends": "count",
        "count": 3,
        "interval": 1,
        "action": "preview",
    }
    response = client.post("/book/", data)
    assert response.status_code == 200
    assert [o.moved for o in response.context["preview"]] == [False, True, False]
    assert "Beginnt später: In dieser Nacht wird die Uhr vorgestellt" in response.content.decode()
    assert Booking.objects.count() == 0
