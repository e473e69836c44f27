"""A series whose dates are taken: those dates in another free room, all or nothing."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookings import services
from bookings.errors import BookingConflict, InvalidBooking, PolicyViolation
from bookings.models import Booking, Policy, Series
from tests import factories
from tests.helpers import at, make_series, post_booking, text

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def rooms(db):
    floor = factories.floor(factories.building(factories.site(time_zone="Europe/Berlin")))
    return factories.room(floor, name="Spree", capacity=6), factories.room(floor, name="Havel", capacity=8)


@pytest.fixture
def monday():
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)


@pytest.mark.django_db
def test_it_books_a_taken_date_in_the_other_room_chosen(rooms, monday, alice, bob):
    spree, havel = rooms
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")

    result = make_series(
        spree, alice, at(monday, 9, tz=BERLIN), "FREQ=WEEKLY;COUNT=3", elsewhere={second: havel}
    )

    assert [(b.room.name, b.start) for b in result.created] == [
        ("Spree", at(monday, 9, tz=BERLIN)),
        ("Havel", second),
        ("Spree", at(monday + timedelta(days=14), 9, tz=BERLIN)),
    ]
    assert result.skipped == []
    assert {b.series_id for b in result.created} == {result.series.pk}
    # Its own date: a change to the whole series leaves it in Havel.
    assert [b.series_exception for b in result.created] == [False, True, False]


@pytest.mark.django_db
def test_it_books_nothing_when_the_other_room_is_taken_too(rooms, monday, alice, bob):
    spree, havel = rooms
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")
    factories.booking(havel, bob, second, title="Auch da")

    with pytest.raises(BookingConflict) as refused:
        make_series(spree, alice, at(monday, 9, tz=BERLIN), "FREQ=WEEKLY;COUNT=3", elsewhere={second: havel})

    assert "Havel" in refused.value.message
    assert not Series.objects.exists() and Booking.objects.filter(organizer=alice).count() == 0


@pytest.mark.django_db
def test_it_asks_the_other_room_s_rules(rooms, monday, alice, bob):
    spree, havel = rooms
    Policy.objects.create(room=havel, max_duration_minutes=30)
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")

    with pytest.raises(PolicyViolation):
        make_series(spree, alice, at(monday, 9, tz=BERLIN), "FREQ=WEEKLY;COUNT=3", elsewhere={second: havel})

    assert not Series.objects.exists() and Booking.objects.filter(organizer=alice).count() == 0


@pytest.mark.django_db
def test_it_refuses_another_room_for_a_free_date_or_another_site(rooms, monday, alice, bob):
    spree, havel = rooms
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")
    far = factories.room(name="Anderswo")
    start = at(monday, 9, tz=BERLIN)

    with pytest.raises(InvalidBooking):
        make_series(spree, alice, start, "FREQ=WEEKLY;COUNT=3", elsewhere={start: havel})  # start is free
    with pytest.raises(InvalidBooking):
        make_series(spree, alice, start, "FREQ=WEEKLY;COUNT=3", elsewhere={second: far})

    assert not Series.objects.exists()


# --- the booking dialog's conflict page -----------------------------------------------


@pytest.mark.django_db
def test_the_conflict_page_offers_another_room_for_a_taken_date_and_books_it_there(
    client, rooms, monday, alice, bob
):
    spree, havel = rooms
    small = factories.room(spree.floor, name="Klein", capacity=2)  # too small: not offered
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")
    client.force_login(alice)
    series = {"freq": "weekly", "ends": "count", "count": "3"}

    refused = post_booking(client, spree, monday, **series)

    assert refused.status_code == 409
    page = text(refused)
    assert "Belegte Daten in einem anderen Raum" in page and "auslassen" in page
    offered = refused.context["occurrences"][0]["elsewhere"]
    assert [r.name for r in offered] == ["Havel"] and small not in offered
    choice = f"{second.isoformat()}|{havel.pk}"
    assert f'value="{choice}"' in page

    booked = post_booking(client, spree, monday, instead=choice, **series)

    assert booked.status_code == 302
    assert "1 Datum liegt in einem anderen Raum." in text(client.get(booked["Location"]))
    mine = Booking.objects.filter(organizer=alice).order_by("span")
    assert [(b.room.name, b.start) for b in mine] == [
        ("Spree", at(monday, 9, tz=BERLIN)),
        ("Havel", second),
        ("Spree", at(monday + timedelta(days=14), 9, tz=BERLIN)),
    ]
    assert len({b.series_id for b in mine}) == 1


@pytest.mark.django_db
def test_a_forged_other_room_is_refused_in_german_and_nothing_is_booked(client, rooms, monday, alice, bob):
    spree, _havel = rooms
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")
    client.force_login(alice)

    response = post_booking(
        client, spree, monday, freq="weekly", ends="count", count="3", instead=f"{second.isoformat()}|999999"
    )

    assert response.status_code == 422
    assert "Der für ein Datum gewählte andere Raum ist keiner, den Sie buchen können." in text(response)
    assert not Booking.objects.filter(organizer=alice).exists()


@pytest.mark.django_db
def test_the_conflict_page_offers_only_rooms_the_rules_allow_then(client, rooms, monday, alice, bob):
    spree, havel = rooms
    Policy.objects.create(room=havel, max_duration_minutes=30)  # the hour is too long there
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    refused = post_booking(client, spree, monday, freq="weekly", ends="count", count="3")

    assert refused.status_code == 409
    assert refused.context["occurrences"][0]["elsewhere"] == []
    assert "Taken dates in another room" not in text(refused) and "These dates are taken:" in text(refused)


@pytest.mark.django_db
def test_a_change_to_the_whole_series_leaves_the_date_in_the_other_room(rooms, monday, alice, bob):
    spree, havel = rooms
    big = factories.room(spree.floor, name="Elbe", capacity=20)
    second = at(monday + timedelta(days=7), 9, tz=BERLIN)
    factories.booking(spree, bob, second, title="Schon da")
    result = make_series(
        spree, alice, at(monday, 9, tz=BERLIN), "FREQ=WEEKLY;COUNT=3", elsewhere={second: havel}
    )

    services.update_series(series=result.series, actor=alice, scope="all", title="Neu", room=big)

    mine = Booking.objects.filter(organizer=alice, status__in=Booking.ACTIVE).order_by("span")
    assert [(b.room.name, b.title) for b in mine] == [("Elbe", "Neu"), ("Havel", "Neu"), ("Elbe", "Neu")]
