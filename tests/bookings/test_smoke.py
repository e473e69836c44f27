from datetime import timedelta

import pytest

from bookings.models import Booking, BookingEvent, OutboxMessage
from tests import factories
from tests.helpers import booking_channels


@pytest.mark.django_db
def test_it_books_a_free_room_and_refuses_the_overlap(client, alice, bob, room, token_for):
    start = factories.tomorrow_at(9)
    body = {
        "room": room.pk,
        "title": "Planung",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    first = client.post("/api/v1/bookings", body, content_type="application/json", headers=token_for(alice))
    assert first.status_code == 201, first.content
    assert first.json()["title"] == "Planung"
    second = client.post(
        "/api/v1/bookings",
        {**body, "title": "Other"},
        content_type="application/json",
        headers=token_for(bob),
    )
    assert second.status_code == 409
    assert [c["id"] for c in second.json()["conflicts"]] == [first.json()["id"]]
    assert Booking.objects.count() == 1
    assert BookingEvent.objects.filter(kind="created").count() == 1
    # One message per outbox channel, only for the booking that was made.
    assert OutboxMessage.objects.filter(topic="booking.created").count() == len(booking_channels())
    assert OutboxMessage.objects.exclude(topic="booking.created").count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_serves_the_api_under_gunicorn(gunicorn_server, alice, room, token_for):
    import httpx

    start = factories.tomorrow_at(11)
    response = httpx.post(
        f"{gunicorn_server}/api/v1/bookings",
        headers=token_for(alice),
        json={
            "room": room.pk,
            "title": "x",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-RFR-Version"]
    assert Booking.objects.filter(pk=response.json()["id"]).exists()
