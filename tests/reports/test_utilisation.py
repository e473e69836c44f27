"""Utilisation figures on hand-made bookings whose hours and rates are known."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from bookings.models import Blocking, Booking, BookingEvent, Policy, PolicyHours
from bookings.spans import make_span
from integrations.directory.models import MailGroup
from reports.utilisation import by_group, heat_map, per_room, sizes, weekly
from tests import factories

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# The week of 23 March 2026: the clocks go forward in the night to Sunday the 29th.
MONDAY = date(2026, 3, 23)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Berlin that week (day 0 = Monday)."""
    d = MONDAY + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=BERLIN)


def office_hours(room) -> None:
    """Monday to Friday, 08:00–18:00."""
    policy = Policy.objects.create(room=room)
    for weekday in range(1, 6):
        PolicyHours.objects.create(policy=policy, weekday=weekday, opens=time(8), closes=time(18))


def released(room, organizer, start: datetime, minutes: int) -> Booking:
    """Released at the end of a 15-minute check-in window, as checkin.release_no_shows does."""
    booking = factories.booking(room, organizer, start, minutes=15, status=Booking.Status.RELEASED)
    booked_end = start + timedelta(minutes=minutes)
    BookingEvent.objects.create(
        booking=booking,
        kind=BookingEvent.Kind.RELEASED,
        at=start + timedelta(minutes=15),
        changes={
            "status": ["confirmed", "released"],
            "end": [booked_end.isoformat(), booking.end.isoformat()],
        },
    )
    return booking


@pytest.fixture
def berlin_room(db):
    return factories.room(
        factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))), capacity=10
    )


def only(figures):
    assert len(figures) == 1
    return figures[0]


@pytest.mark.django_db
def test_it_counts_a_room_without_hours_as_bookable_all_day_and_the_dst_day_as_23_hours(berlin_room):
    week = only(per_room(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)))
    sunday = only(per_room(room_ids=[berlin_room.pk], start=date(2026, 3, 29), end=date(2026, 3, 30)))

    assert week.bookable_hours == Decimal("167.00")  # 7 × 24 − 1
    assert sunday.bookable_hours == Decimal("23.00")


@pytest.mark.django_db
def test_it_counts_an_office_hours_room_only_by_day_and_not_at_night(berlin_room, alice):
    office_hours(berlin_room)
    factories.booking(berlin_room, alice, at(0, 9), minutes=120)  # Monday 09–11: 2 h
    factories.booking(berlin_room, alice, at(1, 17), minutes=120)  # Tuesday 17–19: 1 h inside
    factories.booking(berlin_room, alice, at(1, 22), minutes=60)  # Tuesday night: outside

    figures = only(per_room(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)))

    assert figures.bookable_hours == Decimal("50.00")  # 5 days × 10 h; the weekend is closed
    assert figures.booked_hours == Decimal("3.00")
    assert figures.used_hours == Decimal("3.00")
    assert figures.booked_share == Decimal("0.0600")


@pytest.mark.django_db
def test_it_shows_booked_but_not_used_and_the_no_show_rate(berlin_room, alice):
    office_hours(berlin_room)
    factories.booking(berlin_room, alice, at(0, 9), minutes=120)  # used
    released(berlin_room, alice, at(2, 10), minutes=120)  # booked 2 h, nobody came
    factories.booking(  # cancelled 30 minutes before: a no-show too
        berlin_room, alice, at(3, 14), status=Booking.Status.CANCELLED, cancelled_at=at(3, 13, 30)
    )
    factories.booking(  # cancelled two days before: fine
        berlin_room, alice, at(4, 14), status=Booking.Status.CANCELLED, cancelled_at=at(2, 9)
    )
    factories.booking(berlin_room, alice, at(4, 9), status=Booking.Status.REJECTED)  # never held

    figures = only(per_room(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)))

    assert figures.booked_hours == Decimal("4.00")
    assert figures.used_hours == Decimal("2.00")
    assert (figures.booked_share, figures.used_share) == (Decimal("0.0800"), Decimal("0.0400"))
    assert (figures.bookings, figures.released, figures.late_cancelled) == (4, 1, 1)
    assert figures.no_show_rate == Decimal("0.5000")


