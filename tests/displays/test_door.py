"""Check-in and book-now at the door: happy paths, refusals that write nothing, PIN, rate limit."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import User
from django.test import Client, override_settings

from bookings.models import Booking, BookingEvent, OutboxMessage
from displays.services import set_pin
from tests import factories
from tests.helpers import frozen_at, on_the_day_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 9, 10, tzinfo=BERLIN)


at = on_the_day_of(NOW)
frozen = frozen_at(NOW, autouse=True)


@pytest.fixture
def kiosk():
    """The kiosk has no session and no CSRF cookie; a client that enforces CSRF proves it needs none."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def post(kiosk, django_capture_on_commit_callbacks):
    def send(path: str, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return kiosk.post(path, data)

    return send


def writes() -> tuple:
    return (
        Booking.objects.count(),
        Booking.objects.filter(checked_in_at__isnull=False).count(),
        BookingEvent.objects.count(),
        OutboxMessage.objects.count(),
        User.objects.count(),
    )


# --- check-in ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_says_checked_in_only_once_the_booking_is(kiosk, post, door, alice):
    booking = factories.booking(door.display.room, alice, at(9), minutes=60, title="Planung")
    assert '<p id="checked-in" class="checked-in" hidden>Eingecheckt</p>' in kiosk.get(door.path).text

    post(door.check_in, booking=booking.pk)

    page = kiosk.get(door.path).text
    assert '<p id="checked-in" class="checked-in">Eingecheckt</p>' in page
    assert kiosk.get(door.status).json()["current"]["checked_in"] is True


@pytest.mark.django_db
def test_it_checks_in_the_running_booking(post, door, alice):
    booking = factories.booking(door.display.room, alice, at(9), minutes=60, title="Planung")

    response = post(door.check_in, booking=booking.pk)

    assert response.status_code == 200
    assert response.json()["message"] == "Eingecheckt. Gutes Meeting!"
    assert response.json()["status"]["state"] == "occupied"
    booking.refresh_from_db()
    assert booking.checked_in_at == NOW
    assert booking.version == 2
    event = BookingEvent.objects.get(booking=booking)
    assert event.kind == BookingEvent.Kind.CHECKED_IN
    assert event.actor.username == f"rfr-display-{door.display.pk}"
    assert event.changes == {"source": "display"}
    outbox = OutboxMessage.objects.filter(topic="booking.checked_in")
    assert {m.channel for m in outbox} >= {"displays", "display_push"}
    assert all(m.payload["room"] == door.display.room_id for m in outbox)


@pytest.mark.django_db
def test_it_checks_in_a_booking_that_starts_soon(post, door, alice):
    booking = factories.booking(door.display.room, alice, at(9, 20), minutes=30)

    assert post(door.check_in, booking=booking.pk).status_code == 200
    booking.refresh_from_db()
    assert booking.checked_in_at == NOW


@pytest.mark.django_db
def test_it_refuses_check_in_too_early_and_writes_nothing(post, door, alice):
    booking = factories.booking(door.display.room, alice, at(10), minutes=60)
    before = writes()

    response = post(door.check_in, booking=booking.pk)

    assert response.status_code == 400
    assert response.json()["detail"] == "Der Check-in öffnet 15 Minuten vor Beginn."
    assert writes() == before


@pytest.mark.django_db
def test_it_refuses_check_in_where_the_display_does_not_allow_it(post, make_display, room, alice):
    _display, raw = make_display(room, allow_check_in=False)
    booking = factories.booking(room, alice, at(9), minutes=60)
    before = writes()

    response = post(f"/d/{raw}/check-in", booking=booking.pk)

    assert response.status_code == 403
    assert response.json()["detail"] == "Check-in ist an diesem Türschild nicht möglich."
    assert writes() == before


@pytest.mark.django_db
def test_it_refuses_to_check_in_another_rooms_booking(post, door, alice):
    elsewhere = factories.booking(factories.room(), alice, at(9), minutes=60)
    before = writes()

    response = post(door.check_in, booking=elsewhere.pk)

    assert response.status_code == 400
    assert writes() == before


# --- book now ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_books_the_free_room_now(post, door):
    response = post(door.book_now, minutes=30)

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Für Sie gebucht bis 09:40."
    booking = Booking.objects.get()
    assert (booking.span.lower, booking.span.upper) == (at(9, 10), at(9, 40))
    assert booking.source == Booking.Source.DISPLAY
    assert booking.title == "An der Tür gebucht"
    assert booking.checked_in_at == NOW
    organizer = booking.organizer
    assert organizer.username == f"rfr-display-{door.display.pk}"
    assert not organizer.is_active and not organizer.has_usable_password()
    assert response.json()["status"]["state"] == "occupied"
    assert response.json()["status"]["current"]["id"] == booking.pk


@pytest.mark.django_db
def test_it_reuses_the_displays_service_user(post, door):
    post(door.book_now, minutes=15)
    with time_machine.travel(at(9, 30), tick=False):
        post(door.book_now, minutes=15)

    assert Booking.objects.values("organizer").distinct().count() == 1


@pytest.mark.django_db
def test_it_refuses_book_now_over_the_next_booking_and_writes_nothing(post, door, alice):
    factories.booking(door.display.room, alice, at(9, 30), minutes=60)
    before = writes()

    response = post(door.book_now, minutes=30)

    assert response.status_code == 409
    assert response.json()["detail"] == "Der Raum ist nicht mehr so lange frei."
    assert writes() == before


@pytest.mark.django_db
@pytest.mark.parametrize("minutes", ["45", "", "viel"])
def test_it_refuses_other_durations(post, door, minutes):
    before = writes()

    response = post(door.book_now, minutes=minutes)

    assert response.status_code == 400
    assert writes() == before


@pytest.mark.django_db
def test_it_refuses_book_now_where_the_display_does_not_allow_it(post, make_display, room):
    _display, raw = make_display(room, allow_book_now=False, language="en")
    before = writes()

    response = post(f"/d/{raw}/book-now", minutes=15)

    assert response.status_code == 403
    assert response.json()["detail"] == "Booking is not available at this display."
    assert writes() == before


@pytest.mark.django_db
def test_it_refuses_book_now_in_an_unbookable_room(post, make_display):
    _display, raw = make_display(factories.room(bookable=False))

    response = post(f"/d/{raw}/book-now", minutes=15)

    assert response.status_code == 400
    assert Booking.objects.count() == 0


# --- PIN and rate limit -------------------------------------------------------------------


@pytest.mark.django_db
def test_it_asks_for_the_pin_when_the_display_has_one(post, door):
    set_pin(display=door.display, pin="4711")
    before = writes()

    wrong = post(door.book_now, minutes=15, pin="1234")
    missing = post(door.book_now, minutes=15)

    assert wrong.status_code == missing.status_code == 403
    assert wrong.json()["detail"] == "Die PIN ist nicht richtig."
    assert writes() == before
    assert post(door.book_now, minutes=15, pin="4711").status_code == 200
    # Stored as a salted password hash, never as the digits (a hash may contain them by chance).
    assert door.display.pin_hash != "4711"
    assert identify_hasher(door.display.pin_hash).algorithm


@pytest.mark.django_db
@override_settings(RFR_DISPLAY_ACTIONS_PER_MINUTE=2)
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Zu viele Versuche an diesem Türschild. Bitte eine Minute warten."),
        ("en", "Too many attempts at this display. Please wait a minute."),
    ],
)
def test_it_limits_door_actions_per_display(post, make_display, room, alice, language, message):
    _display, raw = make_display(room, language=language)
    _other, other_raw = make_display(room)
    booking = factories.booking(room, alice, at(10), minutes=60)
    for _ in range(2):
        assert post(f"/d/{raw}/check-in", booking=booking.pk).status_code == 400  # too early, but counted
    before = writes()

    limited = post(f"/d/{raw}/book-now", minutes=15)

    assert limited.status_code == 429
    assert limited.json()["detail"] == message
    assert writes() == before
    # Another display of the same room has its own allowance.
    assert post(f"/d/{other_raw}/book-now", minutes=15).status_code == 200


@pytest.mark.django_db
def test_it_refuses_get_on_the_actions(client, door):
    assert client.get(door.book_now).status_code == 405
    assert client.get(door.check_in).status_code == 405
