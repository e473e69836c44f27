"""Combinable rooms: a divisible hall ("Saal 1+2") and its parts are never booked at once.

The database decides (BookingHold and its exclusion constraint, kept by triggers); these
tests go through the services and the API as users do, and one writes rows directly to
show the guarantee holds whatever the code does.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from bookings import services
from bookings.errors import BookingConflict, PolicyViolation
from bookings.models import Blocking, Booking, BookingHold, Policy, Room, RoomPart
from bookings.selectors.availability import free_room_rows, free_rooms
from bookings.selectors.dayplan import day_plan
from bookings.selectors.suggestions import alternatives
from tests import factories
from tests.helpers import bearer, make_series


@pytest.fixture
def hall(db):
    """Saal 1 and Saal 2 on one floor, and "Saal 1+2" joining them."""
    floor = factories.floor(factories.building(factories.site(time_zone="Europe/Berlin")))
    saal1 = factories.room(floor, "Saal 1", capacity=40)
    saal2 = factories.room(floor, "Saal 2", capacity=40)
    both = factories.room(floor, "Saal 1+2", capacity=80)
    RoomPart.objects.create(combined=both, part=saal1)
    RoomPart.objects.create(combined=both, part=saal2)
    return saal1, saal2, both


def book(room, who, start, minutes=60, **extra):
    return services.create_booking(
        room=room, organizer=who, title="Tagung", start=start, end=start + timedelta(minutes=minutes), **extra
    )


def test_it_holds_both_parts_for_a_booking_of_the_combination(hall, alice, at):
    saal1, saal2, both = hall
    booking = book(both, alice, at(10))

    assert set(BookingHold.objects.filter(booking=booking).values_list("room_id", flat=True)) == {
        saal1.pk,
        saal2.pk,
    }


def test_it_refuses_a_part_while_the_combination_is_booked(hall, alice, bob, at):
    saal1, _saal2, both = hall
    taken = book(both, alice, at(10))

    with pytest.raises(BookingConflict) as refused:
        book(saal1, bob, at(10, 30))

    assert refused.value.conflicts == [taken]


def test_it_refuses_the_combination_while_the_last_free_part_is_not_enough(hall, alice, bob, at):
    saal1, saal2, both = hall
    taken = book(saal2, alice, at(10))

    with pytest.raises(BookingConflict) as refused:
        book(both, bob, at(10))

    assert refused.value.conflicts == [taken]
    assert book(saal1, bob, at(10)).room == saal1  # the last free part is still free


def test_it_frees_the_parts_when_the_combination_is_cancelled(hall, alice, bob, at):
    saal1, _saal2, both = hall
    taken = book(both, alice, at(10))
    services.cancel_booking(booking=taken, actor=alice)

    assert not BookingHold.objects.filter(booking=taken).exists()
    assert book(saal1, bob, at(10)).is_active


def test_it_moves_the_holds_with_a_changed_booking(hall, alice, bob, at):
    saal1, _saal2, both = hall
    taken = book(both, alice, at(10))
    services.update_booking(booking=taken, actor=alice, start=at(14), end=at(15))

    assert book(saal1, bob, at(10)).is_active
    with pytest.raises(BookingConflict):
        book(saal1, bob, at(14))


def test_it_refuses_overlapping_rows_written_past_the_services(hall, alice, at):
    saal1, _saal2, both = hall
    factories.booking(both, alice, at(10))

    with pytest.raises(IntegrityError, match="booking_hold_no_overlap"), transaction.atomic():
        factories.booking(saal1, alice, at(10, 30))


def test_it_keeps_the_buffers_of_the_combination_for_its_parts(hall, alice, bob, at):
    saal1, _saal2, both = hall
    Policy.objects.create(room=both, buffer_after_minutes=30)
    book(both, alice, at(10))

    with pytest.raises(BookingConflict) as refused:
        book(saal1, bob, at(11, 15))

    assert refused.value.message.startswith("Der Raum ist direkt davor oder danach gebucht")


def test_it_keeps_the_buffers_of_a_part_for_its_combination(hall, alice, bob, at):
    saal1, _saal2, both = hall
    Policy.objects.create(room=saal1, buffer_before_minutes=30)
    book(saal1, alice, at(10))

    with pytest.raises(BookingConflict):
        book(both, bob, at(9), minutes=45)
    assert book(both, bob, at(8), minutes=30).is_active


def test_it_closes_the_combination_when_a_part_is_blocked(hall, alice, at):
    saal1, _saal2, both = hall
    Blocking.objects.create(room=saal1, span=factories.make_span(at(8), at(18)), reason="Renovierung")

    with pytest.raises(PolicyViolation, match="Renovierung"):
        book(both, alice, at(10))


def test_it_closes_the_parts_when_the_combination_is_blocked(hall, alice, at):
    _saal1, saal2, both = hall
    Blocking.objects.create(room=both, span=factories.make_span(at(8), at(18)), reason="Messe")

    with pytest.raises(PolicyViolation, match="Messe"):
        book(saal2, alice, at(10))


def test_it_books_a_series_over_the_combined_room_and_skips_nothing_silently(hall, alice, bob, at):
    saal1, _saal2, both = hall
    in_the_way = book(saal1, bob, at(10) + timedelta(days=7))

    with pytest.raises(BookingConflict) as refused:
        make_series(both, alice, at(10), "FREQ=WEEKLY;COUNT=3")

    assert in_the_way in refused.value.conflicts
    assert not Booking.objects.filter(room=both).exists()


def test_it_holds_the_parts_for_every_occurrence_of_a_series(hall, alice, bob, at):
    _saal1, saal2, both = hall
    make_series(both, alice, at(10), "FREQ=WEEKLY;COUNT=3")

    for week in range(3):
        with pytest.raises(BookingConflict):
            book(saal2, bob, at(10) + timedelta(days=7 * week))


def test_it_shows_the_combination_busy_in_the_finder_when_a_part_is_booked(hall, alice, at):
    saal1, saal2, both = hall
    book(saal1, alice, at(10))

    free = set(free_rooms(start=at(10), end=at(11)).values_list("pk", flat=True))
    _catalogue, rows = free_room_rows(start=at(10), end=at(11))

    assert saal2.pk in free and both.pk not in free and saal1.pk not in free
    assert {r.id for r in rows} == free


def test_it_shows_the_combination_booking_on_the_day_plan_of_each_part(hall, alice, day, at):
    saal1, saal2, both = hall
    taken = book(both, alice, at(10))

    plans = {
        p.room.pk: [b["id"] for b in p.bookings] for p in day_plan(day=day, building=saal1.floor.building_id)
    }

    assert plans[saal1.pk] == plans[saal2.pk] == plans[both.pk] == [taken.pk]


def test_it_lists_a_combined_room_with_its_parts(client, hall, alice):
    saal1, saal2, both = hall
    rooms = {r["id"]: r for r in client.get("/api/v1/rooms", headers=bearer(alice)).json()}

    assert rooms[both.pk]["parts"] == sorted([saal1.pk, saal2.pk])
    assert rooms[saal1.pk]["parts"] == []
    assert client.get(f"/api/v1/rooms/{both.pk}", headers=bearer(alice)).json()["parts"] == sorted(
        [saal1.pk, saal2.pk]
    )


def test_it_books_a_combined_room_through_the_api_and_refuses_its_part(client, hall, alice, bob, at):
    saal1, _saal2, both = hall
    body = {"room": both.pk, "title": "Tagung", "start": at(10).isoformat(), "end": at(11).isoformat()}
    created = client.post("/api/v1/bookings", body, content_type="application/json", headers=bearer(alice))
    refused = client.post(
        "/api/v1/bookings", {**body, "room": saal1.pk}, content_type="application/json", headers=bearer(bob)
    )

    assert created.status_code == 201
    assert refused.status_code == 409
    assert [c["id"] for c in refused.json()["conflicts"]] == [created.json()["id"]]


def test_it_refuses_a_combination_of_combinations_in_the_database(hall):
    saal1, _saal2, both = hall
    bigger = factories.room(saal1.floor, "Saal 1+2+3")

    with pytest.raises(IntegrityError, match="combined room cannot be a part"), transaction.atomic():
        RoomPart.objects.create(combined=bigger, part=both)


def test_it_seeds_a_divisible_hall_for_the_demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    hall = Room.objects.get(name="Saal 1+2")
    assert sorted(RoomPart.objects.filter(combined=hall).values_list("part__name", flat=True)) == [
        "Saal 1",
        "Saal 2",
    ]
    assert Booking.objects.filter(room=hall, title="Betriebsversammlung").count() == 1


def room_form(room, parts) -> dict:
    """The admin's change form of a room with these parts (and nothing else changed)."""
    data = {
        "floor": room.floor_id,
        "name": room.name,
        "capacity": room.capacity,
        "bookable": "on",
        "part_links-TOTAL_FORMS": len(parts),
        "part_links-INITIAL_FORMS": 0,
        "part_links-MIN_NUM_FORMS": 0,
        "part_links-MAX_NUM_FORMS": 1000,
    }
    for n, part in enumerate(parts):
        data[f"part_links-{n}-part"] = part.pk
    return data


