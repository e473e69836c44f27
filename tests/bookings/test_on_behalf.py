"""Booking for anyone: room managers and facility admins may, in the dialog and the API; others get 403.

Personas: maria manages the room (group "Raumverwaltung"), fiona is a facility admin,
"chefin" named "assi" her delegate, bob is nobody's delegate and manages nothing.
"""

from __future__ import annotations

import pytest

from bookings import services
from bookings.models import Booking, Delegation, Policy
from tests import factories
from tests.helpers import bearer, post_booking, text


@pytest.fixture
def boss(db):
    return factories.user("chefin", first_name="Clara", last_name="Chef")


@pytest.fixture
def assistant(boss):
    user = factories.user("assi")
    Delegation.objects.create(principal=boss, delegate=user, granted_by=boss)
    return user


@pytest.fixture
def managed(room, maria):
    """The room's policy names maria's group its managers."""
    policy = Policy.objects.create(room=room)
    policy.managers.set(maria.groups.all())
    return policy


def check(client, user, room, at, **params):
    query = {"start": at(9).isoformat(), "end": at(10).isoformat(), **params}
    return client.get(f"/api/v1/rooms/{room.pk}/check", query, headers=bearer(user))


# --- /rooms/{id}/check with on_behalf_of -------------------------------------------------------


def test_it_checks_the_principals_quota_for_a_delegate(client, room, at, boss, assistant):
    Policy.objects.create(room=room, max_bookings_per_day=1)
    services.create_booking(room=room, organizer=boss, title="Eigene", start=at(14), end=at(15))

    for_her = check(client, assistant, room, at, on_behalf_of="chefin").json()
    for_himself = check(client, assistant, room, at).json()

    assert for_her["allowed"] is False
    assert [r["rule"] for r in for_her["reasons"]] == ["max_bookings_per_day"]
    assert for_himself["allowed"] is True


def test_it_refuses_a_check_for_someone_who_did_not_name_you_with_403(client, room, at, boss, bob):
    response = check(client, bob, room, at, on_behalf_of="chefin")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Sie dürfen nicht für Clara Chef buchen")


def test_it_lets_a_room_manager_check_for_anyone(client, room, at, managed, maria, bob):
    Policy.objects.filter(pk=managed.pk).update(max_bookings_per_day=1)
    services.create_booking(room=room, organizer=bob, title="Bobs", start=at(14), end=at(15))

    body = check(client, maria, room, at, on_behalf_of="bob").json()

    assert body["allowed"] is False
    assert body["reasons"][0]["rule"] == "max_bookings_per_day"


def test_it_lets_a_facility_admin_check_for_anyone(client, room, at, fiona, bob):
    response = check(client, fiona, room, at, on_behalf_of="bob")

    assert response.status_code == 200
    assert response.json()["allowed"] is True


def test_it_refuses_a_check_for_a_principal_who_left(client, room, at, boss, assistant):
    boss.is_active = False
    boss.save()

    response = check(client, assistant, room, at, on_behalf_of="chefin")

    assert response.status_code == 403
    assert "nicht mehr aktiv" in response.json()["detail"]


