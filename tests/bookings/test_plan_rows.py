"""The day plan's rows come from memory, keyed by what they show: never stale, never another viewer's."""

from __future__ import annotations

import re

import pytest

from bookings.models import Booking
from bookings.views.plan_rows import rows
from tests import factories

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def house(db):
    building = factories.building(name="Haus A")
    floor = factories.floor(building, name="EG")
    return {
        "building": building,
        "small": factories.room(floor, name="Spree", capacity=4),
        "middle": factories.room(floor, name="Havel", capacity=8),
    }


def plan(client, house, day) -> str:
    response = client.get("/plan/", {"building": house["building"].pk, "date": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_it_serves_the_same_page_from_remembered_rows(client, alice, bob, house, day):
    factories.booking(house["small"], bob, factories.on(day, 9), title="Sprint-Review")
    factories.booking(house["middle"], alice, factories.on(day, 11), title="Meins", private=True)
    client.force_login(alice)
    rows.clear()
    rendered = plan(client, house, day)
    hits = rows.hits
    remembered = plan(client, house, day)
    assert rows.hits == hits + 2  # both rows from memory
    assert CSRF.sub("", remembered) == CSRF.sub("", rendered)


@pytest.mark.django_db
def test_it_shows_a_change_to_the_bookings_on_the_next_look(client, alice, bob, house, day):
    booking = factories.booking(house["small"], bob, factories.on(day, 9), title="Sprint-Review")
    client.force_login(alice)
    assert "Sprint-Review" in plan(client, house, day)
    assert "Sprint-Review" in plan(client, house, day)  # now from memory

    Booking.objects.filter(pk=booking.pk).update(title="Retrospektive")
    page = plan(client, house, day)
    assert "Retrospektive" in page and "Sprint-Review" not in page

    factories.booking(house["middle"], bob, factories.on(day, 14), title="Neu dazu")
    assert "Neu dazu" in plan(client, house, day)

    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    page = plan(client, house, day)
    assert "Retrospektive" not in page
    # The room is offered free for the whole day again.
    assert f"room={house['small'].pk}&amp;date={day.isoformat()}&amp;start=07%3A00" in page
    assert 'data-start="07:00" data-end="20:00"' in page


@pytest.mark.django_db
def test_it_shows_a_renamed_room_on_the_next_look(client, alice, house, day):
    client.force_login(alice)
    assert ">Spree<" in plan(client, house, day)
    house["small"].name = "Isar"
    house["small"].save()
    page = plan(client, house, day)
    assert ">Isar<" in page and ">Spree<" not in page


@pytest.mark.django_db
def test_it_keeps_a_private_title_to_those_who_may_see_it(client, alice, bob, fiona, house, day):
    secret = factories.booking(house["small"], bob, factories.on(day, 9), title="Vertraulich", private=True)
    change = f"/bookings/{secret.pk}/change/"
    rows.clear()

    client.force_login(bob)
    page = plan(client, house, day)
    assert "Vertraulich" in page and change in page  # the organizer: title and change link

    client.force_login(alice)
    for _look in range(2):  # rendered for alice, then from memory: bob's row never
        page = plan(client, house, day)
        assert "Vertraulich" not in page and change not in page
        assert "Belegt" in page

    client.force_login(fiona)  # a facility admin sees the title, but it is not hers to change
    page = plan(client, house, day)
    assert "Vertraulich" in page and change not in page

    client.force_login(bob)
    page = plan(client, house, day)
    assert "Vertraulich" in page and change in page
