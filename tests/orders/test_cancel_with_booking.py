"""Cancelling a booking cancels its orders in the same transaction; an order never outlives its booking."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import time_machine
from django.db import connection

from bookings.errors import BookingError
from bookings.models import Booking
from bookings.services import cancel_booking
from orders import services
from orders.models import Order
from tests import factories
from tests.helpers import at, make_series, text

TUESDAY, WEDNESDAY = date(2027, 3, 9), date(2027, 3, 10)


@pytest.fixture
def meeting(room, alice):
    return factories.booking(room, alice, at(WEDNESDAY, 9))


@pytest.mark.django_db
def test_it_cancels_the_orders_with_the_booking(meeting, coffee, alice, alice_pays):
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice)
        cancel_booking(booking=meeting, actor=alice)

    line.refresh_from_db()
    assert (line.status, line.charged_percent) == (Order.Status.CANCELLED, 0)


@pytest.mark.django_db
def test_it_tells_what_a_cancellation_after_the_cut_off_still_costs(meeting, coffee, alice, alice_pays):
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice, quantity=4)
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        (late,) = services.late_charges(booking=meeting)

    assert (late.percent, str(late.amount)) == (50, "4.70")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_it_never_leaves_an_order_on_a_booking_cancelled_at_the_same_moment(
    room, alice, coffee, alice_pays, attempt
):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    start = threading.Barrier(2)

    def order():
        start.wait()
        try:
            services.order_service(booking=meeting, item=coffee, actor=alice, now=at(TUESDAY, 10))
        except BookingError:
            pass
        finally:
            connection.close()

    def cancel():
        start.wait()
        try:
            cancel_booking(booking=meeting, actor=alice, now=at(TUESDAY, 10))
        finally:
            connection.close()

    threads = [threading.Thread(target=order), threading.Thread(target=cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert Booking.objects.get(pk=meeting.pk).status == Booking.Status.CANCELLED
    assert not Order.objects.filter(booking=meeting).exclude(status=Order.Status.CANCELLED).exists()


@pytest.mark.django_db
def test_it_moves_the_orders_with_the_booking_on_the_same_day(meeting, coffee, alice, alice_pays):
    from bookings.services import update_booking

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice)
        update_booking(booking=meeting, actor=alice, start=at(WEDNESDAY, 11), end=at(WEDNESDAY, 12))

    line.refresh_from_db()
    assert line.deliver_at == at(WEDNESDAY, 11)


@pytest.mark.django_db
def test_it_refuses_a_move_to_another_day_its_orders_cannot_follow(meeting, coffee, alice, alice_pays):
    from bookings.services import update_booking

    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice)
        with pytest.raises(BookingError, match="Kaffee kann nicht mit der Buchung verschoben werden"):
            update_booking(
                booking=meeting, actor=alice, start=at(date(2027, 3, 11), 9), end=at(date(2027, 3, 11), 10)
            )

    meeting.refresh_from_db()
    line.refresh_from_db()
    assert (meeting.span.lower, line.deliver_at) == (at(WEDNESDAY, 9), at(WEDNESDAY, 9))


@pytest.mark.django_db
def test_the_cancel_page_tells_what_is_still_charged_before_confirming(
    client, meeting, coffee, alice, alice_pays
):
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice, quantity=4)
        client.force_login(alice)
        before = text(client.get(f"/bookings/{meeting.pk}/cancel/"))
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        after = text(client.get(f"/bookings/{meeting.pk}/cancel/"))

    assert "Bestellschluss" not in before
    assert (
        "Kaffee am 10.03.2027: Der Bestellschluss ist vorbei, eine Stornierung kostet noch 50 % (4,70 EUR)."
    ) in after
    assert Booking.objects.get().status == Booking.Status.CONFIRMED  # only asked


@pytest.mark.django_db
def test_the_series_cancel_page_names_each_dates_late_charge(client, room, coffee, alice, alice_pays):
    result = make_series(room, alice, at(WEDNESDAY, 9), "FREQ=DAILY;COUNT=2")
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        for booking in result.created:
            services.order_service(booking=booking, item=coffee, actor=alice, quantity=2)
    with time_machine.travel(at(TUESDAY, 15), tick=False):
        client.force_login(alice)
        client.cookies["django_language"] = "en"
        page = text(client.get(f"/series/{result.series.pk}/cancel/"))

    # Only Wednesday's cut-off (Tuesday 14:00) has passed; Thursday's coffee goes free.
    assert (
        "Coffee on 03/10/2027: the cut-off has passed, so cancelling still charges 50 % (2.35 EUR)." in page
    )
    assert page.count("the cut-off has passed") == 1
