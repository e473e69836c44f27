"""Editing a series: this date, this and the following, or all; a booking becomes a series.

alice organizes the series, bob has his own bookings in the way and must not touch hers,
fiona (facility admin) may change any series.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings import recurrence, services
from bookings.models import Booking, BookingEvent, OutboxMessage, Series
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
# A fixed winter day before the series of these tests; the clock changes of 2027
# (28 March, 31 October) then lie ahead of it, whatever day the suite runs.
TODAY = datetime(2027, 1, 4, 8, 0, tzinfo=BERLIN)
MONDAY = date(2027, 1, 11)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def room(db):
    return factories.room(factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN)


def make_series(room, organizer, start, rrule, minutes=60, **extra):
    return services.create_series(
        room=room,
        organizer=organizer,
        title="Jour fixe",
        start=start,
        end=start + timedelta(minutes=minutes),
        rrule=rrule,
        **extra,
    )


def dates_of(series: Series, status=Booking.ACTIVE) -> list[Booking]:
    return list(Booking.objects.filter(series=series, status__in=status).order_by("span"))


def clock(booking: Booking) -> tuple[str, str]:
    return f"{booking.start.astimezone(BERLIN):%H:%M}", f"{booking.end.astimezone(BERLIN):%H:%M}"


def snapshot() -> tuple:
    """Everything a refused edit must leave as it was."""
    return (
        [
            (b.pk, b.span, b.room_id, b.title, b.version, b.status, b.series_id)
            for b in Booking.objects.order_by("pk")
        ],
        [(s.pk, s.rrule, s.title, s.local_start) for s in Series.objects.order_by("pk")],
        BookingEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def topics(topic: str) -> list[dict]:
    """The payloads of one outbox topic (one message per channel: the first channel's)."""
    channel = OutboxMessage.objects.order_by("pk").values_list("channel", flat=True).first()
    return [m.payload for m in OutboxMessage.objects.filter(topic=topic, channel=channel).order_by("pk")]


# --- all ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_moves_every_upcoming_date_to_the_new_time_and_announces_it_once(room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=5").series

    edit = services.update_series(
        series=series, actor=alice, scope="all", start_time=time(10), end_time=time(11, 30), title="Neu"
    )

    dates = dates_of(series)
    assert [clock(b) for b in dates] == [("10:00", "11:30")] * 5
    assert [b.start.date() for b in dates] == [MONDAY + timedelta(days=i) for i in range(5)]
    assert {b.title for b in dates} == {"Neu"} and {b.version for b in dates} == {2}
    assert len(edit.updated) == 5 and edit.split_from is None
    assert BookingEvent.objects.filter(kind="updated").count() == 5
    [message] = topics("series.updated")
    assert message["series"] == series.pk and message["room"] == room.pk
    assert [b["id"] for b in message["bookings"]] == [b.pk for b in dates]
    assert topics("booking.updated") == []
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
    assert [clock(b) for b in dates_of(series)] == [
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
    assert [clock(b) for b in dates] == [
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
    assert {clock(b) for b in dates} == {("10:00", "11:00")}
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
    assert [clock(b) for b in dates_of(old)] == [("09:00", "10:00")] * 4
    assert [clock(b) for b in dates_of(new)] == [("11:00", "12:00")] * 6
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
    assert [m["series"] for m in topics("series.updated")] == [new.pk]
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
    assert [clock(b)[0] for b in dates_of(series)] == ["09:00", "09:00", "09:00", "16:00", "09:00"]

    edit = services.update_series(
        series=series, actor=alice, scope="following", from_booking=dates[2], start_time=time(8)
    )
    assert [clock(b)[0] for b in dates_of(series)] == ["09:00", "09:00"]
    assert [clock(b)[0] for b in dates_of(edit.series)] == ["08:00", "16:00", "08:00"]


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
    assert [clock(b) for b in dates_of(series)] == [("13:00", "14:00")] * 3

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
    assert [len(m["bookings"]) for m in topics("series.created")] == [3]
    assert [m["id"] for m in topics("booking.updated")] == [booking.pk]


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


# --- the API ------------------------------------------------------------------------------


def patch(client, headers, series, body):
    return client.patch(f"/api/v1/series/{series.pk}", body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_it_edits_all_dates_through_the_api_like_the_service(client, room, alice, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    response = patch(
        client,
        token_for(alice),
        series,
        {"scope": "all", "start_time": "10:00", "end_time": "11:00", "title": "Neu"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["series"]["id"] == series.pk and body["split_from"] is None
    assert [datetime.fromisoformat(b["start"]).astimezone(BERLIN) for b in body["updated"]] == [
        at(MONDAY + timedelta(days=i), 10) for i in range(3)
    ]
    assert [clock(b) for b in dates_of(series)] == [("10:00", "11:00")] * 3


@pytest.mark.django_db
def test_it_splits_through_the_api(client, room, alice, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=4").series
    third = dates_of(series)[2]
    response = patch(
        client, token_for(alice), series, {"scope": "following", "from_booking": third.pk, "private": True}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["split_from"]["id"] == series.pk and body["series"]["id"] != series.pk
    assert [b["id"] for b in body["updated"]] == [
        b.pk for b in dates_of(Series.objects.get(pk=body["series"]["id"]))
    ]
    assert all(b["private"] for b in body["updated"]) and len(dates_of(series)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "german"),
    [
        ({"scope": "some"}, "scope", None),
        ({"scope": "all", "start_time": "25:00"}, "start_time", "HH:MM"),
        ({"scope": "all", "start_time": "9 Uhr"}, "start_time", "HH:MM"),
        ({"scope": "all", "start_time": "10:00", "end_time": "09:00"}, "end_time", "Ende"),
        ({"scope": "following"}, "from_booking", None),
        ({"scope": "all", "title": None}, "title", None),
        ({"scope": "all", "room": 999999}, "room", None),
        ({"scope": "all", "colour": "red"}, "colour", None),
    ],
)
def test_it_refuses_bad_input_with_422_and_writes_nothing(
    client, room, alice, token_for, body, field, german
):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    before = snapshot()
    response = patch(client, {**token_for(alice), "Accept-Language": "de"}, series, body)
    assert response.status_code == 422, response.json()
    assert response.json()["field"] == field
    if german:
        assert german in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.django_db
def test_it_answers_in_english_when_asked(client, room, alice, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    response = patch(
        client, {**token_for(alice), "Accept-Language": "en"}, series, {"scope": "all", "start_time": "x"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "Give the time as HH:MM, e.g. 09:30."


@pytest.mark.django_db
def test_it_answers_a_stranger_with_403_an_unknown_series_with_404_and_writes_nothing(
    client, room, alice, bob, token_for
):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    booking = dates_of(series)[0]
    before = snapshot()
    assert patch(client, token_for(bob), series, {"scope": "all", "title": "Meins"}).status_code == 403
    single = services.create_booking(
        room=room, organizer=alice, title="Solo", start=at(MONDAY, 14), end=at(MONDAY, 15)
    )
    before = snapshot()
    converted = client.post(
        f"/api/v1/bookings/{single.pk}/series",
        {"rrule": "FREQ=DAILY;COUNT=2"},
        content_type="application/json",
        headers=token_for(bob),
    )
    assert converted.status_code == 403
    assert snapshot() == before
    missing = Series.objects.order_by("pk").last().pk + 1
    response = client.patch(
        f"/api/v1/series/{missing}",
        {"scope": "all"},
        content_type="application/json",
        headers=token_for(alice),
    )
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.title == "Jour fixe" and booking.version == 1


@pytest.mark.django_db
def test_it_answers_a_taken_time_with_409_listing_each_refused_date(client, room, alice, bob, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    factories.booking(room, bob, at(MONDAY + timedelta(days=2), 10), private=True, title="Geheim")
    before = snapshot()
    response = patch(
        client, token_for(alice), series, {"scope": "all", "start_time": "10:00", "end_time": "11:00"}
    )
    assert response.status_code == 409
    body = response.json()
    assert [datetime.fromisoformat(o["start"]) for o in body["occurrences"]] == [
        at(MONDAY + timedelta(days=2), 10)
    ]
    assert body["occurrences"][0]["conflicts"][0]["title"] is None  # bob's private title stays hidden
    assert snapshot() == before


@pytest.mark.django_db
def test_it_makes_a_booking_a_series_through_the_api(client, room, alice, token_for):
    booking = services.create_booking(
        room=room, organizer=alice, title="Solo", start=at(MONDAY, 14), end=at(MONDAY, 15)
    )
    response = client.post(
        f"/api/v1/bookings/{booking.pk}/series",
        {"rrule": "FREQ=DAILY;COUNT=3"},
        content_type="application/json",
        headers=token_for(alice),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"][0]["id"] == booking.pk and len(body["created"]) == 3
    assert body["series"]["rrule"] == "FREQ=DAILY;COUNT=3"
    again = client.post(
        f"/api/v1/bookings/{booking.pk}/series",
        {"rrule": "FREQ=DAILY;COUNT=3"},
        content_type="application/json",
        headers=token_for(alice),
    )
    assert again.status_code == 422 and again.json()["field"] == "series"


# --- the staff UI -------------------------------------------------------------------------


def change_url(booking: Booking) -> str:
    return reverse("bookings:change", args=[booking.pk])


def form_data(booking: Booking, **changes) -> dict:
    start, end = booking.start.astimezone(BERLIN), booking.end.astimezone(BERLIN)
    data = {
        "title": booking.title,
        "room": booking.room_id,
        "date": start.date().isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "attendees": "\n".join(booking.attendees),
        "version": booking.version,
        "scope": "this",
    }
    if booking.private:
        data["private"] = "on"
    data.update(changes)
    return data


@pytest.mark.django_db
def test_it_offers_the_three_scopes_on_a_date_of_a_series_and_repeat_on_a_single_booking(client, room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    single = factories.booking(room, alice, at(MONDAY, 14))
    client.force_login(alice)

    page = client.get(change_url(dates_of(series)[1])).content.decode()
    assert page.count('name="scope"') == 3
    assert all(f'value="{v}"' in page for v in ("this", "following", "all"))
    assert 'name="action" value="repeat"' not in page

    page = client.get(change_url(single)).content.decode()
    assert 'name="scope"' not in page
    assert 'name="action" value="repeat"' in page and 'name="until"' in page


@pytest.mark.django_db
def test_it_edits_all_dates_in_the_ui_exactly_as_the_api_does(client, room, alice, token_for):
    by_ui = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=4").series
    by_api = make_series(room, alice, at(MONDAY, 12), "FREQ=DAILY;COUNT=4").series
    client.force_login(alice)
    second = dates_of(by_ui)[1]

    response = client.post(
        change_url(second), form_data(second, scope="all", start="10:00", end="11:30", title="Neu")
    )
    assert response.status_code == 302
    api = patch(
        client,
        token_for(alice),
        by_api,
        {"scope": "all", "start_time": "13:00", "end_time": "14:30", "title": "Neu"},
    )
    assert api.status_code == 200

    def shape(series):
        return [(b.end - b.start, b.title, b.version, b.series_exception) for b in dates_of(series)]

    assert [clock(b) for b in dates_of(by_ui)] == [("10:00", "11:30")] * 4
    assert [clock(b) for b in dates_of(by_api)] == [("13:00", "14:30")] * 4
    assert shape(by_ui) == shape(by_api)
    assert [len(m["bookings"]) for m in topics("series.updated")] == [4, 4]
    followed = client.get(response["Location"]).content.decode()
    assert "4" in followed and "Neu" in followed


@pytest.mark.django_db
def test_it_splits_at_this_date_in_the_ui(client, room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=5").series
    third = dates_of(series)[2]
    client.force_login(alice)
    response = client.post(change_url(third), form_data(third, scope="following", title="Später"))
    assert response.status_code == 302
    assert [b.title for b in dates_of(series)] == ["Jour fixe"] * 2
    new = Series.objects.exclude(pk=series.pk).get()
    assert [b.title for b in dates_of(new)] == ["Später"] * 3 and dates_of(new)[0].pk == third.pk


@pytest.mark.django_db
def test_it_changes_only_this_date_in_the_ui_and_marks_it(client, room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    second = dates_of(series)[1]
    client.force_login(alice)
    response = client.post(change_url(second), form_data(second, start="15:00", end="16:00"))
    assert response.status_code == 302
    assert [clock(b)[0] for b in dates_of(series)] == ["09:00", "15:00", "09:00"]
    assert [b.series_exception for b in dates_of(series)] == [False, True, False]


@pytest.mark.django_db
def test_it_refuses_moving_several_dates_to_another_day_and_writes_nothing(client, room, alice):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    first = dates_of(series)[0]
    client.force_login(alice)
    before = snapshot()
    response = client.post(change_url(first), form_data(first, scope="all", date="2027-01-20"))
    assert response.status_code == 422
    assert "has-error" in response.content.decode()
    assert snapshot() == before


@pytest.mark.django_db
def test_it_shows_each_taken_date_in_the_ui_and_writes_nothing(client, room, alice, bob):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    factories.booking(room, bob, at(MONDAY + timedelta(days=2), 10), private=True, title="Geheim")
    first = dates_of(series)[0]
    client.force_login(alice)
    before = snapshot()
    response = client.post(change_url(first), form_data(first, scope="all", start="10:00", end="11:00"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "13. Jan 2027, 10:00–11:00" in page and "Geheim" not in page
    assert snapshot() == before


@pytest.mark.django_db
def test_it_refuses_someone_elses_series_in_the_ui_and_writes_nothing(client, room, alice, bob):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    first = dates_of(series)[0]
    client.force_login(bob)
    before = snapshot()
    assert client.get(change_url(first)).status_code == 403
    assert client.post(change_url(first), form_data(first, scope="all", title="Meins")).status_code == 403
    assert snapshot() == before


@pytest.mark.django_db
def test_it_makes_a_booking_a_series_in_the_ui(client, room, alice, bob):
    single = services.create_booking(
        room=room, organizer=alice, title="Planung", start=at(MONDAY, 14), end=at(MONDAY, 15)
    )
    factories.booking(room, bob, at(MONDAY + timedelta(weeks=4), 14))
    client.force_login(alice)
    before = snapshot()
    data = {"action": "repeat", "repeat": "biweekly", "until": "2027-02-28"}

    refused = client.post(change_url(single), data)
    assert refused.status_code == 409
    assert "8. Feb 2027, 14:00–15:00" in refused.content.decode()
    assert snapshot() == before

    done = client.post(change_url(single), {**data, "skip_conflicts": "on"})
    assert done.status_code == 302
    single.refresh_from_db()
    # Every other Monday until the end of February, the one bob holds left out.
    assert [b.start for b in dates_of(single.series)] == [
        at(MONDAY + timedelta(weeks=w), 14) for w in (0, 2, 6)
    ]
    assert single.series.rrule == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270228"

    bad = client.post(
        change_url(factories.booking(room, alice, at(MONDAY, 17))), {**data, "until": "2027-01-01"}
    )
    assert bad.status_code == 422 and "has-error" in bad.content.decode()
