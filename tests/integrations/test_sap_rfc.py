"""The RFC adapter: BAPI parameters, SAP's RETURN messages, and the clear error where pyrfc is missing.

Why a recording connection and not a wire double: RFC's wire protocol is SAP's own and only
SAP's NW RFC SDK (which pyrfc loads) speaks it; neither the SDK nor an RFC server can run
here, so no double of the protocol can exist. ``RfcSap`` therefore takes its connection
through its constructor, and these tests hand it ``SapSystem``: an object with pyrfc's
``call(name, **parameters) -> dict`` that keeps its own state (cost centres, posted and
committed documents) and answers as the BAPIs are documented to. No method of the code
under test is patched; what pyrfc itself does (type conversion, the network) is not tested.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from integrations.base import AllocationLine, IntegrationError
from integrations.sap.adapter import rfc_available
from integrations.sap.conf import adapter_from_env
from integrations.sap.posting import post_pending
from integrations.sap.rfc import RfcErrors, RfcSap, RfcSettings, RfcUnavailable
from integrations.sap.sync import sync_cost_centres
from orders import services
from orders.export import export_batch
from orders.models import CostCentre, ExportBatch, Posting
from tests import factories
from tests.helpers import at
from tests.orders.conftest import alice_pays, centres, coffee, kitchen  # noqa: F401  (the kitchen's scene)


class LinkDown(Exception):
    """What the connection raises for a lost link (pyrfc: CommunicationError)."""


class SignInRefused(Exception):
    """What the connection raises for a wrong password (pyrfc: LogonError)."""


def message(kind: str, text: str, number: str = "001") -> dict:
    return {"TYPE": kind, "ID": "KI", "NUMBER": number, "MESSAGE": text}


class SapSystem:
    """An SAP system as far as the four function modules go, with a log of every call."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.cost_centres = {"0000004711": "Kantine", "0000002100": "Vertrieb"}
        self.uncommitted: list[dict] = []
        self.documents: list[dict] = []  # committed
        self.next_number = 100000001
        self.down = False
        self.wrong_password = False
        self.commit_fails = False

    def call(self, name: str, /, **params) -> dict:
        self.calls.append((name, params))
        if self.wrong_password:
            raise SignInRefused("Name or password is incorrect")
        if self.down:
            raise LinkDown("partner not reached")
        return getattr(self, name.lower())(**params)

    def names(self) -> list[str]:
        return [name for name, _params in self.calls]

    def bapi_costcenter_getlist1(self, *, CONTROLLINGAREA):
        if CONTROLLINGAREA != "1000":
            return {"COSTCENTERLIST": [], "RETURN": [message("E", "Controlling area does not exist")]}
        return {
            "COSTCENTERLIST": [
                {"CO_AREA": "1000", "COSTCENTER": "0000004711", "NAME": "Kantine",
                 "VALID_FROM": date(2020, 1, 1), "VALID_TO": date(9999, 12, 31)},
                {"CO_AREA": "1000", "COSTCENTER": "VERTRIEB-N", "NAME": "Vertrieb Nord",
                 "VALID_FROM": "20200101", "VALID_TO": "20271231"},
            ],
            "RETURN": [],
        }  # fmt: skip

    def bapi_acc_activity_alloc_post(self, *, DOC_HEADER, DOC_ITEMS):
        unknown = [i["REC_CCTR"] for i in DOC_ITEMS if i["REC_CCTR"] not in self.cost_centres]
        if unknown:
            refusal = f"Cost center 1000/{unknown[0]} does not exist on {DOC_HEADER['POSTGDATE']}"
            return {"DOC_NO": "", "RETURN": [message("E", refusal)]}
        number = str(self.next_number)
        self.next_number += 1
        self.uncommitted.append({"DOC_NO": number, **DOC_HEADER, "items": DOC_ITEMS})
        return {"DOC_NO": number, "RETURN": [message("S", f"Document {number} posted", "002")]}

    def bapi_transaction_commit(self, *, WAIT):
        if self.commit_fails:
            self.uncommitted.clear()
            return {"RETURN": message("E", "Update terminated")}
        self.documents.extend(self.uncommitted)
        self.uncommitted.clear()
        return {"RETURN": {}}

    def bapi_transaction_rollback(self):
        self.uncommitted.clear()
        return {"RETURN": {}}

    def rfc_read_table(self, *, QUERY_TABLE, DELIMITER, FIELDS, OPTIONS):
        assert (QUERY_TABLE, FIELDS) == ("COBK", [{"FIELDNAME": "BELNR"}])
        where = " ".join(line["TEXT"] for line in OPTIONS)
        wanted = re.fullmatch(r"KOKRS = '(.*)' AND BLTXT = '(.*)'", where)
        assert wanted, where
        area, text = (value.replace("''", "'") for value in wanted.groups())
        rows = [d for d in self.documents if (d["CO_AREA"], d["DOC_HDR_TX"]) == (area, text)]
        return {"DATA": [{"WA": d["DOC_NO"]} for d in rows], "FIELDS": FIELDS}


