"""The month's charges per cost centre and provider: page, CSV and XLSX, for controlling only."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from orders import services
from orders.export import export_batch
from tests import factories
from tests.helpers import at, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(settings, tmp_path, room, alice, alice_pays, coffee):
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    for day, quantity in ((date(2027, 3, 10), 4), (date(2027, 3, 11), 3)):
        meeting = factories.booking(room, alice, at(day, 9))
        with time_machine.travel(at(date(2027, 3, 9), 10), tick=False):
            services.order_service(booking=meeting, item=coffee, actor=alice, quantity=quantity)
    export_batch(now=at(date(2027, 3, 12), 6))


@pytest.fixture
def controller(fiona):
    fiona.user_permissions.add(Permission.objects.get(codename="sap_export"))
    return fiona


@pytest.mark.usefixtures("exported")
def test_it_sums_the_month_per_cost_centre_and_provider(client, controller):
    client.force_login(controller)

    page = text(client.get("/services/charges/?month=2027-03"))

    assert '<td id="month-total">16,45</td>' in page
    assert "<td>2100</td><td>4711</td><td>Kantine</td><td>2</td><td>16,45</td>" in page


@pytest.mark.usefixtures("exported")
def test_it_offers_the_month_as_csv_and_xlsx(client, controller):
    client.force_login(controller)

    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/services/charges/?month=2027-03&format=csv").content.decode("utf-8-sig"))
        )
    )
    assert [(r["receiver_cost_centre"], r["lines"], r["amount"]) for r in rows] == [("2100", "2", "16.45")]
    book = load_workbook(io.BytesIO(client.get("/services/charges/?month=2027-03&format=xlsx").content))
    assert [c.value for c in book.active[2]][-1] == 16.45


def test_it_shows_the_charges_to_controlling_only(client, alice):
    client.force_login(alice)

    assert client.get("/services/charges/?month=2027-03").status_code == 403


def test_it_refuses_a_month_it_cannot_read(client, controller):
    client.force_login(controller)

    assert client.get("/services/charges/?month=März").status_code == 400