@pytest.mark.django_db
def test_it_does_not_count_a_blocked_day_as_empty(berlin_room, alice):
    office_hours(berlin_room)
    Blocking.objects.create(
        building=berlin_room.floor.building, span=make_span(at(4, 0), at(5, 0)), reason="Betriebsausflug"
    )
    Blocking.objects.create(  # lifted: counts again
        room=berlin_room, span=make_span(at(3, 0), at(4, 0)), reason="Umbau", cancelled_at=at(0, 8)
    )
    factories.booking(berlin_room, alice, at(0, 8), minutes=600)  # all Monday

    figures = only(per_room(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)))

    assert figures.bookable_hours == Decimal("40.00")
    assert figures.used_share == Decimal("0.2500")


@pytest.mark.django_db
def test_it_takes_the_hours_of_the_nearest_place_that_has_any(berlin_room):
    site = berlin_room.floor.building.site
    site_policy = Policy.objects.create(site=site)
    PolicyHours.objects.create(policy=site_policy, weekday=1, opens=time(7), closes=time(19))
    Policy.objects.create(room=berlin_room, requires_check_in=True)  # no hours: inherits

    figures = only(per_room(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)))

    assert figures.bookable_hours == Decimal("12.00")  # Monday only, 07–19


@pytest.mark.django_db
def test_it_counts_a_weekly_meeting_only_inside_the_period(berlin_room, alice):
    office_hours(berlin_room)
    for week in range(-1, 3):  # one weekly meeting, one occurrence in the period
        factories.booking(berlin_room, alice, at(7 * week + 1, 10), minutes=90)

    figures = only(per_room(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)))

    assert figures.booked_hours == Decimal("1.50")
    assert figures.bookings == 1


@pytest.mark.django_db
def test_it_maps_booked_hours_by_weekday_and_hour_of_the_sites_clock(berlin_room, alice):
    office_hours(berlin_room)
    factories.booking(berlin_room, alice, at(0, 9, 30), minutes=90)  # Monday 09:30–11:00

    cells = {
        (c.weekday, c.hour): c
        for c in heat_map(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7))
    }

    assert len(cells) == 7 * 24
    assert cells[1, 9].bookable_hours == Decimal("1.00")
    assert cells[1, 9].booked_share == Decimal("0.5000")
    assert cells[1, 10].booked_share == Decimal("1.0000")
    assert cells[2, 10].booked_share == Decimal("0.0000")
    assert cells[1, 7].bookable_hours == Decimal("0.00")  # before opening: not empty, closed
    assert cells[1, 7].booked_share is None
    assert cells[7, 12].bookable_hours == Decimal("0.00")  # Sunday


@pytest.mark.django_db
def test_it_has_no_hour_two_on_the_night_the_clocks_go_forward(berlin_room):
    cells = {
        (c.weekday, c.hour): c
        for c in heat_map(room_ids=[berlin_room.pk], start=date(2026, 3, 29), end=date(2026, 3, 30))
    }

    assert cells[7, 1].bookable_hours == Decimal("1.00")
    assert cells[7, 2].bookable_hours == Decimal("0.00")
    assert cells[7, 3].bookable_hours == Decimal("1.00")
    assert sum(c.bookable_hours for c in cells.values()) == Decimal("23.00")


@pytest.mark.django_db
def test_it_finds_rooms_whose_median_meeting_uses_less_than_a_third_of_the_seats(berlin_room, alice):
    small = factories.room(berlin_room.floor, capacity=4)
    for day, attendees in enumerate([[], ["a@x.de"], ["a@x.de", "b@x.de"]]):  # 1, 2 and 3 people
        factories.booking(berlin_room, alice, at(day, 9), attendees=attendees)
        factories.booking(small, alice, at(day, 9), attendees=attendees)
    factories.booking(berlin_room, alice, at(3, 9), attendees=["a@x.de"] * 9, status=Booking.Status.CANCELLED)

    found = sizes(room_ids=[berlin_room.pk, small.pk], start=MONDAY, end=MONDAY + timedelta(days=7))

    assert (found[berlin_room.pk].meetings, found[berlin_room.pk].median_people) == (3, Decimal("2.0"))
    assert found[berlin_room.pk].oversized  # 2 of 10 seats
    assert not found[small.pk].oversized  # 2 of 4 seats


