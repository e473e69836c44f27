"""Services for every date of a series: ordered where they can be, the others named with why."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from orders.models import Order
from tests.helpers import assert_clean_error, at, make_series

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
