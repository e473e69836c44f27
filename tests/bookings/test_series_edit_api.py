"""Editing a series through the API (PATCH /api/v1/series/{id}): the service's edits,
bad input, strangers and taken times, in JSON.

alice organizes the series, bob has his own bookings in the way and must not touch hers,
fiona (facility admin) may change any series.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookings import services
from bookings.models import Series
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
    patch_series,
    snapshot,
)

frozen_clock = frozen_at(BEFORE_THE_SERIES, autouse=True)


@pytest.mark.django_db
def test_it_edits_all_dates_through_the_api_like_the_service(client, room, alice, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    response = patch_series(
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
    assert [local_times(b) for b in dates_of(series)] == [("10:00", "11:00")] * 3


@pytest.mark.django_db
def test_it_splits_through_the_api(client, room, alice, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=4").series
    third = dates_of(series)[2]
    response = patch_series(
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
    response = patch_series(client, {**token_for(alice), "Accept-Language": "de"}, series, body)
    assert response.status_code == 422, response.json()
    assert response.json()["field"] == field
    if german:
        assert german in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.django_db
def test_it_answers_in_english_when_asked(client, room, alice, token_for):
    series = make_series(room, alice, at(MONDAY, 9), "FREQ=DAILY;COUNT=3").series
    response = patch_series(
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
    assert patch_series(client, token_for(bob), series, {"scope": "all", "title": "Meins"}).status_code == 403
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
    response = patch_series(
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
