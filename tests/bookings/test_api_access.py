"""Who may call the API and see what: missing, revoked and departed credentials, someone
else's booking, and private titles that never reach a colleague.
"""

from __future__ import annotations

import pytest

from bookings.models import ApiToken, Booking, BookingEvent, OutboxMessage
from bookings.services.tokens import revoke_token
from tests import factories
from tests.helpers import assert_clean_error, booking_channels, field_of, send, written_with_keys

pytestmark = pytest.mark.django_db

AUTH_REQUIRED = "Anmeldung erforderlich: Melden Sie sich an oder senden Sie ein gültiges Bearer-Token."


# --- authentication -----------------------------------------------------------------


def endpoints(booking_id: int, valid: dict) -> list[tuple[str, str, dict | None]]:
    return [
        ("post", "/api/v1/bookings", valid),
        ("get", "/api/v1/bookings", None),
        ("get", f"/api/v1/bookings/{booking_id}", None),
        ("patch", f"/api/v1/bookings/{booking_id}", {"title": "Hijacked"}),
        ("delete", f"/api/v1/bookings/{booking_id}", None),
        ("post", "/api/v1/series", {**valid, "rrule": "FREQ=DAILY;COUNT=2"}),
    ]


def call(client, method: str, path: str, payload, headers: dict):
    if payload is None:
        return getattr(client, method)(path, headers=headers)
    return getattr(client, method)(path, payload, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer rfr_not-a-real-token", "Bearer ", "Bearer", "Token abc", "Basic YWxpY2U6YWxpY2UtcHctMTIz"],
    ids=["none", "wrong-token", "empty-bearer", "bare-bearer", "other-scheme", "basic"],
)
def test_it_refuses_every_endpoint_without_valid_credentials(client, alice, room, valid, at, authorization):
    booking = factories.booking(room, alice, at(14))
    headers = {} if authorization is None else {"Authorization": authorization}
    before = written_with_keys()

    for method, path, payload in endpoints(booking.pk, valid):
        response = call(client, method, path, payload, headers)
        assert assert_clean_error(response, 401) == {"detail": AUTH_REQUIRED}, (method, path)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    assert written_with_keys() == before
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_it_refuses_a_revoked_token(client, alice, token_for, valid):
    headers = token_for(alice)
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200

    revoke_token(token=ApiToken.objects.get(user=alice))
    response = send(client, headers, valid)

    assert assert_clean_error(response, 401) == {"detail": AUTH_REQUIRED}
    assert client.get("/api/v1/bookings", headers=headers).status_code == 401
    assert written_with_keys() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


def test_it_keeps_other_tokens_working_when_one_is_revoked(client, alice, token_for):
    first, second = token_for(alice), token_for(alice)
    revoke_token(token=ApiToken.objects.filter(user=alice).earliest("pk"))

    assert client.get("/api/v1/bookings", headers=first).status_code == 401
    assert client.get("/api/v1/bookings", headers=second).status_code == 200


def test_it_refuses_the_token_of_a_user_who_left(client, alice, token_for, valid):
    headers = token_for(alice)
    alice.is_active = False
    alice.save()

    response = send(client, headers, valid)

    assert assert_clean_error(response, 401) == {"detail": AUTH_REQUIRED}
    assert written_with_keys() == {"bookings": 0, "events": 0, "outbox": 0, "keys": 0}


# --- someone else's booking ---------------------------------------------------------


@pytest.fixture
def alices(client, alice, token_for, valid):
    response = send(client, token_for(alice), valid, key=None)
    assert response.status_code == 201
    return Booking.objects.get(pk=response.json()["id"])


def test_it_forbids_bob_to_change_alices_booking(client, bob, token_for, alices, at):
    before = written_with_keys()

    response = client.patch(
        f"/api/v1/bookings/{alices.pk}",
        {"title": "Bob's now", "start": at(15).isoformat(), "end": at(16).isoformat()},
        content_type="application/json",
        headers=token_for(bob),
    )

    assert assert_clean_error(response, 403) == {"detail": "Nur der Organisator kann diese Buchung ändern."}
    alices.refresh_from_db()
    assert (alices.title, alices.start, alices.version) == ("Planung", at(9), 1)
    assert written_with_keys() == before


def test_it_forbids_bob_to_cancel_alices_booking(client, bob, token_for, alices):
    before = written_with_keys()

    response = client.delete(f"/api/v1/bookings/{alices.pk}", headers=token_for(bob))

    assert assert_clean_error(response, 403) == {
        "detail": "Nur der Organisator kann diese Buchung stornieren."
    }
    assert Booking.objects.get(pk=alices.pk).status == "confirmed"
    assert written_with_keys() == before


def test_it_forbids_bob_even_when_his_if_match_is_current(client, bob, token_for, alices):
    response = client.patch(
        f"/api/v1/bookings/{alices.pk}",
        {"title": "Mine"},
        content_type="application/json",
        headers={**token_for(bob), "If-Match": "1"},
    )

    assert response.status_code == 403


def test_it_lets_a_facility_admin_cancel_alices_booking(client, fiona, token_for, alices):
    response = client.delete(f"/api/v1/bookings/{alices.pk}", headers=token_for(fiona))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["organizer"] == "alice"
    assert Booking.objects.get(pk=alices.pk).status == "cancelled"
    event = BookingEvent.objects.get(kind="cancelled")
    assert event.actor == fiona
    channels = OutboxMessage.objects.filter(topic="booking.cancelled").values_list("channel", flat=True)
    assert sorted(channels) == booking_channels()