def test_it_lets_an_admin_combine_rooms(admin_client, hall):
    saal1, saal2, _both = hall
    third = factories.room(saal1.floor, "Saal 3")
    bigger = factories.room(saal1.floor, "Saal 2+3")

    response = admin_client.post(
        f"/admin/bookings/room/{bigger.pk}/change/", room_form(bigger, [saal2, third])
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(RoomPart.objects.filter(combined=bigger).values_list("part", flat=True)) == {
        saal2.pk,
        third.pk,
    }


def test_it_refuses_a_combined_room_as_a_part_in_the_admin(admin_client, hall):
    saal1, _saal2, both = hall
    bigger = factories.room(saal1.floor, "Alles")

    response = admin_client.post(f"/admin/bookings/room/{bigger.pk}/change/", room_form(bigger, [both]))

    assert response.status_code == 200
    assert "Saal 1+2 ist selbst ein kombinierter Raum" in response.content.decode()
    assert not RoomPart.objects.filter(combined=bigger).exists()


def test_it_suggests_no_part_of_a_booked_combination_elsewhere(hall, alice, at):
    saal1, saal2, both = hall
    book(both, alice, at(10))
    other = factories.room(saal1.floor, "Kleiner Raum")

    found = alternatives(site_id=saal1.floor.building.site_id, start=at(10), end=at(11), now=at(8), room=both)

    assert [s.room for s in found.elsewhere] == [other]
    assert all(s.room != saal2 for s in found.shifted + found.shorter)


# --- the plan and the finder name a combination's parts -------------------------------------


def test_it_names_the_parts_in_the_day_plan_and_the_finder(client, hall, alice):
    saal1, _saal2, _both = hall
    building = saal1.floor.building
    day = factories.days_ahead(2)
    client.force_login(alice)

    plan = client.get(f"/plan/?building={building.pk}&date={day}").content.decode()
    found = client.get(
        f"/?place=building-{building.pk}&date={day}&start=09:00&end=10:00&people=60"
    ).content.decode()

    assert plan.count("vereint Saal 1 + Saal 2") == 1  # on the combination's row only
    assert "vereint Saal 1 + Saal 2" in found
    client.cookies["django_language"] = "en"
    assert "joins Saal 1 + Saal 2" in client.get(f"/plan/?building={building.pk}&date={day}").content.decode()
