"""The pages: a booking's services (price and total before saving, cut-off in words), the provider's day."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from orders.models import Order
from tests import factories
from tests.helpers import at, text

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY = date(2027, 3, 9), date(2027, 3, 10)


@pytest.fixture
def meeting(room, alice):
    return factories.booking(room, alice, at(WEDNESDAY, 9), title="Planung", attendees=["b@x.de", "c@x.de"])


@pytest.fixture
def tuesday_morning():
    with time_machine.travel(at(TUESDAY, 10), tick=False) as traveller:
        yield traveller


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_shows_the_price_and_total_before_ordering(client, alice, meeting, coffee):
    client.force_login(alice)
    url = f"/services/bookings/{meeting.pk}/"

    preview = client.post(url, {"item": coffee.pk, "action": "preview"})
    assert "3 × Kaffee: 7,05; Summe mit dieser Position: 7,05" in text(preview)
    assert not Order.objects.exists()

    ordered = client.post(url, {"item": coffee.pk, "action": "order"}, follow=True)
    assert str(Order.objects.get().amount) == "7.05"
    assert "Kaffee wurde bestellt." in text(ordered)


@pytest.mark.usefixtures("alice_pays")
def test_it_explains_the_passed_cut_off_in_words(client, alice, meeting, coffee):
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        client.force_login(alice)
        page = text(client.get(f"/services/bookings/{meeting.pk}/"))

    assert "Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden." in page


@pytest.mark.usefixtures("tuesday_morning")
def test_it_refuses_the_page_of_anothers_booking(client, bob, meeting):
    client.force_login(bob)

    assert client.get(f"/services/bookings/{meeting.pk}/").status_code == 403


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_shows_a_quantity_outside_the_limits_on_the_form(client, alice, meeting, coffee):
    client.force_login(alice)

    response = client.post(
        f"/services/bookings/{meeting.pk}/", {"item": coffee.pk, "quantity": 51, "action": "order"}
    )

    assert response.status_code == 422
    assert "Die Menge muss zwischen 1 und 50 liegen." in text(response)
    assert not Order.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_it_lists_the_kitchens_day_and_marks_a_line_delivered(client, alice, cook, meeting, coffee, kitchen):
    from orders import services

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice, note="mit Hafermilch")
    with time_machine.travel(at(WEDNESDAY, 7), tick=False):
        client.force_login(cook)
        page = text(client.get(f"/services/providers/{kitchen.pk}/"))
        assert "mit Hafermilch" in page and "09:00" in page and meeting.room.name in page
        client.post(f"/services/providers/{kitchen.pk}/lines/{line.pk}/status/", {"status": "delivered"})

    line.refresh_from_db()
    assert line.status == Order.Status.DELIVERED


def test_it_keeps_the_kitchens_day_from_others(client, alice, kitchen):
    client.force_login(alice)

    assert client.get(f"/services/providers/{kitchen.pk}/").status_code == 403


@pytest.mark.usefixtures("alice_pays")
def test_it_tells_the_late_cost_of_a_reduction_before_confirming_it(client, alice, meeting, coffee):
    from orders import services

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice, quantity=6)
    url = f"/services/bookings/{meeting.pk}/lines/{line.pk}/change/"
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        client.force_login(alice)
        asked = client.post(url, {"quantity": 4})
        line.refresh_from_db()
        assert line.quantity == 6  # nothing changed yet
        assert "Kaffee von 6 auf 4: Der Dienstleister hat bereits geplant, daher werden 50 % dessen" in text(
            asked
        )
        assert "(2,35 EUR)" in text(asked)
        client.post(url, {"quantity": 4, "confirm": "yes"})

    line.refresh_from_db()
    assert (line.quantity, str(line.amount)) == (4, "11.75")


@pytest.mark.usefixtures("alice_pays")
def test_it_changes_a_quantity_before_the_cut_off_without_asking(client, alice, meeting, coffee):
    from orders import services

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice, quantity=6)
        client.force_login(alice)
        response = client.post(f"/services/bookings/{meeting.pk}/lines/{line.pk}/change/", {"quantity": 2})

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.quantity, str(line.amount)) == (2, "4.70")


@pytest.mark.usefixtures("alice_pays")
def test_it_keeps_others_from_changing_a_line(client, alice, bob, meeting, coffee):
    from orders import services

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice, quantity=6)
        client.force_login(bob)
        response = client.post(f"/services/bookings/{meeting.pk}/lines/{line.pk}/change/", {"quantity": 2})

    assert response.status_code == 403
    line.refresh_from_db()
    assert line.quantity == 6


@pytest.mark.usefixtures("alice_pays", "tuesday_morning")
def test_it_explains_a_quantity_that_is_no_number(client, alice, meeting, coffee):
    from orders import services

    line = services.order_service(booking=meeting, item=coffee, actor=alice, quantity=6)
    client.force_login(alice)
    response = client.post(
        f"/services/bookings/{meeting.pk}/lines/{line.pk}/change/", {"quantity": "x"}, follow=True
    )

    assert "Bitte geben Sie die Menge als ganze Zahl ein." in text(response)
    line.refresh_from_db()
    assert line.quantity == 6
