"""Recurring bookings: RRULEs in the site's local time, all or nothing, and their limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingEvent, IdempotencyKey, OutboxMessage, Series
from tests import factories
from tests.helpers import at, booking_channels, make_series

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def next_year() -> int:
    return timezone.now().year + 1


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 for the last) given weekday (0 = Monday) of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def room_in(time_zone: str):
    site = factories.site(time_zone=time_zone)
    return factories.room(factories.floor(factories.building(site)))


def post_series(client, headers, *, room, start, end=None, rrule, **extra):
    body = {
        "room": room.pk,
        "title": "Jour fixe",
        "start": start.isoformat(),
        "end": (end or start + timedelta(hours=1)).isoformat(),
        "rrule": rrule,
        **extra,
    }
    return client.post("/api/v1/series", body, content_type="application/json", headers=headers)


def local_starts(items: list[dict], tz: ZoneInfo) -> list[datetime]:
    return [datetime.fromisoformat(item["start"]).astimezone(tz) for item in items]


def days_of(result) -> list[date]:
    tz = result.series.room.floor.building.site.tz
    return [b.span.lower.astimezone(tz).date() for b in result.created]


# --- daylight-saving time -------------------------------------------------------------


@pytest.mark.django_db
def test_it_keeps_a_weekly_berlin_series_at_nine_across_both_clock_changes(client, alice, token_for):
    room = room_in("Europe/Berlin")
    year = next_year()
    first_monday = nth_weekday(year, 3, 0, 1)
    spring, autumn = nth_weekday(year, 3, 6, -1), nth_weekday(year, 10, 6, -1)
    # Sent in UTC: the series still lives at 09:00 Berlin time.
    start = at(first_monday, 9, tz=BERLIN).astimezone(UTC)

    response = post_series(client, token_for(alice), room=room, start=start, rrule="FREQ=WEEKLY;COUNT=40")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["series"]["time_zone"] == "Europe/Berlin"
    assert body["skipped"] == []
    starts = local_starts(body["created"], BERLIN)
    ends = [datetime.fromisoformat(b["end"]).astimezone(BERLIN) for b in body["created"]]
    assert len(starts) == 40
    assert starts[-1].date() > autumn
    assert [(s.hour, s.minute) for s in starts] == [(9, 0)] * 40
    assert [(e.hour, e.minute) for e in ends] == [(10, 0)] * 40
    assert [s.date() for s in starts] == [first_monday + timedelta(weeks=n) for n in range(40)]
    # Winter time (+01:00) until the last Sunday of March, summer time (+02:00) until the
    # last Sunday of October, then winter time again.
    assert [s.utcoffset() for s in starts] == [
        timedelta(hours=2 if spring < s.date() < autumn else 1) for s in starts
    ]
    assert {s.astimezone(UTC).hour for s in starts} == {7, 8}
    stored = Booking.objects.filter(series_id=body["series"]["id"]).order_by("span")
    assert [b.span.lower.astimezone(BERLIN).hour for b in stored] == [9] * 40


@pytest.mark.django_db
def test_it_keeps_a_new_york_series_at_nine_across_its_own_clock_changes(client, alice, token_for):
    room = room_in("America/New_York")
    year = next_year()
    first_monday = nth_weekday(year, 3, 0, 1)
    # The US changes on the second Sunday of March and the first Sunday of November.
    spring, autumn = nth_weekday(year, 3, 6, 2), nth_weekday(year, 11, 6, 1)

    response = post_series(
        client,
        token_for(alice),
        room=room,
        start=at(first_monday, 9, tz=NEW_YORK),
        rrule="FREQ=WEEKLY;COUNT=40",
    )

    assert response.status_code == 201, response.content
    assert response.json()["series"]["time_zone"] == "America/New_York"
    starts = local_starts(response.json()["created"], NEW_YORK)
    assert starts[0].date() < spring and starts[-1].date() > autumn
    assert [(s.hour, s.minute) for s in starts] == [(9, 0)] * 40
    assert [s.utcoffset() for s in starts] == [
        timedelta(hours=-4 if spring < s.date() < autumn else -5) for s in starts
    ]
    assert {s.astimezone(UTC).hour for s in starts} == {13, 14}
    # Between the two countries' changes (Berlin still on winter time) New York is
    # five hours behind Berlin instead of six.
    assert {s.astimezone(BERLIN).hour for s in starts} == {14, 15}


@pytest.mark.django_db
def test_it_keeps_a_daily_series_at_nine_through_the_night_the_clocks_change(alice):
    room = room_in("Europe/Berlin")
    spring = nth_weekday(next_year(), 3, 6, -1)

    result = make_series(room, alice, at(spring - timedelta(days=2), 9, tz=BERLIN), "FREQ=DAILY;COUNT=5")

    starts = [b.span.lower.astimezone(BERLIN) for b in result.created]
    assert [s.hour for s in starts] == [9] * 5
    assert [s.utcoffset() for s in starts] == [timedelta(hours=h) for h in (1, 1, 2, 2, 2)]
    # The day of the change is 23 hours long; the series follows the wall clock.
    assert starts[2].astimezone(UTC) - starts[1].astimezone(UTC) == timedelta(hours=23)


# --- the rule subset --------------------------------------------------------------------


@pytest.fixture
def berlin_room(db):
    return room_in("Europe/Berlin")


@pytest.mark.django_db
def test_it_books_a_daily_series(berlin_room, alice):
    monday = nth_weekday(next_year(), 1, 0, 2)

    result = make_series(berlin_room, alice, at(monday, 9, tz=BERLIN), "FREQ=DAILY;COUNT=5")

    assert days_of(result) == [monday + timedelta(days=n) for n in range(5)]
    assert result.skipped == []
    assert result.series.rrule == "FREQ=DAILY;COUNT=5"
    assert Booking.objects.filter(series=result.series, status="confirmed").count() == 5


@pytest.mark.django_db
def test_it_books_a_weekly_series_on_monday_and_wednesday(berlin_room, alice):
    monday = nth_weekday(next_year(), 1, 0, 2)

    result = make_series(berlin_room, alice, at(monday, 14, tz=BERLIN), "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6")

    assert days_of(result) == [monday + timedelta(days=d) for d in (0, 2, 7, 9, 14, 16)]
    assert {b.span.lower.astimezone(BERLIN).hour for b in result.created} == {14}


@pytest.mark.django_db
def test_it_books_a_monthly_series_by_date(berlin_room, alice):
    year = next_year()

    result = make_series(
        berlin_room, alice, at(date(year, 1, 15), 9, tz=BERLIN), "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=4"
    )

    assert days_of(result) == [date(year, month, 15) for month in (1, 2, 3, 4)]


@pytest.mark.django_db
def test_it_books_a_monthly_series_on_the_last_day_of_each_month(berlin_room, alice):
    year = next_year()

    result = make_series(
        berlin_room, alice, at(date(year, 1, 31), 9, tz=BERLIN), "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3"
    )

    assert days_of(result) == [date(year, 1, 31), date(year, 3, 1) - timedelta(days=1), date(year, 3, 31)]


@pytest.mark.django_db
def test_it_books_a_monthly_series_on_the_second_tuesday(berlin_room, alice):
    year = next_year()
    first = nth_weekday(year, 1, 1, 2)

    result = make_series(berlin_room, alice, at(first, 10, tz=BERLIN), "FREQ=MONTHLY;BYDAY=2TU;COUNT=4")

    assert days_of(result) == [nth_weekday(year, month, 1, 2) for month in (1, 2, 3, 4)]
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in days_of(result))


@pytest.mark.django_db
def test_it_books_a_monthly_series_on_the_last_friday(berlin_room, alice):
    year = next_year()

    result = make_series(
        berlin_room, alice, at(nth_weekday(year, 1, 4, -1), 16, tz=BERLIN), "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"
    )

    assert days_of(result) == [nth_weekday(year, month, 4, -1) for month in (1, 2, 3)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "step", "count"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;COUNT=4", timedelta(weeks=2), 4),
        ("FREQ=DAILY;INTERVAL=3;COUNT=3", timedelta(days=3), 3),
        ("RRULE:FREQ=WEEKLY;COUNT=3", timedelta(weeks=1), 3),
    ],
)
def test_it_books_every_nth_period(berlin_room, alice, rule, step, count):
    monday = nth_weekday(next_year(), 1, 0, 2)

    result = make_series(berlin_room, alice, at(monday, 9, tz=BERLIN), rule)

    assert days_of(result) == [monday + step * n for n in range(count)]


@pytest.mark.django_db
def test_it_ends_a_series_on_the_until_date_inclusive(berlin_room, alice):
    monday = nth_weekday(next_year(), 1, 0, 2)
    until = monday + timedelta(days=4)

    result = make_series(berlin_room, alice, at(monday, 9, tz=BERLIN), f"FREQ=DAILY;UNTIL={until:%Y%m%d}")

    assert days_of(result) == [monday + timedelta(days=n) for n in range(5)]


@pytest.mark.django_db
def test_it_reads_until_in_utc_against_the_local_start(berlin_room, alice):
    monday = nth_weekday(next_year(), 1, 0, 2)
    friday = monday + timedelta(days=4)
    start = at(monday, 9, tz=BERLIN)  # 08:00 UTC in winter

    inclusive = make_series(berlin_room, alice, start, f"FREQ=DAILY;UNTIL={friday:%Y%m%d}T080000Z")
    other_room = room_in("Europe/Berlin")
    exclusive = make_series(other_room, alice, start, f"FREQ=DAILY;UNTIL={friday:%Y%m%d}T075959Z")

    assert days_of(inclusive)[-1] == friday
    assert len(inclusive.created) == 5
    assert days_of(exclusive)[-1] == friday - timedelta(days=1)


@pytest.mark.django_db
def test_it_stops_after_count_occurrences(client, alice, token_for, berlin_room):
    monday = nth_weekday(next_year(), 2, 0, 1)

    response = post_series(
        client,
        token_for(alice),
        room=berlin_room,
        start=at(monday, 9, tz=BERLIN),
        rrule="FREQ=WEEKLY;COUNT=3",
    )

    assert response.status_code == 201, response.content
    created = response.json()["created"]
    assert len(created) == 3
    assert {b["series"] for b in created} == {response.json()["series"]["id"]}
    assert {b["title"] for b in created} == {"Jour fixe"}
    assert {b["organizer"] for b in created} == {"alice"}


@pytest.mark.django_db
def test_it_writes_an_audit_event_per_occurrence_and_one_outbox_message(berlin_room, alice, settings):
    monday = nth_weekday(next_year(), 2, 0, 1)

    result = make_series(berlin_room, alice, at(monday, 9, tz=BERLIN), "FREQ=DAILY;COUNT=3")

    assert BookingEvent.objects.filter(kind="created", actor=alice).count() == 3
    # One announcement for the whole series on each channel, not one per occurrence.
    messages = list(OutboxMessage.objects.all())
    assert sorted(m.channel for m in messages) == booking_channels()
    for message in messages:
        assert message.topic == "series.created"
        assert message.payload["series"] == result.series.pk
        assert [b["id"] for b in message.payload["bookings"]] == [b.pk for b in result.created]


# --- conflicts -------------------------------------------------------------------------


@pytest.fixture
def taken(berlin_room, bob):
    """Bob's private booking on the third Monday of a weekly series starting in February."""
    first = nth_weekday(next_year(), 2, 0, 1)
    third = at(first + timedelta(weeks=2), 9, tz=BERLIN)
    booking = factories.booking(
        berlin_room, bob, third + timedelta(minutes=30), title="Bobs Termin", private=True
    )
    return first, third, booking


