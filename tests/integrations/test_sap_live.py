"""Live posting: export batches' CO lines posted through the OData adapter to a Gateway double, once each."""

from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from integrations.sap.adapter import ODataSap
from integrations.sap.client import ODataSettings
from integrations.sap.posting import post_pending
from orders import services
from orders.export import export_batch
from orders.models import ExportBatch, Posting
from tests import factories
from tests.helpers import at
from tests.integrations.sap_double import Gateway
from tests.orders.conftest import alice_pays, centres, coffee, kitchen  # noqa: F401  (the kitchen's scene)

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY, THURSDAY = date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)


@pytest.fixture
def gateway():
    double = Gateway().start()
    double.cost_centres = [
        {
            "ControllingArea": "1000",
            "CostCenter": code,
            "CostCenterName": "",
            "ValidFrom": None,
            "ValidTo": None,
        }
        for code in ("4711", "2100")
    ]
    yield double
    double.stop()


@pytest.fixture
def sap(gateway):
    return ODataSap(ODataSettings(url=gateway.url, username="RFC_USER", password="secret"))


@pytest.fixture
def live(settings, tmp_path):
    settings.RFR_SAP_TARGET = "odata"
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    return tmp_path


@pytest.fixture
def line(room, alice, alice_pays, coffee):  # noqa: F811
    """Three coffees for Wednesday's meeting, ordered on Tuesday."""
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        return services.order_service(booking=meeting, item=coffee, actor=alice, quantity=3)


def items(document) -> list[tuple[str, str, Decimal]]:
    return [
        (i["SenderCostCenter"], i["ReceiverCostCenter"], Decimal(str(i["Quantity"])))
        for i in document["Items"]
    ]


@pytest.mark.usefixtures("live")
def test_it_posts_the_batch_to_sap_instead_of_a_co_file(line, sap, gateway, live):
    result = export_batch(now=at(THURSDAY, 8))
    assert result.paths == [] and not list(live.iterdir())
    assert result.batch.live == ExportBatch.Live.PENDING

    (batch,) = post_pending(sap)

    assert batch.live == ExportBatch.Live.POSTED
    (document,) = gateway.documents
    assert document["HeaderText"] == f"raum]für[raum {batch.number:06d} 2027-03-10"
    assert items(document) == [("4711", "2100", Decimal("3"))]
    assert Posting.objects.get().sap_document == document["DocumentNumber"]


@pytest.mark.usefixtures("live")
def test_a_second_run_posts_nothing_again(line, sap, gateway):
    export_batch(now=at(THURSDAY, 8))
    post_pending(sap)

    assert post_pending(sap) == []
    assert export_batch(now=at(THURSDAY, 9)).batch is None
    assert len(gateway.documents) == 1


@pytest.mark.usefixtures("live")
def test_it_posts_a_correction_as_a_reversal_and_a_new_line(line, sap, gateway, cook):
    export_batch(now=at(THURSDAY, 8))
    post_pending(sap)
    services.correct_order(order=line, actor=cook, quantity=2, now=at(THURSDAY, 9))
    export_batch(now=at(THURSDAY, 10))
    post_pending(sap)

    _first, second = gateway.documents
    # The correction is posted on the day of the export (the delivery's period may be closed).
    assert second["HeaderText"].endswith(" 2027-03-11")
    assert items(second) == [("4711", "2100", Decimal("-3")), ("4711", "2100", Decimal("2"))]


@pytest.mark.usefixtures("live")
def test_it_takes_the_number_of_a_document_whose_answer_was_lost_instead_of_posting_twice(line, sap, gateway):
    export_batch(now=at(THURSDAY, 8))
    gateway.lose_next_answer = True

    (failed,) = post_pending(sap)
    assert (failed.live, "500" in failed.live_error) == (ExportBatch.Live.PENDING, True)
    (again,) = post_pending(sap)

    assert again.live == ExportBatch.Live.POSTED
    (document,) = gateway.documents
    assert Posting.objects.get().sap_document == document["DocumentNumber"]


@pytest.mark.usefixtures("live")
def test_it_marks_a_batch_sap_refuses_and_keeps_its_answer(line, sap, gateway):
    gateway.cost_centres = gateway.cost_centres[:1]  # SAP does not know 2100
    export_batch(now=at(THURSDAY, 8))

    (batch,) = post_pending(sap)

    assert batch.live == ExportBatch.Live.REFUSED
    assert "Cost center 2100 does not exist" in batch.live_error
    assert gateway.documents == [] and post_pending(sap) == []


@pytest.mark.usefixtures("live")
def test_the_command_posts_with_the_settings_from_the_environment(line, gateway, monkeypatch):
    monkeypatch.setenv("RFR_SAP_ODATA_URL", gateway.url)
    export_batch(now=at(THURSDAY, 8))
    out = io.StringIO()

    call_command("post_sap", stdout=out)

    assert out.getvalue().strip() == "Batch 1: posted"
    assert len(gateway.documents) == 1


def test_the_command_refuses_without_a_live_sap(monkeypatch):
    monkeypatch.delenv("RFR_SAP_ODATA_URL", raising=False)

    with pytest.raises(CommandError, match="RFR_SAP_ODATA_URL"):
        call_command("post_sap")


@pytest.fixture
def cook(db, kitchen):  # noqa: F811
    from django.contrib.auth.models import Group

    user = factories.user("koch")
    group = Group.objects.create(name="Kantine")
    user.groups.add(group)
    kitchen.group = group
    kitchen.save()
    return user


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live")
def test_two_workers_at_once_post_each_batch_once(line, sap, gateway):
    export_batch(now=at(THURSDAY, 8))
    start = threading.Barrier(2)
    handled = []

    def run():
        try:
            worker = ODataSap(sap.config)  # a worker has its own Gateway session
            start.wait()
            handled.extend(post_pending(worker))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(gateway.documents) == 1
    assert [b.live for b in handled] == [ExportBatch.Live.POSTED]
