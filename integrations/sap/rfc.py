"""SAP behind the Sap Protocol over RFC (pyrfc); raw BAPI structures stay here.

For customers who have SAP's NW RFC SDK: ``pyrfc`` (archived by SAP, built against the
SDK) is an optional extra (``pip install 'raumfuerraum[rfc]'``) and is imported only in
``open_connection``, so nothing else needs it. The adapter itself talks to anything
with pyrfc's ``Connection.call(name, **parameters) -> dict``:

- postings: ``BAPI_ACC_ACTIVITY_ALLOC_POST`` (DOC_HEADER, DOC_ITEMS, answered with
  DOC_NO and the RETURN table), then ``BAPI_TRANSACTION_COMMIT`` with WAIT = 'X' on the
  same connection, as a BAPI does not commit itself (``BAPI_TRANSACTION_ROLLBACK``
  after a refusal);
- cost centres: ``BAPI_COSTCENTER_GETLIST1`` (COSTCENTERLIST);
- an earlier document with the same header text: ``RFC_READ_TABLE`` on COBK (the CO
  document header, whose BLTXT holds DOC_HDR_TX).

SAP keeps numeric cost centres with leading zeros (0000004711); the master list and the
export write them without (4711), so codes are padded going out and stripped coming in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from ..base import AllocationLine, CostCentreRecord, IntegrationError

# BAPIRET2-TYPE: E (error) and A (abort) refuse; S, I and W do not.
REFUSING = ("E", "A")
COST_CENTRE_LENGTH = 10  # KOSTL
HEADER_TEXT_LENGTH = 50  # DOC_HDR_TX, COBK-BLTXT
LINE_TEXT_LENGTH = 50  # SEG_TEXT


class RfcUnavailable(IntegrationError):
    """RFC was chosen but pyrfc (or the NW RFC SDK it loads) does not import here (permanent)."""

    def __init__(self, reason: str):
        super().__init__(
            "RFR_SAP_TARGET=rfc needs the pyrfc binding and SAP's NW RFC SDK "
            "(pip install 'raumfuerraum[rfc]' where the SDK is installed); "
            f"it does not import here: {reason}",
            permanent=True,
        )


class Connection(Protocol):
    """What the adapter needs of pyrfc.Connection."""

    def call(self, func_name: str, /, **params: Any) -> dict: ...


@dataclass(frozen=True)
class RfcSettings:
    """Where and as whom: a destination of sapnwrfc.ini, or an application server."""

    dest: str = ""
    ashost: str = ""
    sysnr: str = "00"
    client: str = ""
    user: str = ""
    passwd: str = field(default="", repr=False)
    lang: str = "DE"

    def parameters(self) -> dict[str, str]:
        if self.dest:
            values = {"dest": self.dest}
        else:
            values = {"ashost": self.ashost, "sysnr": self.sysnr, "client": self.client}
        values.update({"user": self.user, "passwd": self.passwd, "lang": self.lang})
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class RfcErrors:
    """The exception classes of the connection: which a retry may cure, and which it cannot."""

    temporary: tuple[type[BaseException], ...] = ()
    permanent: tuple[type[BaseException], ...] = ()


def open_connection(config: RfcSettings) -> tuple[Connection, RfcErrors]:
    """A pyrfc connection and its error classes; raises RfcUnavailable or IntegrationError."""
    try:
        import pyrfc
    except ImportError as exc:  # also the SDK's shared library missing, which pyrfc reports so
        raise RfcUnavailable(str(exc)) from exc
    # A wrong password is permanent: retrying it would lock the RFC user out.
    errors = RfcErrors(temporary=(pyrfc.RFCError,), permanent=(pyrfc.LogonError,))
    try:
        return pyrfc.Connection(**config.parameters()), errors
    except errors.permanent as exc:
        raise IntegrationError(f"SAP refused the RFC sign-in: {exc}", permanent=True) from exc
    except errors.temporary as exc:
        raise IntegrationError(f"SAP RFC connection: {exc}") from exc


def internal_code(code: str) -> str:
    """A cost centre as SAP stores it: numeric codes with leading zeros (ALPHA conversion)."""
    code = code.strip()
    return code.zfill(COST_CENTRE_LENGTH) if code.isdigit() else code


def external_code(code: str) -> str:
    """A cost centre as the master list writes it: numeric codes without leading zeros."""
    code = (code or "").strip()
    return code.lstrip("0") or "0" if code.isdigit() else code


def _day(value) -> date | None:
    """A DATS value (pyrfc gives a date or 'YYYYMMDD'), or None for empty or an open end (9999)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        if not re.fullmatch(r"\d{8}", value) or value == "00000000":
            return None
        value = date(int(value[:4]), int(value[4:6]), int(value[6:]))
    if not isinstance(value, date) or value.year >= 9999:
        return None
    return value


