"""The meeting pages: find N rooms for M people, book them together, move, give one back, cancel."""

from __future__ import annotations

import uuid

import pytest

from bookings.models import Booking, Meeting
from bookings.services import meetings
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def haus_a(db):
    floor = factories.floor(factories.building(factories.site("Berlin"), "Haus A"))
    rooms = [factories.room(floor, name, capacity=8) for name in ("Elbe", "Havel", "Spree")]
    factories.room(floor, "Klein", capacity=4)
    return rooms


def search(haus_a, day, **extra) -> dict:
    return {
        "place": f"building-{haus_a[0].floor.building_id}",
        "date": day.isoformat(),
        "start": "10:00",
        "end": "11:00",
        "count": 3,
        "people": 8,
        "title": "Workshop",
        "approval": "wait",
        **extra,
    }


def test_it_finds_three_rooms_for_eight_people_each(client, alice, haus_a, day):
    client.force_login(alice)

    response = client.get("/meetings/new/", search(haus_a, day))

    assert response.status_code == 200
    text = response.content.decode()
    assert "3 Räume für die Besprechung" in text
    for room in haus_a:
        assert f'value="{room.pk}" id="room-{room.pk}" checked' in text
    assert "Klein" not in text


def test_it_books_the_ticked_rooms_together(client, alice, haus_a, day, at):
    client.force_login(alice)

    response = client.post(
        "/meetings/new/", {**search(haus_a, day), "rooms": [r.pk for r in haus_a], "key": uuid.uuid4().hex}
    )

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/meetings/{meeting.pk}/"
    assert set(
        Booking.objects.filter(meeting_room__meeting=meeting).values_list("room__name", flat=True)
    ) == {
        "Elbe",
        "Havel",
        "Spree",
    }
    page = client.get(response["Location"]).content.decode()
    assert "Ortszeit Berlin" in page
    assert "Diesen Raum zurückgeben" in page


def test_a_room_taken_meanwhile_books_nothing_and_names_it(client, alice, bob, haus_a, day, at):
    client.force_login(alice)
    factories.booking(haus_a[1], bob, at(10))

    response = client.post(
        "/meetings/new/", {**search(haus_a, day), "rooms": [r.pk for r in haus_a], "key": uuid.uuid4().hex}
    )

    assert response.status_code == 409
    assert "Havel ist zu dieser Zeit schon gebucht; kein Raum der Besprechung wurde gebucht." in (
        response.content.decode()
    )
    assert not Meeting.objects.exists()
    assert Booking.objects.count() == 1


def test_bad_input_books_nothing(client, alice, haus_a, day):
    client.force_login(alice)

    response = client.post("/meetings/new/", {**search(haus_a, day, count=1), "rooms": [haus_a[0].pk]})

    assert response.status_code == 422
    assert not Booking.objects.exists()


def test_one_ticked_room_is_not_a_meeting(client, alice, haus_a, day):
    client.force_login(alice)

    response = client.post(
        "/meetings/new/", {**search(haus_a, day), "rooms": [haus_a[0].pk], "key": uuid.uuid4().hex}
    )

    assert response.status_code == 422
    assert "mindestens zwei Räume" in response.content.decode()
    assert not Booking.objects.exists()


@pytest.fixture
def meeting(alice, haus_a, at):
    return meetings.create_meeting(rooms=haus_a, organizer=alice, title="Workshop", start=at(10), end=at(11))


def test_moving_with_one_room_taken_moves_nothing_and_names_it(client, alice, bob, haus_a, meeting, day, at):
    client.force_login(alice)
    factories.booking(haus_a[2], bob, at(14))

    response = client.post(
        f"/meetings/{meeting.pk}/move/",
        {"date": day.isoformat(), "start": "14:00", "end": "15:00", "version": meetings.sequence(meeting)},
    )

    assert response.status_code == 409
    assert "Spree ist zur neuen Zeit nicht frei" in response.content.decode()
    assert Booking.objects.filter(meeting_room__meeting=meeting, span__startswith=at(10)).count() == 3


def test_moving_moves_every_room(client, alice, meeting, day, at):
    client.force_login(alice)

    response = client.post(
        f"/meetings/{meeting.pk}/move/",
        {"date": day.isoformat(), "start": "14:00", "end": "15:00", "version": meetings.sequence(meeting)},
    )

    assert response.status_code == 302
    assert Booking.objects.filter(meeting_room__meeting=meeting, span__startswith=at(14)).count() == 3


def test_giving_one_room_back_keeps_the_others(client, alice, haus_a, meeting):
    client.force_login(alice)
    elbe = Booking.objects.get(meeting_room__meeting=meeting, room=haus_a[0])

    response = client.post(f"/meetings/{meeting.pk}/rooms/{elbe.pk}/cancel/")

    assert response.status_code == 302
    assert dict(
        Booking.objects.filter(meeting_room__meeting=meeting).values_list("room__name", "status")
    ) == {
        "Elbe": "cancelled",
        "Havel": "confirmed",
        "Spree": "confirmed",
    }


def test_cancelling_cancels_every_room(client, alice, meeting):
    client.force_login(alice)

    assert client.post(f"/meetings/{meeting.pk}/cancel/").status_code == 302

    assert set(Booking.objects.filter(meeting_room__meeting=meeting).values_list("status", flat=True)) == {
        "cancelled"
    }


def test_someone_else_gets_404(client, bob, meeting):
    client.force_login(bob)

    assert client.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert client.post(f"/meetings/{meeting.pk}/cancel/").status_code == 404
    assert set(Booking.objects.values_list("status", flat=True)) == {"confirmed"}


def test_my_bookings_links_the_meeting(client, alice, meeting):
    client.force_login(alice)

    page = client.get("/my/").content.decode()

    assert f'href="/meetings/{meeting.pk}/"' in page


def test_the_pages_speak_english(client, alice, meeting):
    client.force_login(alice)

    page = client.get(f"/meetings/{meeting.pk}/", headers={"accept-language": "en"}).content.decode()

    assert "Give this room back" in page
    assert "Move all rooms" in page


def test_the_admin_shows_each_room_at_its_local_time(client, fiona, meeting):
    client.force_login(fiona)

    page = client.get(f"/admin/bookings/meeting/{meeting.pk}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    for name in ("Elbe", "Havel", "Spree"):
        assert name in text


def test_the_admin_cancels_a_meeting_in_all_rooms(client, fiona, meeting):
    client.force_login(fiona)

    response = client.post(
        "/admin/bookings/meeting/",
        {"action": "cancel_selected", "_selected_action": [meeting.pk]},
    )

    assert response.status_code == 302
    assert set(Booking.objects.filter(meeting_room__meeting=meeting).values_list("status", flat=True)) == {
        "cancelled"
    }


def test_the_admin_refuses_someone_without_permission(client, alice, meeting):
    alice.is_staff = True
    alice.save()
    client.force_login(alice)

    assert client.get(f"/admin/bookings/meeting/{meeting.pk}/change/").status_code == 403
