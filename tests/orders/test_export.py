"""The SAP export: golden files, exactly once, reversals, and two exports at once."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from openpyxl import load_workbook

from orders import services
from orders.export import export_batch
from orders.models import ExportBatch, Posting
from tests import factories
from tests.helpers import at

GOLDEN = Path(__file__).parent / "golden"
TUESDAY, WEDNESDAY, THURSDAY = date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)


@pytest.fixture
def folder(settings, tmp_path):
    settings.RFR_SAP_EXPORT_DIR = tmp_path / "export"
    settings.RFR_SAP_EXPORT_COPY_DIR = str(tmp_path / "copy")
    return tmp_path


@pytest.fixture
def coffee_ordered(room, alice, alice_pays, coffee):
    """Alice's coffee for three on Wednesday morning, ordered on Tuesday."""
    room.name = "Rhein"
    room.save()
    meeting = factories.booking(
        room, alice, at(WEDNESDAY, 9), title="Planung", attendees=["b@x.de", "c@x.de"]
    )
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        return services.order_service(booking=meeting, item=coffee, actor=alice)


def export(when):
    with time_machine.travel(when, tick=False):
        out = io.StringIO()
        call_command("export_sap", stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


def read_csv(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))


def normalised(content: str) -> str:
    """References and line texts carry database ids, which differ from run to run."""
    return re.sub(r"#\d+", "#<id>", re.sub(r"RFR\d+", "RFR<id>", content))


@pytest.mark.django_db
def test_it_exports_a_delivered_order_once_as_in_the_golden_file(folder, coffee_ordered):
    paths = export(at(THURSDAY, 6))

    assert [Path(p).name for p in paths] == ["rfr-co-000001.csv", "rfr-co-000001.xlsx"]
    # Bytes, not text: the line ends (CRLF) and the byte order mark are part of the format.
    content = Path(paths[0]).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    assert normalised(content.decode("utf-8-sig")) == (GOLDEN / "co.csv").read_bytes().decode()
    assert (folder / "copy" / "rfr-co-000001.csv").read_bytes() == Path(paths[0]).read_bytes()


@pytest.mark.django_db
def test_it_writes_the_same_lines_into_the_workbook(folder, coffee_ordered):
    paths = export(at(THURSDAY, 6))

    sheet = load_workbook(paths[1]).active
    header, *lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    (line,) = [dict(zip(header, row, strict=True)) for row in lines]
    assert (line["sender_cost_centre"], line["receiver_cost_centre"], line["activity_type"]) == (
        "4711",
        "2100",
        "KAFF",
    )
    assert (Decimal(str(line["quantity"])), Decimal(str(line["amount"])), line["posting_date"]) == (
        Decimal("3"),
        Decimal("7.05"),
        "2027-03-10",
    )


@pytest.mark.django_db
def test_it_writes_nothing_before_the_meeting_has_taken_place(folder, coffee_ordered):
    assert export(at(WEDNESDAY, 9, 30)) == []
    assert not ExportBatch.objects.exists()


@pytest.mark.django_db
def test_it_writes_nothing_the_second_time(folder, coffee_ordered):
    export(at(THURSDAY, 6))

    assert export(at(THURSDAY, 7)) == []
    assert ExportBatch.objects.count() == 1


@pytest.mark.django_db
def test_it_counts_without_writing_on_a_dry_run(folder, coffee_ordered):
    with time_machine.travel(at(THURSDAY, 6), tick=False):
        out = io.StringIO()
        call_command("export_sap", "--dry-run", stdout=out)

    assert out.getvalue().strip() == "1 lines, total 7.05 (dry run, nothing written)"
    assert not ExportBatch.objects.exists() and not Posting.objects.exists()
    assert not (folder / "export").exists()


@pytest.mark.django_db
def test_it_reverses_and_reposts_a_line_corrected_after_its_export(folder, coffee_ordered, fiona):
    export(at(THURSDAY, 6))
    fiona.is_superuser = True
    with time_machine.travel(at(THURSDAY, 8), tick=False):
        services.correct_order(order=coffee_ordered, actor=fiona, quantity=2)

    (path, _xlsx) = export(at(THURSDAY, 9))
    lines = read_csv(path)
    assert [(r["quantity"], r["amount"], r["posting_date"]) for r in lines] == [
        ("-3.000", "-7.05", "2027-03-11"),
        ("2.000", "4.70", "2027-03-11"),
    ]
    assert lines[0]["reverses"].startswith("RFR")


@pytest.mark.django_db
def test_it_charges_the_late_share_of_a_cancellation_after_the_cut_off(folder, coffee_ordered, alice):
    from bookings.services import cancel_booking

    with time_machine.travel(at(TUESDAY, 15), tick=False):
        cancel_booking(booking=coffee_ordered.booking, actor=alice)

    (path, _xlsx) = export(at(TUESDAY, 16))
    (line,) = read_csv(path)
    assert (line["quantity"], line["price"], line["amount"]) == ("1.500", "2.35", "3.53")


@pytest.mark.django_db
def test_it_charges_nothing_for_a_cancellation_before_the_cut_off(folder, coffee_ordered, alice):
    from bookings.services import cancel_booking

    with time_machine.travel(at(TUESDAY, 13), tick=False):
        cancel_booking(booking=coffee_ordered.booking, actor=alice)

    assert export(at(THURSDAY, 6)) == []


@pytest.mark.django_db(transaction=True)
def test_it_exports_each_charge_once_when_two_exports_start_together(folder, coffee_ordered):
    start = threading.Barrier(2)
    results = []

    def run():
        start.wait()
        try:
            results.append(export_batch(now=at(THURSDAY, 6)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.lines for r in results) == [0, 1]
    assert Posting.objects.count() == 1


@pytest.mark.django_db
def test_it_charges_nothing_for_a_request_that_was_rejected(folder, coffee_ordered):
    from bookings.models import Booking

    Booking.objects.filter(pk=coffee_ordered.booking_id).update(status=Booking.Status.REJECTED)

    assert export(at(THURSDAY, 6)) == []
