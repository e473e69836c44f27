"""Room prices inherit room → building → site; a booking that took place is charged once, cheapest tariff."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from orders import rooms
from orders.export import export_batch
from orders.models import RoomPrice
from tests import factories
from tests.helpers import at

pytestmark = pytest.mark.django_db
WEDNESDAY = date(2027, 3, 10)


@pytest.fixture
def prices(room, centres):
    building = room.floor.building
    RoomPrice.objects.create(
        site=building.site,
        per_hour=Decimal("20.00"),
        per_day=Decimal("150.00"),
        activity_type="RAUM",
        cost_centre=centres["kitchen"],
    )
    RoomPrice.objects.create(building=building, per_half_day=Decimal("60.00"))
    return RoomPrice.objects.create(room=room, per_hour=Decimal("25.00"))


@pytest.mark.usefixtures("prices")
@pytest.mark.parametrize(
    ("hours", "amount", "unit"), [(1, "25.00", "h"), (3, "60.00", "halfday"), (9, "150.00", "day")]
)
def test_it_charges_the_cheapest_inherited_tariff(room, hours, amount, unit):
    tariff = rooms.tariff_for(room)

    price = rooms.room_charge(tariff, at(WEDNESDAY, 8), at(WEDNESDAY, 8) + timedelta(hours=hours))
    assert (str(price.amount), price.unit) == (amount, unit)


def test_it_charges_nothing_where_no_place_sets_a_price(room):
    assert rooms.tariff_for(room) is None


@pytest.mark.usefixtures("prices", "alice_pays")
def test_it_exports_a_rooms_charge_once_after_the_booking(settings, tmp_path, room, alice):
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    factories.booking(room, alice, at(WEDNESDAY, 9), minutes=120)

    assert export_batch(now=at(WEDNESDAY, 10)).batch is None  # not yet over
    result = export_batch(now=at(WEDNESDAY, 12))
    (line,) = csv.DictReader(io.StringIO(Path(result.paths[0]).read_text(encoding="utf-8-sig")))
    assert (
        line["receiver_cost_centre"],
        line["activity_type"],
        line["quantity"],
        line["unit"],
        line["amount"],
    ) == (
        "2100",
        "RAUM",
        "2.000",
        "H",
        "50.00",
    )
    assert export_batch(now=at(WEDNESDAY, 13)).batch is None
