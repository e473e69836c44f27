"""Booking for someone else: delegates book in their principal's name; others get 403 and why."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from bookings import outbox, services
from bookings.errors import NotAllowed, PolicyViolation
from bookings.models import Booking, BookingEvent, Delegation, OutboxMessage, Policy, Series
from tests import factories
from tests.helpers import bearer


@pytest.fixture
def boss(db):
    return factories.user("chefin")


@pytest.fixture
def assistant(boss):
    """Alice's colleague "assi", named by the boss as her delegate."""
    user = factories.user("assi")
    Delegation.objects.create(principal=boss, delegate=user, granted_by=boss)
    return user


def body(room, at, **extra) -> dict:
    return {
        "room": room.pk,
        "title": "Vorstand",
        "start": at(9).isoformat(),
        "end": at(10).isoformat(),
        **extra,
    }


def test_it_books_for_the_principal_and_records_the_delegate(client, room, at, boss, assistant):
    response = client.post(
        "/api/v1/bookings",
        body(room, at, on_behalf_of="chefin"),
        content_type="application/json",
        headers=bearer(assistant),
    )

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert (booking.organizer, booking.booked_by) == (boss, assistant)
    event = BookingEvent.objects.get(booking=booking)
    assert (event.actor, event.changes["on_behalf_of"]) == (assistant, "chefin")


def test_it_refuses_someone_who_is_no_delegate_with_the_reason(client, room, at, boss, bob):
    response = client.post(
        "/api/v1/bookings",
        body(room, at, on_behalf_of="chefin"),
        content_type="application/json",
        headers=bearer(bob),
    )

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Sie dürfen nicht für chefin buchen: Das dürfen nur deren Vertretungen, "
        "Raumverwaltungen und die Facility-Verwaltung."
    )
    assert not Booking.objects.exists()


def test_it_lets_a_directory_group_book_for_the_principal(room, at, boss, bob):
    assistants = Group.objects.create(name="Assistenz Vorstand")
    bob.groups.add(assistants)
    Delegation.objects.create(principal=boss, group=assistants)

    booking = services.create_booking(
        room=room, organizer=boss, actor=bob, title="Vorstand", start=at(9), end=at(10)
    )

    assert booking.booked_by == bob


def test_it_lets_a_facility_admin_book_for_anyone(room, at, fiona, bob):
    booking = services.create_booking(
        room=room, organizer=bob, actor=fiona, title="Umzug", start=at(9), end=at(10)
    )

    assert (booking.organizer, booking.booked_by) == (bob, fiona)


def test_it_refuses_a_revoked_delegation(room, at, boss, assistant):
    Delegation.objects.update(revoked_at=at(8))

    with pytest.raises(NotAllowed):
        services.create_booking(
            room=room, organizer=boss, actor=assistant, title="X", start=at(9), end=at(10)
        )


def test_it_refuses_a_delegate_whose_principal_has_left(room, at, boss, assistant):
    boss.is_active = False
    boss.save()

    with pytest.raises(NotAllowed, match="nicht mehr aktiv"):
        services.create_booking(
            room=room, organizer=boss, actor=assistant, title="X", start=at(9), end=at(10)
        )
    assert not Booking.objects.exists()


def test_it_lets_both_the_principal_and_the_delegate_change_and_cancel(room, at, boss, assistant, bob):
    booking = services.create_booking(
        room=room, organizer=boss, actor=assistant, title="Vorstand", start=at(9), end=at(10)
    )

    services.update_booking(booking=booking, actor=assistant, title="Vorstand (neu)")
    services.update_booking(booking=booking, actor=boss, end=at(11))
    with pytest.raises(NotAllowed):
        services.cancel_booking(booking=booking, actor=bob)
    services.cancel_booking(booking=booking, actor=assistant)

    booking.refresh_from_db()
    assert (booking.title, booking.end, booking.status) == ("Vorstand (neu)", at(11), "cancelled")


def test_it_counts_the_quota_for_the_principal(room, at, boss, assistant):
    Policy.objects.create(room=room, max_bookings_per_day=1)
    services.create_booking(room=room, organizer=boss, title="Eigene", start=at(9), end=at(10))

    with pytest.raises(PolicyViolation):
        services.create_booking(
            room=room, organizer=boss, actor=assistant, title="Für sie", start=at(11), end=at(12)
        )