@pytest.fixture
def system():
    return SapSystem()


@pytest.fixture
def sap(system):
    return RfcSap(
        RfcSettings(ashost="sap.example.com", client="100", user="rfc_user"),
        connection=system,
        errors=RfcErrors(temporary=(LinkDown,), permanent=(SignInRefused,)),
    )


def line(receiver: str = "2100", quantity: str = "3.000") -> AllocationLine:
    return AllocationLine(
        sender_cost_centre="4711",
        activity_type="KAFF",
        quantity=Decimal(quantity),
        unit="PERS",
        receiver_cost_centre=receiver,
        text="Kaffee 10.03.2027 H0.01 #42",
        reference="RFR7",
    )


def post(sap, *lines: AllocationLine) -> str:
    return sap.post_allocation(
        controlling_area="1000",
        document_date=date(2027, 3, 11),
        posting_date=date(2027, 3, 10),
        header_text="raum]für[raum 000001 2027-03-10",
        lines=list(lines) or [line()],
    )


def test_it_posts_the_header_and_lines_as_the_bapi_names_them_then_commits_and_waits(sap, system):
    number = post(sap, line(), line(quantity="-1.500"))

    assert system.names() == ["BAPI_ACC_ACTIVITY_ALLOC_POST", "BAPI_TRANSACTION_COMMIT"]
    params = system.calls[0][1]
    assert params["DOC_HEADER"] == {
        "CO_AREA": "1000",
        "DOCDATE": date(2027, 3, 11),
        "POSTGDATE": date(2027, 3, 10),
        "DOC_HDR_TX": "raum]für[raum 000001 2027-03-10",
        "USERNAME": "RFC_USER",
    }
    first, reversal = params["DOC_ITEMS"]
    # Numeric cost centres go out as SAP keeps them, with leading zeros; the quantity stays a Decimal.
    assert first == {
        "SEND_CCTR": "0000004711",
        "ACTTYPE": "KAFF",
        "ACTVTY_QTY": Decimal("3.000"),
        "ACTIVITYUN": "PERS",
        "REC_CCTR": "0000002100",
        "SEG_TEXT": "Kaffee 10.03.2027 H0.01 #42",
    }
    assert reversal["ACTVTY_QTY"] == Decimal("-1.500")
    assert system.calls[1][1] == {"WAIT": "X"}
    assert number == "100000001" and [d["DOC_NO"] for d in system.documents] == [number]


def test_it_refuses_with_saps_error_message_rolls_back_and_commits_nothing(sap, system):
    with pytest.raises(IntegrationError) as refused:
        post(sap, line(receiver="9999"))

    assert "Cost center 1000/0000009999 does not exist" in str(refused.value)
    assert refused.value.permanent
    assert system.names() == ["BAPI_ACC_ACTIVITY_ALLOC_POST", "BAPI_TRANSACTION_ROLLBACK"]
    assert system.documents == []


def test_an_abort_message_refuses_as_well_and_warnings_do_not(sap, system):
    system.bapi_acc_activity_alloc_post = lambda **_: {
        "DOC_NO": "",
        "RETURN": [message("W", "Period 003 is nearly closed"), message("A", "Posting period closed")],
    }
    with pytest.raises(IntegrationError, match="Posting period closed"):
        post(sap)

    system.bapi_acc_activity_alloc_post = lambda **_: {
        "DOC_NO": "100000009",
        "RETURN": [message("W", "Period 003 is nearly closed")],
    }
    assert post(sap) == "100000009"


def test_a_failed_commit_is_a_temporary_error(sap, system):
    system.commit_fails = True

    with pytest.raises(IntegrationError) as failed:
        post(sap)

    assert "Update terminated" in str(failed.value) and not failed.value.permanent
    assert system.documents == []


