"""The demo's services: seed_demo twice changes nothing, and its first export has lines."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from orders.models import Order, Provider

pytestmark = pytest.mark.django_db


def test_it_seeds_providers_and_orders_once_and_the_first_export_has_lines(settings, tmp_path):
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Provider.objects.count(), Order.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Provider.objects.count(), Order.objects.count()) == counts

    out = io.StringIO()
    call_command("export_sap", stdout=out, stderr=io.StringIO())

    csv_path = Path(out.getvalue().splitlines()[0])
    lines = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    charged = {(line["activity_type"], line["amount"]) for line in lines}
    assert {("KAFF", "10.00"), ("LUNCH", "51.60")} <= charged
    assert any(line["activity_type"] == "RAUM" for line in lines)  # rooms of the first site have prices