def test_it_mails_both_the_principal_and_the_delegate(room, at, boss, assistant, mailoutbox):
    services.create_booking(
        room=room, organizer=boss, actor=assistant, title="Vorstand", start=at(9), end=at(10)
    )
    for pk in OutboxMessage.objects.values_list("pk", flat=True):
        outbox.deliver(pk)

    assert sorted(m.to[0] for m in mailoutbox) == ["assi@example.com", "chefin@example.com"]


# --- series in the principal's name -----------------------------------------------------------


def series_body(room, at, **extra) -> dict:
    return {**body(room, at), "rrule": "FREQ=DAILY;COUNT=3", **extra}


def test_it_books_a_series_for_the_principal_through_the_api(client, room, at, boss, assistant):
    response = client.post(
        "/api/v1/series",
        series_body(room, at, on_behalf_of="chefin"),
        content_type="application/json",
        headers=bearer(assistant),
    )

    assert response.status_code == 201, response.content
    series = Series.objects.get(pk=response.json()["series"]["id"])
    assert (series.organizer, series.booked_by) == (boss, assistant)
    dates = Booking.objects.filter(series=series)
    assert {(b.organizer, b.booked_by) for b in dates} == {(boss, assistant)}
    assert {e.changes["on_behalf_of"] for e in BookingEvent.objects.filter(booking__series=series)} == {
        "chefin"
    }


def test_it_refuses_a_series_for_someone_who_named_no_delegate(client, room, at, boss, bob):
    response = client.post(
        "/api/v1/series",
        series_body(room, at, on_behalf_of="chefin"),
        content_type="application/json",
        headers=bearer(bob),
    )

    assert response.status_code == 403
    assert "Sie dürfen nicht für chefin buchen" in response.json()["detail"]
    assert not Series.objects.exists()
    assert not Booking.objects.exists()


def test_it_lets_the_delegate_change_and_cancel_the_series(room, at, boss, assistant, bob):
    result = services.create_series(
        room=room,
        organizer=boss,
        actor=assistant,
        title="Jour fixe",
        start=at(9),
        end=at(10),
        rrule="FREQ=DAILY;COUNT=3",
    )

    with pytest.raises(NotAllowed):
        services.cancel_series(series=result.series, actor=bob)
    services.update_series(series=result.series, actor=assistant, scope="all", title="Jour fixe (neu)")
    services.cancel_series(series=result.series, actor=assistant)

    assert set(Booking.objects.values_list("title", "status")) == {("Jour fixe (neu)", "cancelled")}


def test_it_counts_every_date_of_the_series_for_the_principal(room, at, boss, assistant):
    Policy.objects.create(room=room, max_bookings_per_day=1)
    services.create_booking(room=room, organizer=boss, title="Eigene", start=at(11), end=at(12))

    with pytest.raises(PolicyViolation):
        services.create_series(
            room=room,
            organizer=boss,
            actor=assistant,
            title="Für sie",
            start=at(9),
            end=at(10),
            rrule="FREQ=DAILY;COUNT=2",
        )
    assert Booking.objects.count() == 1


def test_it_mails_the_series_to_both(room, at, boss, assistant, mailoutbox):
    services.create_series(
        room=room,
        organizer=boss,
        actor=assistant,
        title="Jour fixe",
        start=at(9),
        end=at(10),
        rrule="FREQ=DAILY;COUNT=2",
    )
    for pk in OutboxMessage.objects.values_list("pk", flat=True):
        outbox.deliver(pk)

    assert sorted(m.to[0] for m in mailoutbox) == ["assi@example.com", "chefin@example.com"]
    assert all("Jour fixe" in m.subject for m in mailoutbox)


def test_it_shows_a_private_title_to_the_delegate_who_booked_it(client, room, at, boss, assistant):
    booking = services.create_booking(
        room=room,
        organizer=boss,
        actor=assistant,
        title="Personalgespräch",
        start=at(9),
        end=at(10),
        private=True,
    )

    mine = client.get("/api/v1/bookings", headers=bearer(assistant)).json()

    assert [(b["id"], b["title"]) for b in mine] == [(booking.pk, "Personalgespräch")]