@pytest.mark.django_db
def test_it_refuses_the_whole_series_when_one_occurrence_is_taken(
    client, alice, token_for, berlin_room, taken
):
    first, third, booking = taken

    response = post_series(
        client,
        {**token_for(alice), "Idempotency-Key": "series-1"},
        room=berlin_room,
        start=at(first, 9, tz=BERLIN),
        rrule="FREQ=WEEKLY;COUNT=5",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "1 Termin der Serie ist bereits belegt."
    assert [c["id"] for c in body["conflicts"]] == [booking.pk]
    assert local_starts(body["occurrences"], BERLIN) == [third]
    assert [[c["id"] for c in o["conflicts"]] for o in body["occurrences"]] == [[booking.pk]]
    # Bob's booking is private: alice learns the slot is taken, not what it is.
    assert body["conflicts"][0]["title"] is None
    assert body["conflicts"][0]["organizer"] is None
    assert Series.objects.count() == 0
    assert list(Booking.objects.all()) == [booking]
    assert BookingEvent.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.django_db
def test_it_names_every_taken_occurrence(client, alice, bob, token_for, berlin_room, taken):
    first, third, _booking = taken
    fifth = factories.booking(berlin_room, bob, at(first + timedelta(weeks=4), 9, tz=BERLIN))

    response = post_series(
        client,
        {**token_for(alice), "Accept-Language": "en"},
        room=berlin_room,
        start=at(first, 9, tz=BERLIN),
        rrule="FREQ=WEEKLY;COUNT=5",
    )

    assert response.status_code == 409
    assert response.json()["detail"] == "2 occurrences of the series are already booked."
    assert local_starts(response.json()["occurrences"], BERLIN) == [third, third + timedelta(weeks=2)]
    assert [c["id"] for c in response.json()["conflicts"]] == [_booking.pk, fifth.pk]
    assert Booking.objects.count() == 2


@pytest.mark.django_db
def test_it_books_the_free_occurrences_when_asked_to_skip_conflicts(
    client, alice, token_for, berlin_room, taken, settings
):
    first, third, booking = taken

    response = post_series(
        client,
        token_for(alice),
        room=berlin_room,
        start=at(first, 9, tz=BERLIN),
        rrule="FREQ=WEEKLY;COUNT=5",
        skip_conflicts=True,
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [s.date() for s in local_starts(body["created"], BERLIN)] == [
        first + timedelta(weeks=n) for n in (0, 1, 3, 4)
    ]
    assert len(body["skipped"]) == 1
    assert local_starts(body["skipped"], BERLIN) == [third]
    assert [c["id"] for c in body["skipped"][0]["conflicts"]] == [booking.pk]
    series = Series.objects.get()
    assert series.occurrences.count() == 4
    assert BookingEvent.objects.filter(kind="created").count() == 4
    assert OutboxMessage.objects.filter(topic="series.created").count() == len(booking_channels())
    booking.refresh_from_db()
    assert booking.status == "confirmed"


@pytest.mark.django_db
def test_it_refuses_a_series_whose_every_occurrence_is_taken(client, alice, bob, token_for, berlin_room):
    monday = nth_weekday(next_year(), 2, 0, 1)
    blocker = factories.booking(berlin_room, bob, at(monday, 8, tz=BERLIN), minutes=60 * 24 * 10)

    response = post_series(
        client,
        token_for(alice),
        room=berlin_room,
        start=at(monday, 9, tz=BERLIN),
        rrule="FREQ=DAILY;COUNT=3",
        skip_conflicts=True,
    )

    assert response.status_code == 409
    assert {c["id"] for c in response.json()["conflicts"]} == {blocker.pk}
    assert [[c["id"] for c in o["conflicts"]] for o in response.json()["occurrences"]] == [[blocker.pk]] * 3
    assert Series.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_it_ignores_cancelled_bookings_in_the_way(berlin_room, alice, bob):
    monday = nth_weekday(next_year(), 2, 0, 1)
    factories.booking(berlin_room, bob, at(monday, 9, tz=BERLIN), status="cancelled")

    result = make_series(berlin_room, alice, at(monday, 9, tz=BERLIN), "FREQ=DAILY;COUNT=2")

    assert len(result.created) == 2


# --- limits and bad rules --------------------------------------------------------------


def far(days: int) -> str:
    return f"{nth_weekday(next_year(), 2, 0, 1) + timedelta(days=days):%Y%m%d}"


REFUSED_RULES = [
    pytest.param(
        "FREQ=DAILY;COUNT=501",
        "A series can have at most 500 occurrences.",
        "Eine Serie kann höchstens 500 Termine haben.",
        id="count-over-500",
    ),
    pytest.param(
        f"FREQ=DAILY;UNTIL={far(600)}",
        "A series can have at most 500 occurrences.",
        "Eine Serie kann höchstens 500 Termine haben.",
        id="until-over-500",
    ),
    pytest.param(
        "FREQ=MONTHLY;COUNT=30",
        "A series can reach at most two years ahead.",
        "Eine Serie kann höchstens zwei Jahre in die Zukunft reichen.",
        id="count-beyond-two-years",
    ),
    pytest.param(
        f"FREQ=WEEKLY;UNTIL={far(3 * 366)}",
        "A series can reach at most two years ahead.",
        "Eine Serie kann höchstens zwei Jahre in die Zukunft reichen.",
        id="until-beyond-two-years",
    ),
    pytest.param(
        "FREQ=WEEKLY;BYDAY=MO",
        "A series needs an end: UNTIL or COUNT.",
        "Eine Serie braucht ein Ende: UNTIL oder COUNT.",
        id="endless",
    ),
    pytest.param(
        "FREQ=DAILY;BYHOUR=10;COUNT=3",
        "The recurrence rule part BYHOUR is not supported.",
        "Der Regelteil BYHOUR wird nicht unterstützt.",
        id="byhour",
    ),
    pytest.param(
        "FREQ=YEARLY;COUNT=2",
        "FREQ must be DAILY, WEEKLY or MONTHLY.",
        "FREQ muss DAILY, WEEKLY oder MONTHLY sein.",
        id="yearly",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("rule", "english", "german"), REFUSED_RULES)
def test_it_refuses_a_rule_beyond_the_limits_in_german_and_english(
    client, alice, token_for, berlin_room, rule, english, german
):
    start = at(nth_weekday(next_year(), 2, 0, 1), 9, tz=BERLIN)

    in_german = post_series(client, token_for(alice), room=berlin_room, start=start, rrule=rule)
    in_english = post_series(
        client, {**token_for(alice), "Accept-Language": "en"}, room=berlin_room, start=start, rrule=rule
    )

    assert (in_german.status_code, in_english.status_code) == (422, 422)
    assert in_german.json() == {"detail": german, "field": "rrule"}
    assert in_english.json() == {"detail": english, "field": "rrule"}
    assert Series.objects.count() == 0
    assert Booking.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;COUNT=3;UNTIL=20990101",
        "FREQ=WEEKLY;BYDAY=2TU;COUNT=3",
        "FREQ=DAILY;BYDAY=MO;COUNT=3",
        "FREQ=WEEKLY;BYMONTHDAY=3;COUNT=3",
        "FREQ=MONTHLY;BYMONTHDAY=32;COUNT=3",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;COUNT=three",
        "FREQ=DAILY;INTERVAL=0;COUNT=3",
        "FREQ=DAILY;UNTIL=2027-01-31",
        "FREQ=WEEKLY;BYDAY=XX;COUNT=3",
        "FREQ=WEEKLY;COUNT",
        "hello",
    ],
)
def test_it_refuses_a_malformed_rule_naming_the_field(client, alice, token_for, berlin_room, rule):
    start = at(nth_weekday(next_year(), 2, 0, 1), 9, tz=BERLIN)

    response = post_series(
        client, {**token_for(alice), "Accept-Language": "en"}, room=berlin_room, start=start, rrule=rule
    )

    assert response.status_code == 422, response.content
    assert response.json()["field"] == "rrule"
    assert response.json()["detail"]
    assert Series.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_series_starting_in_the_past(client, alice, token_for, berlin_room):
    start = timezone.now() - timedelta(days=2)

    response = post_series(
        client,
        {**token_for(alice), "Accept-Language": "en"},
        room=berlin_room,
        start=start,
        rrule="FREQ=DAILY;COUNT=5",
    )

    assert response.status_code == 422
    assert response.json() == {"detail": "The start lies in the past.", "field": "start"}
    assert Booking.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_series_without_credentials(client, berlin_room):
    start = at(nth_weekday(next_year(), 2, 0, 1), 9, tz=BERLIN)

    response = post_series(client, {}, room=berlin_room, start=start, rrule="FREQ=DAILY;COUNT=2")

    assert response.status_code == 401
    assert Series.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("time_zone", "until"),
    [("Europe/Berlin", "99991231T235959Z"), ("America/New_York", "00010101T000000Z")],
)
def test_it_refuses_an_until_at_the_end_of_the_calendar_without_a_server_error(
    client, alice, token_for, time_zone, until
):
    room = room_in(time_zone)
    start = at(nth_weekday(next_year(), 2, 0, 1), 9, tz=ZoneInfo(time_zone))

    response = post_series(
        client,
        {**token_for(alice), "Accept-Language": "en"},
        room=room,
        start=start,
        rrule=f"FREQ=DAILY;UNTIL={until}",
    )

    assert response.status_code == 422, response.content
    assert response.json()["field"] == "rrule"
    assert Series.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_series_whose_last_occurrence_cannot_be_stored(client, alice, token_for):
    room = room_in("America/New_York")
    # 20:00 in New York on the last evening of 9999 is already year 10000 in UTC.
    start = datetime(9998, 12, 30, 20, 0, tzinfo=NEW_YORK)

    response = post_series(client, token_for(alice), room=room, start=start, rrule="FREQ=DAILY;COUNT=400")
    mine = client.get("/api/v1/bookings?offset=360", headers=token_for(alice))

    assert response.status_code == 422, response.content
    assert Booking.objects.count() == 0
    assert mine.status_code == 200