def test_it_refuses_a_check_for_an_unknown_person_in_english(client, room, at, bob):
    response = client.get(
        f"/api/v1/rooms/{room.pk}/check",
        {"start": at(9).isoformat(), "end": at(10).isoformat(), "on_behalf_of": "niemand"},
        headers={**bearer(bob), "Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.json() == {"detail": "There is no person with this user name.", "field": "on_behalf_of"}


def test_it_documents_on_behalf_of_for_the_check(client):
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/rooms/{room_id}/check"]["get"]

    assert "on_behalf_of" in {p["name"] for p in operation["parameters"]}
    assert "403" in operation["responses"]


# --- booking in someone's name through the API, per role ----------------------------------------


def body(room, at, **extra) -> dict:
    return {"room": room.pk, "title": "Umzug", "start": at(9).isoformat(), "end": at(10).isoformat(), **extra}


def test_it_lets_a_room_manager_book_for_anyone_in_their_room(client, room, at, managed, maria, bob):
    response = client.post(
        "/api/v1/bookings",
        body(room, at, on_behalf_of="bob"),
        content_type="application/json",
        headers=bearer(maria),
    )

    assert response.status_code == 201, response.content
    booking = Booking.objects.get()
    assert (booking.organizer, booking.booked_by) == (bob, maria)


def test_it_refuses_a_room_manager_in_a_room_they_do_not_manage(client, at, managed, maria, bob):
    other = factories.room(name="Fremd")

    response = client.post(
        "/api/v1/bookings",
        body(other, at, on_behalf_of="bob"),
        content_type="application/json",
        headers=bearer(maria),
    )

    assert response.status_code == 403
    assert "Sie dürfen nicht für bob buchen" in response.json()["detail"]
    assert not Booking.objects.exists()


def test_it_lets_a_facility_admin_book_for_anyone_through_the_api(client, room, at, fiona, bob):
    response = client.post(
        "/api/v1/bookings",
        body(room, at, on_behalf_of="bob"),
        content_type="application/json",
        headers=bearer(fiona),
    )

    assert response.status_code == 201
    assert Booking.objects.get().organizer == bob


def test_it_refuses_a_colleague_with_403_and_the_reason(client, room, at, alice, bob):
    response = client.post(
        "/api/v1/bookings",
        body(room, at, on_behalf_of="bob"),
        content_type="application/json",
        headers={**bearer(alice), "Accept-Language": "en"},
    )

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "You may not book for bob: only their delegates, room managers and facility admins may."
    )
    assert not Booking.objects.exists()


# --- the dialog: a people picker for managers and admins ------------------------------------------


def test_it_gives_a_manager_a_free_book_for_field_with_the_people_picker(client, managed, maria, bob):
    client.force_login(maria)

    page = text(client.get("/book/"))

    assert '<input type="text" name="on_behalf"' in page
    assert 'data-people-picker-for="id_on_behalf" data-single' in page
    client.force_login(bob)
    assert 'name="on_behalf"' not in text(client.get("/book/"))


def test_it_books_for_anyone_a_manager_names_in_the_dialog(client, room, day, managed, maria, bob):
    client.force_login(maria)

    response = post_booking(client, room, day, on_behalf="bob@example.com")

    assert response.status_code == 302, text(response)
    booking = Booking.objects.get()
    assert (booking.organizer, booking.booked_by) == (bob, maria)


def test_it_lets_a_facility_admin_book_for_anyone_in_the_dialog(client, room, day, fiona, alice):
    client.force_login(fiona)

    response = post_booking(client, room, day, on_behalf="alice")

    assert response.status_code == 302
    assert Booking.objects.get().organizer == alice


def test_it_refuses_in_the_dialog_where_the_manager_manages_nothing(client, day, managed, maria, bob):
    other = factories.room(name="Fremd")
    client.force_login(maria)

    response = post_booking(client, other, day, on_behalf="bob")

    assert response.status_code == 403
    assert "Sie dürfen nicht für bob buchen" in text(response)
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("typed", "says"),
    [("niemand", "keine eindeutige Person"), ("weg", "nicht mehr aktiv")],
)
def test_it_names_an_unknown_or_departed_person_and_books_nothing(
    client, room, day, managed, maria, typed, says
):
    factories.user("weg", is_active=False)
    client.force_login(maria)

    response = post_booking(client, room, day, on_behalf=typed)

    assert response.status_code == 422
    assert says in text(response)
    assert 'id="id_on_behalf_error"' in text(response)
    assert not Booking.objects.exists()


def test_it_checks_the_named_persons_quota_in_the_dialog(client, room, day, at, managed, maria, bob):
    Policy.objects.filter(pk=managed.pk).update(max_bookings_per_day=1)
    services.create_booking(room=room, organizer=bob, title="Bobs", start=at(14), end=at(15))
    client.force_login(maria)

    response = post_booking(client, room, day, on_behalf="bob", action="check")

    assert "Das kann nicht gebucht werden" in text(response) or "pro Tag" in text(response)
    assert "pro Tag" in text(response)
