"""Editing a series on the staff pages: the three scopes on a date's change page, the same
result as the API, refusals that write nothing.

alice organizes the series, bob has his own bookings in the way and must not touch hers,
fiona (facility admin) may change any series.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Booking, Series
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
    patch_series,
    snapshot,
)

frozen_clock = frozen_at(BEFORE_THE_SERIES, autouse=True)


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
    api = patch_series(
        client,
        token_for(alice),
        by_api,
        {"scope": "all", "start_time": "13:00", "end_time": "14:30", "title": "Neu"},
    )
    assert api.status_code == 200

    def shape(series):
        return [(b.end - b.start, b.title, b.version, b.series_exception) for b in dates_of(series)]

    assert [local_times(b) for b in dates_of(by_ui)] == [("10:00", "11:30")] * 4
    assert [local_times(b) for b in dates_of(by_api)] == [("13:00", "14:30")] * 4
    assert shape(by_ui) == shape(by_api)
    assert [len(m["bookings"]) for m in outbox_payloads("series.updated")] == [4, 4]
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
    assert [local_times(b)[0] for b in dates_of(series)] == ["09:00", "15:00", "09:00"]
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