def refusals(answer: dict, parameter: str = "RETURN") -> list[str]:
    """SAP's refusing messages (type E or A) in a BAPI's RETURN, a table or a single structure."""
    messages = answer.get(parameter) or []
    if isinstance(messages, dict):
        messages = [messages]
    return [
        f"{m.get('MESSAGE', '').strip()} ({m.get('ID', '').strip()} {m.get('NUMBER', '')})".strip()
        for m in messages
        if m.get("TYPE") in REFUSING
    ]


def _literal(value: str) -> str:
    # An ABAP Open SQL literal doubles its quotes.
    return "'" + value.replace("'", "''") + "'"


class RfcSap:
    """The Sap Protocol through BAPIs over RFC."""

    def __init__(
        self,
        config: RfcSettings | None = None,
        *,
        connection: Connection | None = None,
        errors: RfcErrors | None = None,
    ):
        self.config = config or RfcSettings()
        self._connection = connection
        self._errors = errors or RfcErrors()

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection, self._errors = open_connection(self.config)
        return self._connection

    def _call(self, name: str, **params) -> dict:
        connection = self.connection
        try:
            return connection.call(name, **params)
        except self._errors.permanent as exc:
            raise IntegrationError(f"SAP {name}: {exc}", permanent=True) from exc
        except self._errors.temporary as exc:
            raise IntegrationError(f"SAP {name}: {exc}") from exc

    def cost_centres(self, *, controlling_area: str) -> Iterator[CostCentreRecord]:
        """The cost centres of a controlling area (BAPI_COSTCENTER_GETLIST1); raises IntegrationError."""
        answer = self._call("BAPI_COSTCENTER_GETLIST1", CONTROLLINGAREA=controlling_area)
        refused = refusals(answer)
        if refused:
            raise IntegrationError("SAP cost centres: " + "; ".join(refused), permanent=True)
        for row in answer.get("COSTCENTERLIST") or []:
            yield CostCentreRecord(
                code=external_code(row.get("COSTCENTER", "")),
                name=(row.get("NAME") or "").strip(),
                valid_from=_day(row.get("VALID_FROM")),
                valid_to=_day(row.get("VALID_TO")),
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
        """Post and commit one CO document; returns SAP's DOC_NO. Raises IntegrationError."""
        header = {
            "CO_AREA": controlling_area,
            "DOCDATE": document_date,
            "POSTGDATE": posting_date,
            "DOC_HDR_TX": header_text[:HEADER_TEXT_LENGTH],
            "USERNAME": self.config.user.upper(),
        }
        items = [
            {
                "SEND_CCTR": internal_code(line.sender_cost_centre),
                "ACTTYPE": line.activity_type,
                # A BCD field: pyrfc takes the Decimal as it is (a float would lose places).
                "ACTVTY_QTY": line.quantity,
                "ACTIVITYUN": line.unit,
                "REC_CCTR": internal_code(line.receiver_cost_centre),
                "SEG_TEXT": line.text[:LINE_TEXT_LENGTH],
            }
            for line in lines
        ]
        answer = self._call("BAPI_ACC_ACTIVITY_ALLOC_POST", DOC_HEADER=header, DOC_ITEMS=items)
        refused = refusals(answer)
        if refused:
            # Nothing was posted; the rollback ends the logical unit of work on this connection.
            self._call("BAPI_TRANSACTION_ROLLBACK")
            # Like OData's 4xx: an unknown cost centre or a closed period is refused again on a retry.
            raise IntegrationError("SAP refused the allocation: " + "; ".join(refused), permanent=True)
        number = (answer.get("DOC_NO") or "").strip()
        if not number:
            self._call("BAPI_TRANSACTION_ROLLBACK")
            raise IntegrationError("SAP answered the allocation without a document number")
        committed = self._call("BAPI_TRANSACTION_COMMIT", WAIT="X")
        failed = refusals(committed)
        if failed:
            raise IntegrationError("SAP could not commit the allocation: " + "; ".join(failed))
        return number

    def find_allocation(self, *, controlling_area: str, header_text: str) -> str | None:
        """The number of a CO document with this header text (COBK), or None; raises IntegrationError."""
        answer = self._call(
            "RFC_READ_TABLE",
            QUERY_TABLE="COBK",
            DELIMITER="|",
            FIELDS=[{"FIELDNAME": "BELNR"}],
            # One condition per line: an OPTIONS line holds 72 characters.
            OPTIONS=[
                {"TEXT": f"KOKRS = {_literal(controlling_area)}"},
                {"TEXT": f"AND BLTXT = {_literal(header_text[:HEADER_TEXT_LENGTH])}"},
            ],
        )
        for row in answer.get("DATA") or []:
            number = (row.get("WA") or "").split("|")[0].strip()
            if number:
                return number
        return None
