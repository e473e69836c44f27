"""The booker changes a line's quantity; after the cut-off a reduction keeps a late share charged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from bookings.errors import BookingError
from orders import services
from orders.export import export_batch
from orders.models import Order, Posting
from tests import factories
from tests.helpers import at

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY, THURSDAY = date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)


@pytest.fixture
def line(room, alice, alice_pays, coffee):
    """Six coffees (2.35 each, 50 % late share) for Wednesday 09:00, ordered on Tuesday morning."""
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        return services.order_service(booking=meeting, item=coffee, actor=alice, quantity=6)


def test_it_changes_the_quantity_freely_before_the_cut_off(line, alice):
    with time_machine.travel(at(TUESDAY, 14), tick=False):
        assert services.reduction_charge(line, quantity=2, now=at(TUESDAY, 14)) == Decimal("0.00")
        services.change_order(order=line, actor=alice, quantity=2)

    line.refresh_from_db()
    assert (line.quantity, line.late_quantity, line.amount) == (2, Decimal("0"), Decimal("4.70"))


def test_it_tells_and_keeps_the_late_share_of_a_reduction_after_the_cut_off(line, alice):
    now = at(TUESDAY, 14, 1)
    # Two taken off one minute past the cut-off: half of 2 × 2.35 stays charged.
    assert services.reduction_charge(line, quantity=4, now=now) == Decimal("2.35")
    services.change_order(order=line, actor=alice, quantity=4, confirmed=True, now=now)

    line.refresh_from_db()
    assert (line.quantity, line.late_quantity, line.amount) == (4, Decimal("1.00"), Decimal("11.75"))


def test_it_exports_the_reduced_line_with_its_late_share(line, alice, settings, tmp_path):
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    services.change_order(order=line, actor=alice, quantity=4, confirmed=True, now=at(TUESDAY, 15))
    export_batch(now=at(THURSDAY, 8))

    (posting,) = Posting.objects.all()
    assert (posting.quantity, posting.price, posting.amount) == (
        Decimal("5.000"),
        Decimal("2.35"),
        Decimal("11.75"),
    )


def test_it_charges_the_late_share_of_both_a_reduction_and_a_later_cancellation(line, alice):
    services.change_order(order=line, actor=alice, quantity=4, confirmed=True, now=at(TUESDAY, 15))
    (late,) = services.late_charges(booking=line.booking, now=at(TUESDAY, 16))

    # Cancelling the remaining four charges half of them, plus the one left of the reduction.
    assert (late.percent, late.amount) == (50, Decimal("7.05"))


def test_it_refuses_more_after_the_cut_off_in_words(line, alice):
    with pytest.raises(BookingError) as refused:
        services.change_order(order=line, actor=alice, quantity=8, now=at(TUESDAY, 14, 1))

    assert refused.value.message == "Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden."
    line.refresh_from_db()
    assert line.quantity == 6


def test_it_refuses_another_persons_line(line, bob):
    with pytest.raises(BookingError):
        services.change_order(order=line, actor=bob, quantity=2, now=at(TUESDAY, 11))

    assert Order.objects.get().quantity == 6


def test_it_refuses_a_quantity_outside_the_limits(line, alice):
    with pytest.raises(BookingError) as refused:
        services.change_order(order=line, actor=alice, quantity=51, now=at(TUESDAY, 11))

    assert refused.value.field == "quantity"
    assert Order.objects.get().version == 1


def test_it_refuses_an_unconfirmed_late_reduction_and_names_its_cost(line, alice):
    with pytest.raises(BookingError) as refused:
        services.change_order(order=line, actor=alice, quantity=4, now=at(TUESDAY, 15))

    assert refused.value.message == (
        "Der Bestellschluss ist vorbei: 50 % dessen, was Sie abziehen, werden weiter berechnet "
        "(2,35 EUR). Bitte bestätigen Sie die Änderung."
    )
    assert Order.objects.get().quantity == 6
