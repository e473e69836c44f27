"""Cost centres from CSV, and SAP document numbers read back."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from django.core.management import CommandError, call_command

from orders import services
from orders.export import export_batch
from orders.models import CostCentre, Posting
from tests import factories
from tests.helpers import at

pytestmark = pytest.mark.django_db


def test_it_imports_cost_centres_from_a_german_excel_csv(tmp_path):
    file = tmp_path / "ks.csv"
    file.write_text("\ufeffcode;name;valid_from;valid_to\n2100;Vertrieb;;\n1999;Alt;01.01.2019;31.12.2020\n")
    out = io.StringIO()

    call_command("import_cost_centres", str(file), stdout=out)

    assert out.getvalue().strip() == "2 cost centres created, 0 updated."
    assert CostCentre.objects.get(code="1999").valid_to == date(2020, 12, 31)


def test_it_imports_nothing_from_a_file_with_a_bad_line(tmp_path):
    file = tmp_path / "ks.csv"
    file.write_text("code,name,valid_from,valid_to\n2100,Vertrieb,,\n3100,Entwicklung,gestern,\n")

    with pytest.raises(CommandError, match="line 3"):
        call_command("import_cost_centres", str(file))
    assert not CostCentre.objects.exists()


def test_it_stores_the_sap_document_numbers_of_a_return_file(
    tmp_path, settings, room, alice, alice_pays, coffee
):
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    meeting = factories.booking(room, alice, at(date(2027, 3, 10), 9))
    with time_machine.travel(at(date(2027, 3, 9), 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice)
    export_batch(now=at(date(2027, 3, 11), 6))
    posting = Posting.objects.get()
    file = tmp_path / "return.csv"
    file.write_text(f"reference,sap_document\nRFR{posting.pk},4900012345\nRFR999999999,1\n")

    call_command("import_sap_return", str(file), stdout=io.StringIO())

    posting.refresh_from_db()
    assert posting.sap_document == "4900012345"