def test_a_lost_link_is_temporary_and_a_refused_sign_in_permanent(sap, system):
    system.down = True
    with pytest.raises(IntegrationError) as lost:
        post(sap)
    system.down, system.wrong_password = False, True
    with pytest.raises(IntegrationError) as refused:
        list(sap.cost_centres(controlling_area="1000"))

    assert (lost.value.permanent, refused.value.permanent) == (False, True)
    assert "partner not reached" in str(lost.value)


def test_it_reads_cost_centres_without_leading_zeros_and_open_ends_as_none(sap):
    records = list(sap.cost_centres(controlling_area="1000"))

    assert [(r.code, r.name, r.valid_from, r.valid_to) for r in records] == [
        ("4711", "Kantine", date(2020, 1, 1), None),
        ("VERTRIEB-N", "Vertrieb Nord", date(2020, 1, 1), date(2027, 12, 31)),
    ]


def test_an_error_in_the_cost_centre_list_is_named(sap):
    with pytest.raises(IntegrationError, match="Controlling area does not exist"):
        list(sap.cost_centres(controlling_area="9999"))


@pytest.mark.django_db
def test_the_sync_writes_them_into_the_master_list(sap):
    assert sync_cost_centres(sap, controlling_area="1000") == 2

    assert CostCentre.objects.get(code="VERTRIEB-N").valid_to == date(2027, 12, 31)


def test_it_finds_a_committed_document_by_its_header_text_and_nothing_else(sap, system):
    number = post(sap)

    assert (
        sap.find_allocation(controlling_area="1000", header_text="raum]für[raum 000001 2027-03-10") == number
    )
    assert sap.find_allocation(controlling_area="1000", header_text="raum]für[raum 000002 2027-03-10") is None
    assert sap.find_allocation(controlling_area="2000", header_text="raum]für[raum 000001 2027-03-10") is None


def test_a_quote_in_the_header_text_cannot_end_the_condition(sap, system):
    sap.find_allocation(controlling_area="1000", header_text="it's")

    options = system.calls[-1][1]["OPTIONS"]
    assert options[1] == {"TEXT": "AND BLTXT = 'it''s'"}
    assert all(len(o["TEXT"]) <= 72 for o in options)


# --- through the export and the posting run -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("alice_pays")
def test_an_export_batch_is_posted_once_through_rfc(settings, tmp_path, sap, system, room, alice, coffee):  # noqa: F811
    settings.RFR_SAP_TARGET = "rfc"
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    meeting = factories.booking(room, alice, at(date(2027, 3, 10), 9))
    with time_machine.travel(at(date(2027, 3, 9), 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice, quantity=3)
    export_batch(now=at(date(2027, 3, 11), 8))

    (batch,) = post_pending(sap)
    again = post_pending(sap)

    assert (batch.live, again) == (ExportBatch.Live.POSTED, [])
    (document,) = system.documents
    assert [(i["SEND_CCTR"], i["REC_CCTR"], i["ACTVTY_QTY"]) for i in document["items"]] == [
        ("0000004711", "0000002100", Decimal("3.000"))
    ]
    assert Posting.objects.get().sap_document == document["DOC_NO"]


# --- RFC chosen where pyrfc does not import -------------------------------------------------

no_pyrfc = pytest.mark.skipif(rfc_available(), reason="pyrfc is installed here: it would connect")


@no_pyrfc
def test_choosing_rfc_without_pyrfc_names_what_is_missing():
    with pytest.raises(RfcUnavailable) as missing:
        adapter_from_env({"RFR_SAP_TARGET": "rfc", "RFR_SAP_RFC_ASHOST": "sap.example.com"})

    assert "RFR_SAP_TARGET=rfc needs the pyrfc binding and SAP's NW RFC SDK" in str(missing.value)
    assert "raumfuerraum[rfc]" in str(missing.value)
    assert missing.value.permanent


@no_pyrfc
@pytest.mark.django_db
def test_the_commands_say_so_too(monkeypatch):
    monkeypatch.setenv("RFR_SAP_TARGET", "rfc")
    monkeypatch.setenv("RFR_SAP_RFC_DEST", "PRD")

    for command in ("post_sap", "sync_sap_cost_centres"):
        with pytest.raises(CommandError, match="needs the pyrfc binding"):
            call_command(command, stdout=io.StringIO())
