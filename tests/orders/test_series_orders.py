"""Services for every date of a series: ordered where they can be, the others named with why."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine

from bookings.errors import BookingError
from bookings.models import Booking
from bookings.services import cancel_series
from bookings.services.series_edit import update_series
from orders import services
from orders.models import Order
from tests.helpers import assert_clean_error, at, make_series, text

pytestmark = pytest.mark.django_db

TUESDAY = date(2027, 3, 9)


@pytest.mark.usefixtures("alice_pays")
def test_it_orders_coffee_for_each_date_but_the_one_past_its_cut_off(client, room, alice, coffee, token_for):
    # Daily at 09:00 from Wednesday: Wednesday's cut-off (Tuesday 14:00) has passed at 15:00.
    series = make_series(room, alice, at(date(2027, 3, 10), 9), "FREQ=DAILY;COUNT=3").series
    headers = token_for(alice)
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        response = client.post(
            f"/api/v1/series/{series.pk}/orders",
            {"item": coffee.pk, "quantity": 4},
            content_type="application/json",
            headers=headers,
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [o["amount"] for o in body["orders"]] == ["9.40", "9.40"]
    assert [s["reason"] for s in body["skipped"]] == [
        "Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden."
    ]


@pytest.mark.usefixtures("alice_pays")
def test_it_hides_another_persons_series(client, room, alice, bob, coffee, token_for):
    series = make_series(room, alice, at(date(2027, 3, 10), 9), "FREQ=DAILY;COUNT=2").series
    headers = token_for(bob)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        response = client.post(
            f"/api/v1/series/{series.pk}/orders",
            {"item": coffee.pk},
            content_type="application/json",
            headers=headers,
        )

    assert_clean_error(response, 404)
    assert not Order.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_it_moves_each_dates_coffee_with_a_series_time_change(room, alice, coffee):

    result = make_series(room, alice, at(date(2027, 3, 10), 9), "FREQ=DAILY;COUNT=2")
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        for booking in result.created:
            services.order_service(booking=booking, item=coffee, actor=alice, quantity=3)
        update_series(series=result.series, actor=alice, scope="all", start_time=time(10), end_time=time(11))

    deliveries = sorted(o.deliver_at for o in Order.objects.filter(status=Order.Status.ORDERED))
    assert deliveries == [at(date(2027, 3, 10), 10), at(date(2027, 3, 11), 10)]


@pytest.mark.usefixtures("alice_pays")
def test_it_refuses_a_series_time_change_its_coffee_cannot_follow_and_changes_nothing(room, alice, coffee):

    # Coffee is delivered until 18:00 only: 19:00 is refused, with the item named.
    result = make_series(room, alice, at(date(2027, 3, 10), 9), "FREQ=DAILY;COUNT=2")
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.order_service(booking=result.created[1], item=coffee, actor=alice)
        with pytest.raises(BookingError) as refused:
            update_series(
                series=result.series, actor=alice, scope="all", start_time=time(19), end_time=time(20)
            )

    assert "Kaffee" in refused.value.message
    starts = sorted(Booking.objects.filter(series=result.series).values_list("span", flat=True))
    assert [s.lower for s in starts] == [at(date(2027, 3, 10), 9), at(date(2027, 3, 11), 9)]
    assert Order.objects.get().deliver_at == at(date(2027, 3, 11), 9)


@pytest.mark.usefixtures("alice_pays")
def test_it_cancels_the_coffee_of_cancelled_dates(room, alice, coffee):

    result = make_series(room, alice, at(date(2027, 3, 10), 9), "FREQ=DAILY;COUNT=2")
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        for booking in result.created:
            services.order_service(booking=booking, item=coffee, actor=alice)
        cancel_series(series=result.series, actor=alice)

    assert set(Order.objects.values_list("status", "charged_percent")) == {(Order.Status.CANCELLED, 0)}


@pytest.mark.usefixtures("alice_pays")
def test_the_change_page_tells_why_a_series_cannot_move_with_its_coffee(client, room, alice, coffee):
    result = make_series(room, alice, at(date(2027, 3, 10), 9), "FREQ=DAILY;COUNT=2")
    first = result.created[0]
    data = {
        "title": "Jour fixe",
        "room": room.pk,
        "date": "2027-03-10",
        "start": "19:00",
        "end": "20:00",
        "scope": "all",
        "version": first.version,
    }
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.order_service(booking=first, item=coffee, actor=alice)
        client.force_login(alice)
        response = client.post(f"/bookings/{first.pk}/change/", data)

    assert response.status_code == 403
    assert "Kaffee kann nicht mit der Buchung verschoben werden" in text(response)
    first.refresh_from_db()
    assert first.start == at(date(2027, 3, 10), 9)
