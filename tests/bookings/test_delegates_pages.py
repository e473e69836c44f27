"""The staff pages for delegates: naming them, booking "for" a principal, My bookings.

Personas: "chefin" names "assi" her delegate; bob is nobody's delegate.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from bookings import services
from bookings.models import Booking, Delegation, Series
from tests import factories
from tests.helpers import post_booking, text


@pytest.fixture
def boss(db):
    return factories.user("chefin", first_name="Clara", last_name="Chef")


@pytest.fixture
def assistant(boss):
    user = factories.user("assi", first_name="Anna", last_name="Assistenz")
    Delegation.objects.create(principal=boss, delegate=user, granted_by=boss)
    return user


# --- naming delegates -----------------------------------------------------------------------


def test_it_names_a_delegate_by_user_name(client, boss, bob):
    client.force_login(boss)

    response = client.post("/my/delegates/", {"person": "bob"}, follow=True)

    assert response.status_code == 200
    assert Delegation.objects.get(principal=boss, revoked_at__isnull=True).delegate == bob
    assert "bob darf jetzt für Sie buchen." in text(response)
    assert 'id="given"' in text(response)


def test_it_names_a_delegate_by_mail_address_once(client, boss, bob):
    client.force_login(boss)

    client.post("/my/delegates/", {"person": "BOB@example.com"})
    client.post("/my/delegates/", {"person": "bob"})

    assert Delegation.objects.filter(principal=boss, delegate=bob, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize("typed", ["", "niemand", "chefin"])
def test_it_refuses_an_unknown_person_or_oneself_and_writes_nothing(client, boss, typed):
    client.force_login(boss)

    response = client.post("/my/delegates/", {"person": typed})

    assert response.status_code == 422
    assert 'aria-invalid="true"' in text(response)
    assert not Delegation.objects.exists()


def test_it_does_not_name_a_person_who_has_left(client, boss):
    factories.user("weg", is_active=False)
    client.force_login(boss)

    response = client.post("/my/delegates/", {"person": "weg"})

    assert response.status_code == 422
    assert "keine eindeutige aktive Person" in text(response)


def test_it_lets_the_principal_remove_and_the_delegate_give_up(client, boss, assistant, bob):
    delegation = Delegation.objects.get()

    client.force_login(bob)
    assert client.post(f"/my/delegates/{delegation.pk}/end/").status_code == 403
    delegation.refresh_from_db()
    assert delegation.revoked_at is None

    client.force_login(assistant)
    page = client.get("/my/delegates/")
    assert "Clara Chef" in text(page)
    assert client.post(f"/my/delegates/{delegation.pk}/end/").status_code == 302
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    assert Delegation.objects.count() == 1  # the row stays on record


def test_it_shows_the_page_in_english(client, boss, assistant):
    client.force_login(boss)
    client.cookies["django_language"] = "en"

    page = text(client.get("/my/delegates/"))

    assert "Who may book for you" in page
    assert "Anna Assistenz" in page


# --- the booking dialog ---------------------------------------------------------------------


def test_it_offers_book_for_only_to_a_delegate(client, boss, assistant, bob):
    client.force_login(assistant)
    assert 'name="on_behalf"' in text(client.get("/book/"))
    assert ">Clara Chef</option>" in text(client.get("/book/"))

    client.force_login(bob)
    assert 'name="on_behalf"' not in text(client.get("/book/"))


def test_it_books_for_the_principal_from_the_dialog(client, room, day, boss, assistant):
    client.force_login(assistant)

    response = post_booking(client, room, day, on_behalf=boss.pk)

    assert response.status_code == 302, text(response)
    booking = Booking.objects.get()
    assert (booking.organizer, booking.booked_by) == (boss, assistant)
    mine = text(client.get("/my/"))
    assert "für Clara Chef" in mine
    client.force_login(boss)
    assert "gebucht von Anna Assistenz" in text(client.get("/my/"))


def test_it_books_a_series_for_the_principal_from_the_dialog(client, room, day, boss, assistant):
    client.force_login(assistant)

    response = post_booking(
        client, room, day, on_behalf=boss.pk, freq="daily", ends="count", count=3, interval=1
    )

    assert response.status_code == 302, text(response)
    series = Series.objects.get()
    assert (series.organizer, series.booked_by) == (boss, assistant)
    assert Booking.objects.filter(organizer=boss, booked_by=assistant).count() == 3


def test_it_refuses_to_book_for_someone_who_did_not_name_you(client, room, day, boss, bob):
    client.force_login(bob)

    response = post_booking(client, room, day, on_behalf=boss.pk)

    # bob sees no "Book for" field, so the value is ignored and he books for himself.
    assert response.status_code == 302
    assert Booking.objects.get().organizer == bob


def test_it_refuses_a_principal_not_in_the_list(client, room, day, boss, assistant, bob):
    client.force_login(assistant)

    response = post_booking(client, room, day, on_behalf=bob.pk)

    assert response.status_code == 422
    assert 'id="id_on_behalf_error"' in text(response)
    assert "keine gültige Auswahl" in text(response)
    assert not Booking.objects.exists()


def test_it_drops_a_principal_who_left_from_the_dialog(client, boss, assistant):
    boss.is_active = False
    boss.save()
    client.force_login(assistant)

    assert 'name="on_behalf"' not in text(client.get("/book/"))


def test_it_lets_the_delegate_cancel_from_my_bookings(client, room, at, boss, assistant):
    booking = services.create_booking(
        room=room, organizer=boss, actor=assistant, title="Vorstand", start=at(9), end=at(10)
    )
    client.force_login(assistant)

    response = client.post(f"/bookings/{booking.pk}/cancel/", {"reason": ""})

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


# --- demo data ------------------------------------------------------------------------------


def test_it_seeds_delegates_for_the_demo(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    demo = User.objects.get(username="demo")
    pairs = set(Delegation.objects.values_list("principal__username", "delegate__username"))
    assert pairs == {("mmuster", "demo"), ("demo", "ebauer")}
    made = Booking.objects.get(booked_by=demo)
    assert made.organizer.username == "mmuster"
    client.force_login(demo)
    # My bookings lists 20 a page: the demo's own week fills the first, so look at the room.
    assert "für Max Muster" in text(client.get(f"/my/?show=upcoming&room={made.room_id}"))
    assert ">Max Muster</option>" in text(client.get("/book/"))
