"""The OData adapter (pyodata) against a double that speaks OData V2 over HTTP, as SAP Gateway does."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from integrations.base import AllocationLine, IntegrationError
from integrations.sap.adapter import ODataSap, rfc_available
from integrations.sap.client import ODataSettings
from integrations.sap.sync import sync_cost_centres
from orders.models import CostCentre
from tests.integrations.sap_double import Gateway


@pytest.fixture
def gateway():
    double = Gateway().start()
    double.cost_centres = [
        {
            "ControllingArea": "1000",
            "CostCenter": "4711",
            "CostCenterName": "Kantine",
            "ValidFrom": date(2020, 1, 1),
            "ValidTo": None,
        },
        {
            "ControllingArea": "1000",
            "CostCenter": "1999",
            "CostCenterName": "Alt",
            "ValidFrom": None,
            "ValidTo": date(2020, 12, 31),
        },
        {
            "ControllingArea": "2000",
            "CostCenter": "9000",
            "CostCenterName": "Tochter",
            "ValidFrom": None,
            "ValidTo": None,
        },
    ]
    yield double
    double.stop()


@pytest.fixture
def sap(gateway):
    return ODataSap(ODataSettings(url=gateway.url, username="RFC_USER", password="secret"))


def line(receiver: str = "4711") -> AllocationLine:
    return AllocationLine(
        sender_cost_centre="4711",
        activity_type="KAFF",
        quantity=Decimal("3.000"),
        unit="PERS",
        receiver_cost_centre=receiver,
        text="Kaffee 10.03.2027 Rhein #1",
        reference="RFR1",
    )


def test_it_reads_the_cost_centres_of_a_controlling_area(sap):
    found = list(sap.cost_centres(controlling_area="1000"))

    assert [(c.code, c.name, c.valid_to) for c in found] == [
        ("4711", "Kantine", None),
        ("1999", "Alt", date(2020, 12, 31)),
    ]


@pytest.mark.django_db
def test_it_syncs_the_cost_centres_into_the_master_list(sap):
    assert sync_cost_centres(sap, controlling_area="1000") == 2
    assert CostCentre.objects.get(code="1999").valid_to == date(2020, 12, 31)


def test_it_posts_an_allocation_and_returns_the_document_number(sap, gateway):
    number = sap.post_allocation(
        controlling_area="1000",
        document_date=date(2027, 3, 11),
        posting_date=date(2027, 3, 10),
        header_text="raum]für[raum 000001",
        lines=[line()],
    )

    assert number == "4900000001"
    (document,) = gateway.documents
    assert document["HeaderText"] == "raum]für[raum 000001"
    assert (document["Items"][0]["ReceiverCostCenter"], Decimal(str(document["Items"][0]["Quantity"]))) == (
        "4711",
        Decimal("3"),
    )


def test_it_gives_up_on_a_document_sap_refuses(sap, gateway):
    with pytest.raises(IntegrationError) as refused:
        sap.post_allocation(
            controlling_area="1000",
            document_date=date(2027, 3, 11),
            posting_date=date(2027, 3, 10),
            header_text="x",
            lines=[line(receiver="0000")],
        )

    assert refused.value.permanent
    assert gateway.documents == []


def test_it_reports_an_unreachable_gateway_as_temporary():
    with pytest.raises(IntegrationError) as failed:
        list(ODataSap(ODataSettings(url="http://127.0.0.1:9/sap/")).cost_centres(controlling_area="1000"))

    assert not failed.value.permanent


def test_it_uses_rfc_only_where_the_binding_imports():
    assert rfc_available() is False


@pytest.mark.django_db
def test_it_syncs_through_the_command_with_the_settings_from_the_environment(gateway, monkeypatch, tmp_path):
    secret = tmp_path / "sap-password"
    secret.write_text("secret\n")
    monkeypatch.setenv("RFR_SAP_ODATA_URL", gateway.url)
    monkeypatch.setenv("RFR_SAP_USERNAME", "RFC_USER")
    monkeypatch.setenv("RFR_SAP_PASSWORD_FILE", str(secret))
    out = io.StringIO()

    call_command("sync_sap_cost_centres", stdout=out)

    assert out.getvalue().strip() == "2 cost centres read from SAP."


@pytest.mark.django_db
def test_it_refuses_to_sync_without_a_live_sap(monkeypatch):
    monkeypatch.delenv("RFR_SAP_ODATA_URL", raising=False)

    with pytest.raises(CommandError, match="RFR_SAP_ODATA_URL"):
        call_command("sync_sap_cost_centres")
