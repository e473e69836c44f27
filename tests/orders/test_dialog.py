"""Services in the booking dialog: priced before saving, booked with the booking in one transaction."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from bookings.models import Booking
from orders.models import Order
from tests.helpers import at, post_booking, text

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY = date(2027, 3, 9), date(2027, 3, 10)
TWO_GUESTS = {"attendees": "b@x.de, c@x.de"}


@pytest.fixture
def tuesday_morning():
    with time_machine.travel(at(TUESDAY, 10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, alice, tuesday_morning):
    client.force_login(alice)
    return client


@pytest.mark.usefixtures("coffee")
def test_it_offers_the_sites_services_in_the_dialog(signed_in, room):
    page = text(signed_in.get("/book/", {"room": room.pk}))

    assert "Services (optional)" not in page
    assert "Leistungen (optional)" in page and "Kaffee (Kantine)" in page


@pytest.mark.usefixtures("alice_pays")
def test_it_shows_line_prices_and_the_total_before_saving(signed_in, room, coffee, lunch):
    extra = {
        **TWO_GUESTS,
        "svc0-item": coffee.pk,
        "svc1-item": lunch.pk,
        "svc1-quantity": 2,
        "action": "prices",
    }
    response = post_booking(signed_in, room, WEDNESDAY, title="", **extra)

    assert response.status_code == 200
    page = text(response)
    # Coffee defaults to the attendees and the organizer: 3 × 2,35; lunch 2 × 12,90.
    assert "<td>Kaffee</td><td>3</td><td>7,05 EUR</td>" in page
    assert "<td>Mittagessen</td><td>2</td><td>25,80 EUR</td>" in page
    assert '<th scope="row" colspan="2">Summe</th><td id="service-total">32,85</td>' in page
    assert not Booking.objects.exists() and not Order.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_it_books_the_room_and_orders_the_coffee_together(signed_in, room, coffee):
    response = post_booking(
        signed_in, room, WEDNESDAY, **TWO_GUESTS, **{"svc0-item": coffee.pk, "svc0-time": "09:30"}
    )

    assert response.status_code == 302
    line = Order.objects.get()
    assert (line.booking, line.quantity, str(line.amount)) == (Booking.objects.get(), 3, "7.05")
    assert line.deliver_at == at(WEDNESDAY, 9, 30)


@pytest.mark.usefixtures("alice_pays")
def test_it_books_nothing_when_a_services_cut_off_has_passed_and_says_why_in_english(
    client, alice, room, coffee
):
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        client.force_login(alice)
        client.cookies["django_language"] = "en"
        response = post_booking(client, room, WEDNESDAY, **{"svc0-item": coffee.pk})

    assert response.status_code == 403
    assert "Coffee can be ordered for tomorrow only until today 2 p.m." in text(response)
    assert not Booking.objects.exists() and not Order.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_it_explains_the_cut_off_in_words_before_booking(client, alice, room, coffee):
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        client.force_login(alice)
        response = post_booking(client, room, WEDNESDAY, title="", action="prices")

    assert "Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden." in text(response)


@pytest.mark.usefixtures("alice_pays")
def test_it_books_nothing_with_an_unknown_cost_centre(signed_in, room, coffee):
    response = post_booking(signed_in, room, WEDNESDAY, **{"svc0-item": coffee.pk, "svc-cost_centre": "0000"})

    assert response.status_code == 422
    assert "Es gibt keine Kostenstelle 0000." in text(response)
    assert not Booking.objects.exists() and not Order.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_it_shows_a_bad_quantity_on_its_field_and_books_nothing(signed_in, room, coffee):
    response = post_booking(signed_in, room, WEDNESDAY, **{"svc0-item": coffee.pk, "svc0-quantity": "-1"})

    assert response.status_code == 422
    assert not Booking.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_it_orders_for_every_date_of_a_new_series(signed_in, room, coffee):
    extra = {"freq": "daily", "ends": "count", "count": 2, "interval": 1, "svc0-item": coffee.pk}
    response = post_booking(signed_in, room, WEDNESDAY, **extra)

    assert response.status_code == 302
    assert Order.objects.filter(booking__series__isnull=False).count() == 2


@pytest.mark.usefixtures("alice_pays")
def test_a_form_sent_twice_orders_once(signed_in, room, coffee):
    for _attempt in range(2):
        post_booking(signed_in, room, WEDNESDAY, key="same", **{"svc0-item": coffee.pk})

    assert Order.objects.count() == 1


def test_a_booking_without_services_is_unchanged(signed_in, room, coffee):
    response = post_booking(signed_in, room, WEDNESDAY)

    assert response.status_code == 302
    assert Booking.objects.count() == 1 and not Order.objects.exists()


@pytest.fixture
def early_lunch(lunch):
    """Lunch must be ordered two working days before, by 14:00."""
    lunch.cutoff_days = 2
    lunch.save()
    return lunch


SERIES_FROM_WEDNESDAY = {"freq": "daily", "ends": "count", "count": 3, "interval": 1}


def book_series_on_tuesday_afternoon(client, alice, room, coffee, lunch, language="de"):
    # At 15:00 on Tuesday: Wednesday's coffee and lunch are closed, Thursday's lunch is
    # closed (Tuesday 14:00) while its coffee is open (Wednesday 14:00), Friday is open.
    lines = {"svc0-item": coffee.pk, "svc1-item": lunch.pk, "svc1-note": "vegetarisch"}
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        client.force_login(alice)
        client.cookies["django_language"] = language
        response = post_booking(client, room, WEDNESDAY, **SERIES_FROM_WEDNESDAY, **lines)
        return response, text(client.get(response["Location"])) if response.status_code == 302 else ""


@pytest.mark.usefixtures("alice_pays")
def test_a_new_series_orders_for_the_dates_still_open_each_all_or_nothing(
    client, alice, room, coffee, early_lunch
):
    response, page = book_series_on_tuesday_afternoon(client, alice, room, coffee, early_lunch)

    assert response.status_code == 302
    assert Booking.objects.filter(series__isnull=False).count() == 3
    # Only Friday got its lines: Thursday's coffee could have been ordered, but not without its lunch.
    ordered = sorted(
        (o.booking.start.date(), o.item.name) for o in Order.objects.select_related("booking", "item")
    )
    assert ordered == [(date(2027, 3, 12), "Kaffee"), (date(2027, 3, 12), "Mittagessen")]
    assert (
        "Die Leistungen konnten für 2 Termine der Serie nicht bestellt werden (für die übrigen schon): "
        "10.03.2027: Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden. "
        "11.03.2027: Mittagessen kann für 11.03.2027 nur bis heute 14:00 Uhr bestellt werden."
    ) in page


@pytest.mark.usefixtures("alice_pays")
def test_it_names_the_skipped_dates_in_english_too(client, alice, room, coffee, early_lunch):
    _response, page = book_series_on_tuesday_afternoon(
        client, alice, room, coffee, early_lunch, language="en"
    )

    assert "The services could not be ordered for 2 dates of the series (they were for the others): " in page
    assert "Coffee can be ordered for tomorrow only until today 2 p.m." in page


@pytest.mark.usefixtures("alice_pays")
def test_a_series_whose_dates_are_all_open_says_nothing_of_skipping(signed_in, room, coffee):
    response = post_booking(signed_in, room, WEDNESDAY, **SERIES_FROM_WEDNESDAY, **{"svc0-item": coffee.pk})

    assert Order.objects.count() == 3
    assert "nicht bestellt werden" not in text(signed_in.get(response["Location"]))
