"""Issue 19's edges: a delegate whose principal has left, a waiting-list entry the rules no longer
allow, a series over a combined room, the last free part.

Personas: "chefin" named "assi" her delegate; alice and bob book; the hall is "Saal 1" and
"Saal 2", joined as "Saal 1+2".
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.contrib.auth.models import Group

from bookings import outbox, services
from bookings.errors import BookingConflict, NotAllowed
from bookings.models import Booking, BookingHold, Delegation, OutboxMessage, Policy, RoomPart, WaitingEntry
from bookings.services.waiting import join_waiting_list, promote_waiting
from tests import factories
from tests.helpers import bearer, make_series, post_booking, text


@pytest.fixture
def boss(db):
    return factories.user("chefin", first_name="Clara", last_name="Chef")


@pytest.fixture
def assistant(boss):
    user = factories.user("assi")
    Delegation.objects.create(principal=boss, delegate=user, granted_by=boss)
    return user


@pytest.fixture
def hall(db):
    floor = factories.floor(factories.building(name="Kongresshaus"), name="EG")
    saal1 = factories.room(floor, "Saal 1", capacity=40)
    saal2 = factories.room(floor, "Saal 2", capacity=40)
    both = factories.room(floor, "Saal 1+2", capacity=80)
    RoomPart.objects.create(combined=both, part=saal1)
    RoomPart.objects.create(combined=both, part=saal2)
    return saal1, saal2, both


def book(room, who, start, minutes=60):
    return services.create_booking(
        room=room, organizer=who, title="Tagung", start=start, end=start + timedelta(minutes=minutes)
    )


def leaves(person):
    person.is_active = False
    person.save()


# --- a delegate whose principal leaves the company -------------------------------------------------


def test_it_lets_the_delegate_cancel_what_they_booked_for_a_principal_who_left(room, at, boss, assistant):
    booking = services.create_booking(
        room=room, organizer=boss, actor=assistant, title="Vorstand", start=at(9), end=at(10)
    )
    leaves(boss)

    services.cancel_booking(booking=booking, actor=assistant)

    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_it_refuses_a_new_series_for_a_principal_who_left_and_writes_nothing(
    client, room, at, boss, assistant
):
    leaves(boss)
    body = {
        "room": room.pk,
        "title": "Jour fixe",
        "start": at(9).isoformat(),
        "end": at(10).isoformat(),
        "rrule": "FREQ=DAILY;COUNT=3",
        "on_behalf_of": "chefin",
    }

    response = client.post("/api/v1/series", body, content_type="application/json", headers=bearer(assistant))

    assert response.status_code == 403
    assert "nicht mehr aktiv" in response.json()["detail"]
    assert not Booking.objects.exists()


def test_it_refuses_even_a_facility_admin_to_book_for_someone_who_left(client, room, day, boss, fiona):
    leaves(boss)
    client.force_login(fiona)

    response = post_booking(client, room, day, on_behalf="chefin")

    assert response.status_code == 422
    assert "nicht mehr aktiv" in text(response)
    assert not Booking.objects.exists()


def test_it_lets_the_delegate_cancel_a_series_of_a_principal_who_left(room, at, boss, assistant):
    result = services.create_series(
        room=room,
        organizer=boss,
        actor=assistant,
        title="Jour fixe",
        start=at(9),
        end=at(10),
        rrule="FREQ=DAILY;COUNT=3",
    )
    leaves(boss)

    cancelled = services.cancel_series(series=result.series, actor=assistant)

    assert len(cancelled.cancelled) == 3
    with pytest.raises(NotAllowed):
        services.create_booking(
            room=room, organizer=boss, actor=assistant, title="X", start=at(12), end=at(13)
        )


# --- a waiting-list entry whose rules no longer allow the booking -----------------------------------


def test_it_refuses_a_waiting_person_who_left_without_mailing_them(room, at, alice, bob, mailoutbox):
    taken = book(room, alice, at(9))
    entry = join_waiting_list(person=bob, room=room, title="Warten", start=at(9), end=at(10))
    leaves(bob)

    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=room.pk)
    for pk in OutboxMessage.objects.values_list("pk", flat=True):
        outbox.deliver(pk)

    entry.refresh_from_db()
    assert entry.status == "refused"
    assert OutboxMessage.objects.filter(topic="waiting.refused", channel="mail").exists()
    assert not [m for m in mailoutbox if m.to == ["bob@example.com"]]  # nobody reads their mail any more


def test_it_refuses_an_entry_for_a_room_now_closed_to_the_person(room, at, alice, bob):
    taken = book(room, alice, at(9))
    entry = join_waiting_list(person=bob, room=room, title="Warten", start=at(9), end=at(10))
    board = Group.objects.create(name="Vorstand")
    Policy.objects.create(room=room).bookers.add(board)  # only the board may book it now

    services.cancel_booking(booking=taken, actor=fiona_cancels())
    promote_waiting(room_id=room.pk)

    entry.refresh_from_db()
    assert entry.status == "refused"
    assert "Nur bestimmte Gruppen" in entry.reason
    assert not Booking.objects.filter(organizer=bob).exists()


def fiona_cancels():
    """A facility admin (not bound by who may book) cancels alice's booking."""
    return factories.user("fiona-edge", is_superuser=True)


