"""Cancelling a whole series goes through the same rule check as cancelling one date.

Personas: alice organizes, bob has no say, maria manages the room. The room can be
cancelled until 24 hours before a start; the series starts in two hours.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, Policy
from tests import factories


@pytest.fixture
def series(alice, maria):
    room = factories.room(name="Spree")
    policy = Policy.objects.create(room=room, cancel_cutoff_minutes=24 * 60)
    policy.managers.set(maria.groups.all())
    start = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    result = services.create_series(
        room=room,
        organizer=alice,
        title="Jour fixe",
        start=start,
        end=start + timedelta(hours=1),
        rrule="FREQ=DAILY;COUNT=3",
    )
    return result.series


def statuses(series) -> list[str]:
    return list(series.occurrences.order_by("span").values_list("status", flat=True))


def test_the_page_keeps_the_date_past_the_cut_off_and_says_so(client, alice, series):
    client.force_login(alice)
    response = client.post(f"/series/{series.pk}/cancel/", follow=True)
    assert statuses(series) == ["confirmed", "cancelled", "cancelled"]
    page = response.content.decode()
    assert "2 Termine wurden storniert" in page
    assert "1 Termin bleibt gebucht" in page
    series.refresh_from_db()
    assert series.cancelled_at is None  # one date still stands


def test_the_api_and_the_page_agree_date_by_date(client, alice, series, token_for):
    first = series.occurrences.order_by("span").first()
    single = client.delete(f"/api/v1/bookings/{first.pk}", headers=token_for(alice))
    assert single.status_code == 403
    response = client.delete(f"/api/v1/series/{series.pk}", headers=token_for(alice))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [b["status"] for b in body["cancelled"]] == ["cancelled", "cancelled"]
    assert [k["booking"]["id"] for k in body["kept"]] == [first.pk]
    assert body["kept"][0]["reason"]["rule"] == "cancel_cutoff"
    assert statuses(series) == ["confirmed", "cancelled", "cancelled"]


def test_it_changes_nothing_when_the_cut_off_keeps_every_date(client, alice, series, token_for):
    client.delete(f"/api/v1/series/{series.pk}", headers=token_for(alice))
    events = series.occurrences.first().events.count()
    again = client.delete(f"/api/v1/series/{series.pk}", headers=token_for(alice))
    assert again.status_code == 403
    assert again.json()["reasons"][0]["rule"] == "cancel_cutoff"
    assert statuses(series) == ["confirmed", "cancelled", "cancelled"]
    assert series.occurrences.first().events.count() == events


def test_a_room_manager_may_cancel_the_whole_series(client, maria, series, token_for):
    response = client.delete(f"/api/v1/series/{series.pk}", headers=token_for(maria))
    assert response.status_code == 200
    assert statuses(series) == ["cancelled"] * 3  # managers are not bound by the cut-off
    series.refresh_from_db()
    assert series.cancelled_at is not None


def test_a_stranger_can_neither_see_nor_cancel_it(client, bob, series, token_for):
    client.force_login(bob)
    assert client.get(f"/series/{series.pk}/cancel/").status_code == 403
    assert client.post(f"/series/{series.pk}/cancel/").status_code == 403
    assert client.delete(f"/api/v1/series/{series.pk}", headers=token_for(bob)).status_code == 403
    assert set(statuses(series)) == {Booking.Status.CONFIRMED}


def test_an_unknown_series_is_404_in_json(client, alice, token_for):
    response = client.delete("/api/v1/series/999999", headers=token_for(alice))
    assert response.status_code == 404
    assert "detail" in response.json()
