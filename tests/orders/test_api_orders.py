"""Ordering through the API: the catalogue, an order line, and every refusal (4xx, nothing written)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from bookings.models import Booking
from orders.models import ClosedDay, Order
from tests import factories
from tests.helpers import assert_clean_error, at

pytestmark = pytest.mark.django_db

TUESDAY = date(2027, 3, 9)
WEDNESDAY = date(2027, 3, 10)


def order(client, headers, booking, **body):
    return client.post(
        f"/api/v1/bookings/{booking.pk}/orders", body, content_type="application/json", headers=headers
    )


@pytest.fixture
def meeting(room, alice):
    """Alice's meeting on Wednesday 09:00–10:00, with two attendees."""
    return factories.booking(room, alice, at(WEDNESDAY, 9), attendees=["b@example.com", "c@example.com"])


@pytest.fixture
def tuesday_morning():
    with time_machine.travel(at(TUESDAY, 10), tick=False) as traveller:
        yield traveller


def test_it_lists_the_catalogue_of_a_site(client, alice, room, coffee, token_for):
    response = client.get(f"/api/v1/catalogue?site={room.floor.building.site_id}", headers=token_for(alice))

    assert response.status_code == 200
    (item,) = response.json()
    assert (item["id"], item["name"], item["unit"], item["price"], item["provider"]) == (
        coffee.pk,
        "Kaffee",
        "person",
        "2.35",
        "Kantine",
    )


def test_it_refuses_the_catalogue_of_an_unknown_site(client, alice, token_for):
    assert_clean_error(client.get("/api/v1/catalogue?site=999999", headers=token_for(alice)), 422)


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_orders_coffee_for_every_attendee_by_default(client, alice, meeting, coffee, token_for):
    response = order(client, token_for(alice), meeting, item=coffee.pk)

    assert response.status_code == 201, response.content
    line = response.json()
    assert (line["quantity"], line["amount"], line["cost_centre"]) == (3, "7.05", "2100")
    assert Order.objects.get(pk=line["id"]).deliver_at == meeting.span.lower


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_rounds_the_amount_once_to_the_cent(client, alice, meeting, coffee, token_for):
    coffee.price = "0.335"
    coffee.save()
    coffee.refresh_from_db()

    assert order(client, token_for(alice), meeting, item=coffee.pk, quantity=3).json()["amount"] == "1.02"


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_hides_another_persons_booking(client, bob, meeting, coffee, token_for):
    assert_clean_error(order(client, token_for(bob), meeting, item=coffee.pk), 404)
    assert not Order.objects.exists()


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item": 999999}, "item"),
        ({"quantity": 51}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "drei"}, "quantity"),
        ({"cost_centre": "0000"}, "cost_centre"),
        ({"cost_centre": "1999"}, "cost_centre"),
    ],
)
def test_it_refuses_bad_input_with_422_naming_the_field(
    client, alice, meeting, coffee, token_for, body, field
):
    response = order(client, token_for(alice), meeting, **({"item": coffee.pk} | body))

    assert assert_clean_error(response, 422)["field"] == field
    assert not Order.objects.exists()


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_asks_for_the_note_an_item_needs(client, alice, meeting, lunch, token_for):
    response = order(client, token_for(alice), meeting, item=lunch.pk)

    data = assert_clean_error(response, 422)
    assert (data["field"], data["detail"]) == (
        "note",
        "Mittagessen braucht eine Anmerkung (z. B. Diät oder Allergene).",
    )
    assert order(client, token_for(alice), meeting, item=lunch.pk, note="2× vegan").status_code == 201


@pytest.mark.usefixtures("tuesday_morning")
def test_it_refuses_without_a_cost_centre(client, alice, meeting, coffee, token_for):
    assert (
        assert_clean_error(order(client, token_for(alice), meeting, item=coffee.pk), 422)["field"]
        == "cost_centre"
    )


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_refuses_an_order_on_a_cancelled_booking(client, alice, meeting, coffee, token_for):
    meeting.status = Booking.Status.CANCELLED
    meeting.save()

    assert_clean_error(order(client, token_for(alice), meeting, item=coffee.pk), 403)


@pytest.mark.usefixtures("alice_pays")
def test_it_accepts_an_order_exactly_at_the_cut_off(client, alice, meeting, coffee, token_for):
    headers = token_for(alice)
    with time_machine.travel(at(TUESDAY, 14), tick=False):
        assert order(client, headers, meeting, item=coffee.pk).status_code == 201