# --- a series over a combined room ---------------------------------------------------------------


def test_it_moves_a_series_over_the_combined_room_with_every_part(hall, alice, at):
    saal1, saal2, both = hall
    result = make_series(both, alice, at(10), "FREQ=WEEKLY;COUNT=3")

    services.update_series(
        series=result.series, actor=alice, scope="all", start_time=time(14), end_time=time(15)
    )

    for booking in Booking.objects.filter(series=result.series):
        holds = BookingHold.objects.filter(booking=booking)
        assert set(holds.values_list("room_id", flat=True)) == {saal1.pk, saal2.pk}
        assert {h.blocked_span for h in holds} == {booking.span}  # no buffers here
    assert book(saal1, alice, at(10)).room == saal1  # the old time is free again in each part


def test_it_refuses_to_move_a_series_over_the_combined_room_onto_a_booked_part(hall, alice, bob, at):
    _saal1, saal2, both = hall
    result = make_series(both, alice, at(10), "FREQ=WEEKLY;COUNT=3")
    in_the_way = book(saal2, bob, at(14) + timedelta(days=14))

    with pytest.raises(BookingConflict) as refused:
        services.update_series(
            series=result.series, actor=alice, scope="all", start_time=time(14), end_time=time(15)
        )

    assert in_the_way in refused.value.conflicts
    starts = {
        b.span.lower.astimezone(at(10).tzinfo).time() for b in Booking.objects.filter(series=result.series)
    }
    assert starts == {time(10)}  # nothing moved


def test_it_promotes_a_waiting_entry_for_the_combination_only_when_every_part_is_free(hall, alice, bob, at):
    saal1, saal2, both = hall
    first = book(saal1, alice, at(10))
    second = book(saal2, alice, at(10))
    entry = join_waiting_list(person=bob, room=both, title="Tagung", start=at(10), end=at(11))

    services.cancel_booking(booking=second, actor=alice)
    promote_waiting(room_id=saal2.pk)
    entry.refresh_from_db()
    assert entry.status == "waiting"  # Saal 1 is still booked

    services.cancel_booking(booking=first, actor=alice)
    promote_waiting(room_id=saal1.pk)
    entry.refresh_from_db()
    assert (entry.status, entry.booking.room) == ("booked", both)


# --- the last free part ------------------------------------------------------------------------


def test_it_gives_an_any_room_entry_the_last_free_part_not_the_combination(hall, alice, bob, at):
    saal1, saal2, _both = hall
    book(saal1, alice, at(10))
    in_saal2 = book(saal2, alice, at(10))
    entry = join_waiting_list(person=bob, room=saal1, title="Tagung", start=at(10), end=at(11), any_room=True)

    services.cancel_booking(booking=in_saal2, actor=alice)
    promote_waiting(room_id=saal2.pk)

    entry.refresh_from_db()
    assert (entry.status, entry.booking.room) == ("booked", saal2)
    assert not WaitingEntry.objects.filter(status="waiting").exists()


def test_it_lets_a_manager_book_the_last_free_part_for_someone_else(hall, maria, bob, at):
    saal1, saal2, both = hall
    Policy.objects.create(building=saal1.floor.building).managers.set(maria.groups.all())
    book(saal1, bob, at(10))

    made = services.create_booking(
        room=saal2, organizer=bob, actor=maria, title="Teil", start=at(10), end=at(11)
    )

    assert (made.organizer, made.booked_by, made.room) == (bob, maria, saal2)
    with pytest.raises(BookingConflict):
        services.create_booking(
            room=both, organizer=bob, actor=maria, title="Alles", start=at(10), end=at(11)
        )
