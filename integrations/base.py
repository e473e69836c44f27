"""What every integration (directory, calendar, SAP) shares: one error type, small Protocols.

Clients raise IntegrationError; ``permanent=True`` means retrying cannot help (bad
credentials, a rejected payload), so the outbox gives up and records why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from bookings.outbox import DeliveryError


class IntegrationError(DeliveryError):
    """A remote system failed; ``permanent`` tells the outbox whether to retry."""


@dataclass(frozen=True)
class Person:
    """Someone in the company directory, as the app needs them; never a raw entry."""

    external_id: str  # stable across renames: objectGUID, entryUUID
    username: str  # the login name, lower case
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    department: str = ""
    phone: str = ""
    roles: frozenset[str] = frozenset()  # conf.ROLES granted by directory groups
    mark: str = ""  # where this entry's last change lies (opaque to callers)


class Directory(Protocol):
    """A company directory that people sign in with and that the sync mirrors."""

    def people(self, *, since: str = "") -> Iterator[Person]:
        """Everyone who may sign in, or only those changed after ``since``; raises IntegrationError."""
        ...

    def roster(self) -> dict[str, frozenset[str]]:
        """External id -> roles of everyone who may sign in now; raises IntegrationError."""
        ...

    def later_mark(self, a: str, b: str) -> str:
        """The later of two marks (either may be empty); raises nothing."""
        ...

    def can_resume(self, mark: str) -> bool:
        """Whether a sync may continue from ``mark`` on this server; raises IntegrationError."""
        ...


@dataclass(frozen=True)
class CostCentreRecord:
    """A cost centre as SAP lists it; never a raw OData entity or RFC structure."""

    code: str
    name: str = ""
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class AllocationLine:
    """One line of a CO activity allocation (BAPI_ACC_ACTIVITY_ALLOC_POST's DOC_ITEMS)."""

    sender_cost_centre: str
    activity_type: str
    quantity: Decimal
    unit: str
    receiver_cost_centre: str
    text: str
    reference: str  # the posting's RFR reference, so SAP's document can be traced back


class Sap(Protocol):
    """A live SAP system: cost centres in, activity allocations out."""

    def cost_centres(self, *, controlling_area: str) -> Iterator[CostCentreRecord]:
        """The cost centres of a controlling area; raises IntegrationError."""
        ...

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
        ...