@pytest.mark.usefixtures("alice_pays")
def test_it_explains_the_cut_off_one_minute_past_it(client, alice, meeting, coffee, token_for):
    headers = token_for(alice)
    with time_machine.travel(at(TUESDAY, 14, 1), tick=False):
        response = order(client, headers, meeting, item=coffee.pk)

    assert assert_clean_error(response, 403)["detail"] == (
        "Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden."
    )
    assert not Order.objects.exists()


@pytest.mark.usefixtures("alice_pays")
@pytest.mark.parametrize(("minute", "status"), [(0, 201), (1, 403)])
def test_it_counts_the_cut_off_over_a_weekend(client, alice, room, coffee, token_for, minute, status):
    monday = factories.booking(room, alice, at(date(2027, 3, 15), 9))
    headers = token_for(alice)
    with time_machine.travel(at(date(2027, 3, 12), 14, minute), tick=False):  # the Friday before
        assert order(client, headers, monday, item=coffee.pk).status_code == status


@pytest.mark.usefixtures("alice_pays")
@pytest.mark.parametrize(
    ("utc", "status"),
    [(datetime(2027, 3, 26, 13, 0, tzinfo=UTC), 201), (datetime(2027, 3, 26, 13, 1, tzinfo=UTC), 403)],
)
def test_it_keeps_the_wall_clock_cut_off_across_the_clock_change(
    client, alice, room, coffee, token_for, utc, status
):
    # Monday 29 March is summer time; the Friday before is winter time: 14:00 there is 13:00 UTC.
    monday = factories.booking(room, alice, at(date(2027, 3, 29), 9))
    headers = token_for(alice)
    with time_machine.travel(utc, tick=False):
        assert order(client, headers, monday, item=coffee.pk).status_code == status


@pytest.mark.usefixtures("alice_pays")
def test_it_skips_the_sites_closed_days(client, alice, room, coffee, token_for):
    ClosedDay.objects.create(site=room.floor.building.site, day=date(2027, 3, 12), name="Betriebsausflug")
    monday = factories.booking(room, alice, at(date(2027, 3, 15), 9))
    headers = token_for(alice)
    with time_machine.travel(at(date(2027, 3, 11), 14, 1), tick=False):  # Thursday
        assert assert_clean_error(order(client, headers, monday, item=coffee.pk), 403)


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_explains_an_hour_the_provider_does_not_deliver(client, alice, room, coffee, token_for):
    evening = factories.booking(room, alice, at(WEDNESDAY, 19))

    detail = assert_clean_error(order(client, token_for(alice), evening, item=coffee.pk), 403)["detail"]
    assert detail.startswith("Kantine liefert Kaffee zu dieser Zeit nicht")


@pytest.mark.usefixtures("tuesday_morning", "alice_pays")
def test_it_documents_the_order_operations_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths["/api/v1/bookings/{booking_id}/orders"]["post"]["responses"]) >= {
        "201",
        "403",
        "404",
        "422",
    }
    assert "/api/v1/catalogue" in paths


def change(client, headers, line, **body):
    return client.patch(
        f"/api/v1/bookings/{line.booking_id}/orders/{line.pk}",
        body,
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def six_coffees(meeting, alice, coffee, alice_pays):
    from orders import services

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        return services.order_service(booking=meeting, item=coffee, actor=alice, quantity=6)


def test_it_changes_a_quantity_through_the_api(client, alice, six_coffees, token_for):
    headers = token_for(alice)
    with time_machine.travel(at(TUESDAY, 11), tick=False):
        response = change(client, headers, six_coffees, quantity=2)

    assert response.status_code == 200, response.content
    assert (response.json()["quantity"], response.json()["amount"]) == (2, "4.70")


def test_it_names_the_late_charge_of_a_reduction_and_changes_nothing_until_accepted(
    client, alice, six_coffees, token_for
):
    headers = token_for(alice)
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        told = change(client, headers, six_coffees, quantity=4)
        assert Order.objects.get().quantity == 6
        accepted = change(client, headers, six_coffees, quantity=4, accept_late_charge=True)

    assert_clean_error(told, 403)
    assert "(2,35 EUR)" in told.json()["detail"]
    assert (accepted.status_code, accepted.json()["amount"]) == (200, "11.75")


def test_it_hides_another_persons_line_from_a_change(client, bob, six_coffees, token_for):
    response = change(client, token_for(bob), six_coffees, quantity=2)

    assert_clean_error(response, 404)
    assert Order.objects.get().quantity == 6


def test_it_refuses_a_quantity_outside_the_limits_through_the_api(client, alice, six_coffees, token_for):
    with time_machine.travel(at(TUESDAY, 11), tick=False):
        response = change(client, token_for(alice), six_coffees, quantity=51)

    assert_clean_error(response, 422)
    assert Order.objects.get().quantity == 6
