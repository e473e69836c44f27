"""Editing a series: this date, this and the following, or all; a booking becomes a series.

alice organizes the series, bob has his own bookings in the way and must not touch hers,
fiona (facility admin) may change any series.

The same edits through the API: test_series_edit_api.py; on the staff pages: test_series_edit_ui.py.
"""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

import pytest
import time_machine

from bookings import recurrence, services
from bookings.models import BookingEvent, Series
from tests import factories
from tests.helpers import (
    BEFORE_THE_SERIES,
    BERLIN,
    MONDAY,
    at,
    dates_of,
    frozen_at,
    local_times,
    make_series,
    outbox_payloads,
    snapshot,
)

frozen_clock = frozen_at(BEFORE_THE_SERIES, autouse=True)


# --- all ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_moves_every_upcoming_date_to_the_new_time_and_announces_it_once(room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=5").series

    edit = services.update_series(
        series=series, actor=alice, scope="all", start_time=time(10), end_time=time(11, 30), title="Neu"
    )

    dates = dates_of(series)
    assert [local_times(b) for b in dates] == [("10:00", "11:30")] * 5
    assert [b.start.date() for b in dates] == [MONDAY + timedelta(days=i) for i in range(5)]
    assert {b.title for b in dates} == {"Neu"} and {b.version for b in dates} == {2}
    assert len(edit.updated) == 5 and edit.split_from is None
    assert BookingEvent.objects.filter(kind="updated").count() == 5
    [message] = outbox_payloads("series.updated")
    assert message["series"] == series.pk and message["room"] == room.pk
    assert [b["id"] for b in message["bookings"]] == [b.pk for b in dates]
    assert outbox_payloads("booking.updated") == []
    series.refresh_from_db()
    assert series.title == "Neu" and series.duration == timedelta(minutes=90)
    assert series.local_start.astimezone(BERLIN) == at(MONDAY, 10)


