"""The daily roll-up gives exactly the numbers of the direct whole-period queries.

Two weeks around each change of the clocks in 2026 (29 March forward, 25 October back),
an office-hours room and a room open all day, a blocking, a series, a released booking,
a late cancellation, a booking over midnight: first computed live day by day, then from
the stored rows, each compared with tests/reports/direct.py.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command

from bookings.models import Blocking, Booking, BookingEvent, PolicyHours, Room
from bookings.services.bookings import create_booking
from bookings.services.series import create_series
from bookings.spans import make_span
from reports import daily
from reports.models import RoomDay
from reports.tasks import refresh_changed_task, roll_up_recent_task
from reports.utilisation import heat_map, per_room, weekly
from tests import factories
from tests.reports import direct
from tests.reports.test_utilisation import BERLIN, office_hours, released

PERIODS = [(date(2026, 3, 23), date(2026, 4, 6)), (date(2026, 10, 19), date(2026, 11, 2))]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def rooms(db, alice):
    """An office-hours room and an all-day room with bookings of every kind in both periods."""
    building = factories.building(factories.site(time_zone="Europe/Berlin"))
    office = factories.room(factories.floor(building), capacity=10)
    office_hours(office)
    always = factories.room(office.floor, capacity=6)
    for monday, _end in PERIODS:
        create_series(
            room=office,
            organizer=alice,
            title="Jour fixe",
            start=at(monday, 9),
            end=at(monday, 10, 30),
            rrule="FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4",
            now=at(monday, 0) - timedelta(days=1),
        )
        factories.booking(office, alice, at(monday + timedelta(days=1), 17), minutes=120)  # half outside
        released(office, alice, at(monday + timedelta(days=3), 10), minutes=120)
        factories.booking(
            office,
            alice,
            at(monday + timedelta(days=4), 14),
            status=Booking.Status.CANCELLED,
            cancelled_at=at(monday + timedelta(days=4), 13, 30),
        )
        Blocking.objects.create(
            building=building,
            span=make_span(at(monday + timedelta(days=8), 0), at(monday + timedelta(days=9), 0)),
            reason="Betriebsausflug",
        )
        sunday = monday + timedelta(days=6)  # the day the clocks change
        factories.booking(always, alice, at(sunday, 0, 30), minutes=240)  # across the changed hour
        factories.booking(always, alice, at(sunday, 22), minutes=240)  # over midnight
        factories.booking(always, alice, at(monday + timedelta(days=10), 8), minutes=600)
    return [office.pk, always.pk]


def figures(room_ids, start, end):
    return (
        [(r.room_id, r.bookable_hours, r.booked_hours, r.used_hours, r.bookings, r.released, r.late_cancelled)
         for r in per_room(room_ids=room_ids, start=start, end=end)],
        [(c.weekday, c.hour, c.bookable_hours, c.booked_hours)
         for c in heat_map(room_ids=room_ids, start=start, end=end)],
        [(w.monday, w.bookable_hours, w.booked_hours)
         for w in weekly(room_ids=room_ids, start=start, end=end)],
    )  # fmt: skip


def oracle(room_ids, start, end):
    return (
        [(row[0], *row[3:]) for row in direct.run(direct.PER_ROOM, room_ids, start, end)],
        direct.run(direct.HEAT_MAP, room_ids, start, end),
        [tuple(row) for row in direct.run(direct.WEEKLY, room_ids, start, end)],
    )


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_it_computes_the_direct_figures_day_by_day_without_stored_rows(rooms, start, end):
    assert not RoomDay.objects.exists()
    assert figures(rooms, start, end) == oracle(rooms, start, end)


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_it_gives_the_direct_figures_from_the_stored_rows(rooms, start, end):
    written = daily.refresh(room_ids=rooms, start=start, end=end)

    assert written == 2 * 14
    assert figures(rooms, start, end) == oracle(rooms, start, end)
    sunday = RoomDay.objects.get(room_id=rooms[1], day=start + timedelta(days=6))
    by_hour = [getattr(sunday, f"bookable_h{hour:02d}") for hour in range(24)]
    assert sum(by_hour) == (23 if start.month == 3 else 25) * 3600
    assert by_hour[2] == (0 if start.month == 3 else 3600)  # no 02:00 when the clocks go forward
    assert by_hour[1] == (3600 if start.month == 3 else 7200)  # the repeated hour falls in 01:00


def test_it_reads_the_stored_rows(rooms):
    start, end = PERIODS[0]
    daily.refresh(room_ids=rooms, start=start, end=end)
    RoomDay.objects.filter(room_id=rooms[0], day=start).update(booked_seconds=36000)  # a stale row

    office = per_room(room_ids=rooms[:1], start=start, end=end)[0]

    assert office.booked_hours != oracle(rooms[:1], start, end)[0][0][2]


def test_it_computes_a_room_live_when_one_of_its_days_is_not_stored(rooms):
    start, end = PERIODS[0]
    daily.refresh(room_ids=rooms, start=start, end=end)
    RoomDay.objects.filter(room_id=rooms[0], day=start).update(booked_seconds=36000)
    RoomDay.objects.filter(room_id=rooms[0], day=start + timedelta(days=3)).delete()

    assert figures(rooms, start, end) == oracle(rooms, start, end)


def test_it_stores_finished_days_only(rooms):
    today = datetime.now(BERLIN).date()  # the site's today
    daily.refresh(room_ids=rooms, start=today - timedelta(days=2), end=today + timedelta(days=5))

    assert sorted(set(RoomDay.objects.values_list("day", flat=True))) == [
        today - timedelta(days=2),
        today - timedelta(days=1),
    ]


def test_it_follows_a_release_and_a_blocking_made_after_the_roll_up(rooms, alice):
    start, end = PERIODS[1]
    daily.refresh(room_ids=rooms, start=start, end=end)
    roll_up_recent_task.apply()  # sets nothing back; only recent days
    refresh_changed_task.apply()  # the mark now follows the audit log

    booking = factories.booking(Room.objects.get(pk=rooms[0]), alice, at(start + timedelta(days=2), 15))
    booking.status = Booking.Status.RELEASED
    booking.save()
    BookingEvent.objects.create(
        booking=booking, kind=BookingEvent.Kind.RELEASED, at=at(start + timedelta(days=2), 15, 15)
    )
    friday = start + timedelta(days=4)
    Blocking.objects.create(room_id=rooms[1], span=make_span(at(friday, 0), at(friday, 12)), reason="Umbau")
    stale = figures(rooms, start, end)

    written = refresh_changed_task.apply().get()

    assert written >= 2
    assert figures(rooms, start, end) == oracle(rooms, start, end) != stale


def test_it_rolls_up_yesterday_every_night(rooms):
    written = roll_up_recent_task.apply().get()

    assert written >= 2  # both rooms, yesterday at least
    yesterday = datetime.now(BERLIN).date() - timedelta(days=1)
    assert RoomDay.objects.filter(day=yesterday).count() == 2


def test_it_is_scheduled_by_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"reports.tasks.refresh_changed_task", "reports.tasks.roll_up_recent_task"} <= tasks


def test_it_keeps_the_opening_hours_of_a_stored_day(rooms):
    start, end = PERIODS[0]
    daily.refresh(room_ids=rooms, start=start, end=end)
    before = per_room(room_ids=rooms[:1], start=start, end=end)[0].bookable_hours

    PolicyHours.objects.filter(policy__room_id=rooms[0]).update(closes=time(20))

    assert per_room(room_ids=rooms[:1], start=start, end=end)[0].bookable_hours == before


def test_it_backfills_by_command(rooms):
    out = io.StringIO()
    call_command("roll_up_reports", "--days", "3", stdout=out)

    assert out.getvalue().strip() == "stored 6 room-days"  # 2 rooms × 3 days
    with pytest.raises(CommandError):
        call_command("roll_up_reports", "--days", "0")


def test_it_rewrites_nothing_for_a_change_to_a_day_to_come(room, alice):
    refresh_changed_task.apply()
    create_booking(
        room=room,
        organizer=alice,
        title="Planung",
        start=factories.tomorrow_at(9),
        end=factories.tomorrow_at(10),
    )

    assert refresh_changed_task.apply().get() == 0
    assert not RoomDay.objects.exists()