@pytest.mark.django_db
def test_it_counts_a_distribution_list_with_the_members_the_directory_sync_stored(berlin_room, alice):
    # As the directory sync stores them (tests/integrations/test_directory_mail_groups.py reads slapd).
    MailGroup.objects.create(
        external_id="g-1", email="team@firma.de", name="Team", members=7, synced_at=at(0, 0)
    )
    MailGroup.objects.create(
        external_id="g-2", email="leer@firma.de", name="Leer", members=0, synced_at=at(0, 0)
    )
    meetings = [
        ["Team@Firma.de"],  # 1 + 7 = 8 (addresses match in any case)
        ["a@x.de", "team@firma.de"],  # 1 + 1 + 7 = 9
        ["a@x.de"],  # 2
        ["leer@firma.de", "b@x.de"],  # 1 + 0 + 1 = 2: an empty list adds nobody
        [],  # 1
    ]
    for day, attendees in enumerate(meetings):
        factories.booking(berlin_room, alice, at(day, 9), attendees=attendees)

    (size,) = sizes(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)).values()

    # 1, 2, 2, 8, 9: the median meeting has 2 people, under a third of the 10 seats.
    assert (size.meetings, size.median_people, size.oversized) == (5, Decimal("2.0"), True)
    MailGroup.objects.filter(email="leer@firma.de").update(members=12)  # now 1, 2, 8, 9, 14
    (size,) = sizes(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7)).values()
    assert (size.median_people, size.oversized) == (Decimal("8.0"), False)


@pytest.mark.django_db
def test_it_shows_each_week_beside_the_same_week_a_year_before(berlin_room, alice):
    office_hours(berlin_room)
    factories.booking(berlin_room, alice, at(0, 8), minutes=600)  # this Monday: 10 of 50 h
    factories.booking(berlin_room, alice, at(7, 8), minutes=300)  # next Monday: 5 of 50 h
    factories.booking(berlin_room, alice, at(-364, 8), minutes=600)  # a year before: 2 days
    factories.booking(berlin_room, alice, at(-363, 8), minutes=600)

    weeks = weekly(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=14))

    assert [w.monday for w in weeks] == [MONDAY, MONDAY + timedelta(days=7)]
    assert [w.booked_share for w in weeks] == [Decimal("0.2000"), Decimal("0.1000")]
    assert [w.booked_share_year_before for w in weeks] == [Decimal("0.4000"), Decimal("0.0000")]


@pytest.mark.django_db
def test_it_shows_no_year_before_when_nothing_was_booked_then(berlin_room, alice):
    office_hours(berlin_room)
    factories.booking(berlin_room, alice, at(0, 8), minutes=600)

    weeks = weekly(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7))

    assert [(w.booked_share, w.booked_share_year_before) for w in weeks] == [(Decimal("0.2000"), None)]


def group_of(name: str, size: int):
    """A group with ``size`` members; returns its first member."""
    group = Group.objects.create(name=name)
    members = [factories.user() for _ in range(size)]
    group.user_set.set(members)
    return members[0]


@pytest.mark.django_db
def test_it_shows_no_shows_per_group_and_merges_groups_below_the_minimum_size(berlin_room, alice):
    sales = group_of("Vertrieb", 5)
    board = group_of("Vorstand", 2)
    factories.booking(berlin_room, sales, at(0, 9))
    released(berlin_room, sales, at(1, 9), minutes=60)
    factories.booking(
        berlin_room, sales, at(2, 9), status=Booking.Status.CANCELLED, cancelled_at=at(2, 8, 30)
    )
    released(berlin_room, board, at(3, 9), minutes=60)  # two people: not shown on their own
    factories.booking(berlin_room, alice, at(4, 9))  # in no group

    with override_settings(RFR_REPORT_MIN_GROUP_SIZE=5):
        rows = by_group(room_ids=[berlin_room.pk], start=MONDAY, end=MONDAY + timedelta(days=7))

    assert [(r.name, r.bookings, r.released, r.late_cancelled) for r in rows] == [
        ("Vertrieb", 3, 1, 1),
        (None, 2, 1, 0),
    ]
    assert rows[0].no_show_rate == Decimal("0.6667")