@pytest.mark.django_db
def test_it_leaves_dates_that_have_started_as_they_were(room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        services.update_series(
            series=series, actor=alice, scope="all", start_time=time(14), end_time=time(15)
        )
    assert [local_times(b) for b in dates_of(series)] == [
        ("09:00", "10:00"),
        ("14:00", "15:00"),
        ("14:00", "15:00"),
    ]


@pytest.mark.django_db
def test_it_keeps_a_date_changed_on_its_own_at_its_time_and_room_but_renames_it(room, alice):
    other = factories.room(room.floor)
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=WEEKLY;COUNT=4").series
    third = dates_of(series)[2]
    services.update_booking(
        booking=third,
        actor=alice,
        start=at(third.start.date(), 14),
        end=at(third.start.date(), 15),
        room=other,
    )

    services.update_series(
        series=series, actor=alice, scope="all", start_time=time(10), end_time=time(11), title="Neu"
    )

    dates = dates_of(series)
    assert [local_times(b) for b in dates] == [
        ("10:00", "11:00"),
        ("10:00", "11:00"),
        ("14:00", "15:00"),
        ("10:00", "11:00"),
    ]
    assert [b.room_id for b in dates] == [room.pk, room.pk, other.pk, room.pk]
    assert {b.title for b in dates} == {"Neu"}
    assert dates[2].series_exception is True


@pytest.mark.django_db
@pytest.mark.parametrize("hour", [10, 8])
def test_it_moves_a_back_to_back_series_by_less_than_its_length_without_colliding_with_itself(
    room, alice, hour
):
    # Whole days, one after the other: each date's new time overlaps its neighbour's old one.
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=4", minutes=24 * 60).series

    services.update_series(series=series, actor=alice, scope="all", start_time=time(hour))

    dates = dates_of(series)
    assert [b.start for b in dates] == [at(MONDAY + timedelta(days=i), hour) for i in range(4)]
    assert all(b.end - b.start == timedelta(hours=24) for b in dates)


@pytest.mark.django_db
def test_it_refuses_a_new_time_at_which_the_dates_would_run_into_each_others_buffers(room, alice):
    from bookings.models import Policy

    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3", minutes=24 * 60).series
    # Cleaning time added later: whole days back to back no longer fit once they are moved.
    Policy.objects.create(room=room, buffer_after_minutes=15)
    before = snapshot()
    with pytest.raises(services.BookingConflict) as refused:
        services.update_series(series=series, actor=alice, scope="all", start_time=time(10))
    assert [s for s, _e, _b in refused.value.occurrences] == [
        at(MONDAY + timedelta(days=i), 10) for i in range(3)
    ]
    assert {b.series_id for _s, _e, bs in refused.value.occurrences for b in bs} == {series.pk}
    assert snapshot() == before


# --- daylight-saving time -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_keeps_a_weekly_berlin_series_at_ten_local_across_both_clock_changes(room, alice):
    # Mondays from 1 March to 29 November 2027: across 28 March and 31 October.
    series = make_series(room, alice, at(date(2027, 3, 1), 9), "FREQ=WEEKLY;UNTIL=20271129").series

    services.update_series(series=series, actor=alice, scope="all", start_time=time(10), end_time=time(11))

    dates = dates_of(series)
    assert len(dates) == 40
    assert {local_times(b) for b in dates} == {("10:00", "11:00")}
    by_day = {b.start.astimezone(BERLIN).date(): b.start.astimezone(UTC).hour for b in dates}
    assert by_day[date(2027, 3, 22)] == 9 and by_day[date(2027, 3, 29)] == 8
    assert by_day[date(2027, 10, 25)] == 8 and by_day[date(2027, 11, 1)] == 9


# --- this and the following -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_splits_the_series_at_a_date_and_the_two_parts_add_up(room, alice):
    rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=10"
    series = make_series(room, alice, at(MONDAY, 9), rule).series
    original = [b.start for b in dates_of(series)]
    fifth = dates_of(series)[4]

    edit = services.update_series(
        series=series,
        actor=alice,
        scope="following",
        from_booking=fifth,
        start_time=time(11),
        end_time=time(12),
    )

    old, new = Series.objects.get(pk=series.pk), edit.series
    assert edit.split_from == old and new.pk != old.pk
    assert [local_times(b) for b in dates_of(old)] == [("09:00", "10:00")] * 4
    assert [local_times(b) for b in dates_of(new)] == [("11:00", "12:00")] * 6
    assert dates_of(new)[0].pk == fifth.pk
    assert [b.start.date() for b in dates_of(old) + dates_of(new)] == [s.date() for s in original]
    # Each rule still means exactly its own dates.
    assert "UNTIL=" in old.rrule and "COUNT" not in old.rrule
    assert recurrence.occurrences(old.rrule, local_start=old.local_start.astimezone(BERLIN), tz=BERLIN) == [
        b.start for b in dates_of(old)
    ]
    assert recurrence.occurrences(new.rrule, local_start=new.local_start.astimezone(BERLIN), tz=BERLIN) == [
        b.start for b in dates_of(new)
    ]
    assert [m["series"] for m in outbox_payloads("series.updated")] == [new.pk]
    assert {b.version for b in dates_of(old)} == {1} and {b.version for b in dates_of(new)} == {2}


@pytest.mark.django_db
def test_it_changes_the_first_date_and_the_following_without_splitting(room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;UNTIL=20270115").series
    first = dates_of(series)[0]
    edit = services.update_series(
        series=series, actor=alice, scope="following", from_booking=first, title="Neu"
    )
    assert edit.series.pk == series.pk and edit.split_from is None
    assert Series.objects.count() == 1
    assert {b.title for b in dates_of(series)} == {"Neu"}


@pytest.mark.django_db
def test_it_changes_only_this_date_and_keeps_it_through_a_later_edit_of_the_following(room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=5").series
    dates = dates_of(series)
    services.update_booking(
        booking=dates[3], actor=alice, start=at(dates[3].start.date(), 16), end=at(dates[3].start.date(), 17)
    )
    assert [local_times(b)[0] for b in dates_of(series)] == ["09:00", "09:00", "09:00", "16:00", "09:00"]

    edit = services.update_series(
        series=series, actor=alice, scope="following", from_booking=dates[2], start_time=time(8)
    )
    assert [local_times(b)[0] for b in dates_of(series)] == ["09:00", "09:00"]
    assert [local_times(b)[0] for b in dates_of(edit.series)] == ["08:00", "16:00", "08:00"]


# --- refusals write nothing ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_all_dates_when_one_new_time_is_taken_and_names_each(room, alice, bob):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=5").series
    in_the_way = [
        factories.booking(room, bob, at(MONDAY + timedelta(days=1), 10, 30), title="Bobs Termin"),
        factories.booking(room, bob, at(MONDAY + timedelta(days=3), 10, 45), minutes=30),
    ]
    before = snapshot()

    with pytest.raises(services.BookingConflict) as refused:
        services.update_series(
            series=series, actor=alice, scope="all", start_time=time(10), end_time=time(11)
        )

    assert [(s, e) for s, e, _b in refused.value.occurrences] == [
        (at(MONDAY + timedelta(days=1), 10), at(MONDAY + timedelta(days=1), 11)),
        (at(MONDAY + timedelta(days=3), 10), at(MONDAY + timedelta(days=3), 11)),
    ]
    assert [bs[0].pk for _s, _e, bs in refused.value.occurrences] == [b.pk for b in in_the_way]
    assert snapshot() == before


@pytest.mark.django_db
def test_it_refuses_a_date_a_rule_forbids_naming_the_first_and_writes_nothing(room, alice):
    from bookings.models import Policy

    Policy.objects.create(room=room, max_duration_minutes=90)
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    before = snapshot()
    with pytest.raises(services.PolicyViolation) as refused:
        services.update_series(series=series, actor=alice, scope="all", end_time=time(12))
    assert "3 Termine" in refused.value.message and "11.01.2027" in refused.value.message
    assert snapshot() == before


@pytest.mark.django_db
def test_it_does_not_count_a_moved_date_against_the_quota_it_already_fills(room, alice):
    from bookings.models import Policy

    Policy.objects.create(room=room, max_bookings_per_day=1)
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    services.update_series(series=series, actor=alice, scope="all", start_time=time(13), end_time=time(14))
    assert [local_times(b) for b in dates_of(series)] == [("13:00", "14:00")] * 3

    # Another booking of hers on the Tuesday: that date may not move, so none does.
    factories.booking(room, alice, at(MONDAY + timedelta(days=1), 8))
    before = snapshot()
    with pytest.raises(services.PolicyViolation) as refused:
        services.update_series(
            series=series, actor=alice, scope="all", start_time=time(15), end_time=time(16)
        )
    assert "1 Termin" in refused.value.message and "12.01.2027" in refused.value.message
    assert snapshot() == before


@pytest.mark.django_db
def test_it_lets_only_the_organizer_or_a_facility_admin_edit_a_series(room, alice, bob, fiona):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    before = snapshot()
    with pytest.raises(services.NotAllowed):
        services.update_series(series=series, actor=bob, scope="all", title="Meins")
    assert snapshot() == before
    services.update_series(series=series, actor=fiona, scope="all", title="Geändert")
    assert {b.title for b in dates_of(series)} == {"Geändert"}


# --- a booking becomes a series -----------------------------------------------------------


@pytest.mark.django_db
def test_it_makes_a_single_booking_the_first_date_of_a_new_series(room, alice):
    booking = services.create_booking(
        room=room, organizer=alice, title="Planung", start=at(MONDAY, 9), end=at(MONDAY, 10)
    )

    result = services.convert_to_series(booking=booking, actor=alice, rrule="FREQ=WEEKLY;COUNT=4")

    series = result.series
    dates = dates_of(series)
    assert [b.start for b in dates] == [at(MONDAY + timedelta(weeks=i), 9) for i in range(4)]
    assert dates[0].pk == booking.pk and dates[0].version == 2
    assert {b.title for b in dates} == {"Planung"}
    assert series.rrule == "FREQ=WEEKLY;COUNT=4" and series.local_start.astimezone(BERLIN) == at(MONDAY, 9)
    assert recurrence.occurrences(series.rrule, local_start=at(MONDAY, 9), tz=BERLIN) == [
        b.start for b in dates
    ]
    assert [len(m["bookings"]) for m in outbox_payloads("series.created")] == [3]
    assert [m["id"] for m in outbox_payloads("booking.updated")] == [booking.pk]


@pytest.mark.django_db
def test_it_refuses_to_make_a_series_when_a_later_date_is_taken_unless_told_to_skip(room, alice, bob):
    booking = services.create_booking(
        room=room, organizer=alice, title="Planung", start=at(MONDAY, 9), end=at(MONDAY, 10)
    )
    factories.booking(room, bob, at(MONDAY + timedelta(weeks=2), 9))
    before = snapshot()
    with pytest.raises(services.BookingConflict) as refused:
        services.convert_to_series(booking=booking, actor=alice, rrule="FREQ=WEEKLY;COUNT=4")
    assert [s for s, _e, _b in refused.value.occurrences] == [at(MONDAY + timedelta(weeks=2), 9)]
    assert snapshot() == before

    result = services.convert_to_series(
        booking=booking, actor=alice, rrule="FREQ=WEEKLY;COUNT=4", skip_conflicts=True
    )
    assert len(dates_of(result.series)) == 3 and len(result.skipped) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule", ["FREQ=WEEKLY;BYDAY=TU;COUNT=4", "FREQ=WEEKLY;COUNT=1", "FREQ=HOURLY;COUNT=3", "FREQ=WEEKLY"]
)
def test_it_refuses_a_rule_that_does_not_fit_the_booking_and_writes_nothing(room, alice, rule):
    booking = services.create_booking(
        room=room, organizer=alice, title="Planung", start=at(MONDAY, 9), end=at(MONDAY, 10)
    )
    before = snapshot()
    with pytest.raises(services.InvalidBooking) as refused:
        services.convert_to_series(booking=booking, actor=alice, rrule=rule)
    assert refused.value.field == "rrule"
    assert snapshot() == before
