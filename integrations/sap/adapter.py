"""SAP behind the Sap Protocol over OData; raw entities stay here.

The Gateway service (the customer's, e.g. ZRFR_CO_SRV) offers two entity sets:
``CostCenters`` (ControllingArea, CostCenter, CostCenterName, ValidFrom, ValidTo) and
``ActivityAllocations`` (a deep insert of the header with ``Items``, answered with the
``DocumentNumber``), a thin wrapper around BAPI_ACC_ACTIVITY_ALLOC_POST.
docs/sap-export.md names every property.

RFC (pyrfc, which needs SAP's NW RFC SDK) is the other adapter, in rfc.py; ``rfc_available``
says whether the binding is installed at all.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyodata
import requests
from pyodata.exceptions import PyODataException

from ..base import AllocationLine, CostCentreRecord, IntegrationError
from .client import ODataSettings, connect


def rfc_available() -> bool:
    """Whether the optional RFC binding is installed (it needs the SDK, so usually not)."""
    return importlib.util.find_spec("pyrfc") is not None


def _day(value) -> date | None:
    """A date, or None for an open end (pyodata reads a null Edm.DateTime as 1753-01-01; SAP writes 9999)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    return None if day.year <= 1753 or day.year >= 9999 else day


def _answer(exc: Exception) -> str:
    """SAP's own message (Gateway's error.message.value) where the answer carries one."""
    response = getattr(exc, "response", None)
    try:
        message = response.json()["error"]["message"]["value"]
    except (AttributeError, ValueError, KeyError, TypeError):
        return str(exc)
    return f"{message} ({response.status_code})"


def _midnight(day: date) -> datetime:
    # Edm.DateTime carries a date as midnight UTC.
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class ODataSap:
    """The Sap Protocol over an SAP Gateway OData service."""

    def __init__(self, config: ODataSettings, client: pyodata.Client | None = None):
        self.config = config
        self._client = client

    @property
    def client(self) -> pyodata.Client:
        if self._client is None:
            self._client = connect(self.config)
        return self._client

    def cost_centres(self, *, controlling_area: str) -> Iterator[CostCentreRecord]:
        """The cost centres of a controlling area; raises IntegrationError."""
        try:
            query = self.client.entity_sets.CostCenters.get_entities().filter(
                f"ControllingArea eq '{controlling_area}'"
            )
            entities = query.execute()
        except (requests.RequestException, PyODataException) as exc:
            raise IntegrationError(f"SAP cost centres: {exc}") from exc
        for entity in entities:
            yield CostCentreRecord(
                code=entity.CostCenter,
                name=entity.CostCenterName or "",
                valid_from=_day(entity.ValidFrom),
                valid_to=_day(entity.ValidTo),
            )

    def post_allocation(
        self,
        *,
        controlling_area: str,
        document_date: date,
        posting_date: date,
        header_text: str,
        lines: list[AllocationLine],
    ) -> str:
        """Post one CO document and return SAP's document number; raises IntegrationError."""
        items = [
            {
                "SenderCostCenter": line.sender_cost_centre,
                "ActivityType": line.activity_type,
                # OData V2 JSON writes Edm.Decimal as a string (a float would lose places).
                "Quantity": f"{line.quantity:.3f}",
                "Unit": line.unit,
                "ReceiverCostCenter": line.receiver_cost_centre,
                "Text": line.text,
                "Reference": line.reference,
            }
            for line in lines
        ]
        try:
            created = (
                self.client.entity_sets.ActivityAllocations.create_entity()
                .set(
                    ControllingArea=controlling_area,
                    DocumentDate=_midnight(document_date),
                    PostingDate=_midnight(posting_date),
                    HeaderText=header_text,
                    Items=items,
                )
                .execute()
            )
        except (requests.RequestException, PyODataException) as exc:
            # A refused document (a closed period, an unknown cost centre) will not pass on a retry.
            status = getattr(getattr(exc, "response", None), "status_code", 0) or 0
            raise IntegrationError(
                f"SAP refused the allocation: {_answer(exc)}", permanent=400 <= status < 500
            ) from exc
        return created.DocumentNumber

    def find_allocation(self, *, controlling_area: str, header_text: str) -> str | None:
        """The number of a CO document posted with this header text, or None; raises IntegrationError."""
        quoted = header_text.replace("'", "''")  # OData string literals double their quotes
        try:
            entities = (
                self.client.entity_sets.ActivityAllocations.get_entities()
                .filter(f"ControllingArea eq '{controlling_area}' and HeaderText eq '{quoted}'")
                .execute()
            )
        except (requests.RequestException, PyODataException) as exc:
            raise IntegrationError(f"SAP allocations: {exc}") from exc
        for entity in entities:
            return entity.DocumentNumber
        return None