def test_it_lets_a_facility_admin_move_alices_booking(client, fiona, token_for, alices, at):
    response = client.patch(
        f"/api/v1/bookings/{alices.pk}",
        {"start": at(15).isoformat(), "end": at(16).isoformat()},
        content_type="application/json",
        headers=token_for(fiona),
    )

    assert response.status_code == 200
    assert Booking.objects.get(pk=alices.pk).organizer.username == "alice"
    assert BookingEvent.objects.get(kind="updated").actor == fiona


def test_it_does_not_let_staff_without_the_permission_cancel(client, token_for, alices):
    clerk = factories.user("clerk", is_staff=True)

    response = client.delete(f"/api/v1/bookings/{alices.pk}", headers=token_for(clerk))

    assert response.status_code == 403
    assert Booking.objects.get(pk=alices.pk).status == "confirmed"


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"title": "x"}), ("delete", None)],
    ids=["get", "patch", "delete"],
)
def test_it_answers_404_for_a_booking_that_does_not_exist(client, alice, token_for, method, payload):
    response = call(client, method, "/api/v1/bookings/987654", payload, token_for(alice))

    assert assert_clean_error(response, 404) == {"detail": "Nicht gefunden."}


def test_it_answers_422_for_a_booking_id_that_is_not_a_number(client, alice, token_for):
    response = client.get("/api/v1/bookings/first", headers=token_for(alice))

    data = assert_clean_error(response, 422)
    assert field_of(response) == "booking_id"
    assert data["detail"] == "booking_id: Eine ganze Zahl ist erforderlich."


# --- private bookings ---------------------------------------------------------------


@pytest.fixture
def secret(client, alice, token_for, valid):
    response = send(
        client, token_for(alice), {**valid, "title": "Personalgespräch", "private": True}, key=None
    )
    assert response.status_code == 201
    return response.json()


def test_it_hides_a_private_title_and_organizer_from_colleagues(client, alice, bob, token_for, secret):
    as_bob = client.get(f"/api/v1/bookings/{secret['id']}", headers=token_for(bob)).json()
    as_alice = client.get(f"/api/v1/bookings/{secret['id']}", headers=token_for(alice)).json()

    assert (as_bob["title"], as_bob["organizer"], as_bob["private"]) == (None, None, True)
    assert (as_alice["title"], as_alice["organizer"]) == ("Personalgespräch", "alice")
    assert secret["title"] == "Personalgespräch"


def test_it_shows_a_private_title_to_a_facility_admin(client, fiona, token_for, secret):
    as_fiona = client.get(f"/api/v1/bookings/{secret['id']}", headers=token_for(fiona)).json()

    assert as_fiona["title"] == "Personalgespräch"


def test_it_hides_a_private_title_in_the_rooms_bookings(client, alice, bob, room, token_for, secret, day):
    params = {"from": factories.on(day, 0).isoformat(), "to": factories.on(day, 23).isoformat()}

    as_bob = client.get(f"/api/v1/rooms/{room.pk}/bookings", params, headers=token_for(bob))
    as_alice = client.get(f"/api/v1/rooms/{room.pk}/bookings", params, headers=token_for(alice))

    assert as_bob.status_code == 200
    assert [(b["id"], b["title"], b["organizer"]) for b in as_bob.json()] == [(secret["id"], None, None)]
    assert [(b["id"], b["title"], b["organizer"]) for b in as_alice.json()] == [
        (secret["id"], "Personalgespräch", "alice")
    ]


def test_it_hides_a_private_title_in_the_availability(client, alice, bob, room, token_for, secret, day):
    def busy(user) -> list:
        response = client.get(
            "/api/v1/availability",
            {"date": day.isoformat(), "building": room.floor.building_id},
            headers=token_for(user),
        )
        assert response.status_code == 200
        (entry,) = [r for r in response.json()["rooms"] if r["id"] == room.pk]
        return entry["busy"]

    assert [(b["id"], b["title"]) for b in busy(bob)] == [(secret["id"], None)]
    assert [(b["id"], b["title"]) for b in busy(alice)] == [(secret["id"], "Personalgespräch")]
    assert "organizer" not in busy(bob)[0] or busy(bob)[0]["organizer"] is None


def test_it_hides_a_private_title_in_a_conflict(client, bob, token_for, valid, secret):
    response = send(client, token_for(bob), valid)

    assert response.status_code == 409
    (conflict,) = response.json()["conflicts"]
    assert (conflict["id"], conflict["title"], conflict["organizer"]) == (secret["id"], None, None)
    assert "Personalgespräch" not in response.content.decode()


def test_it_never_leaks_a_private_title_to_a_colleague_anywhere(client, bob, room, token_for, secret, day):
    headers = token_for(bob)
    pages = [
        client.get(f"/api/v1/bookings/{secret['id']}", headers=headers),
        client.get(
            f"/api/v1/rooms/{room.pk}/bookings",
            {"from": factories.on(day, 0).isoformat(), "to": factories.on(day, 23).isoformat()},
            headers=headers,
        ),
        client.get("/api/v1/availability", {"date": day.isoformat()}, headers=headers),
        client.get("/api/v1/bookings", headers=headers),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "Personalgespräch" not in page.content.decode()
        assert "alice" not in page.content.decode()
