"""What every integration (directory, calendar, SAP) shares: one error type, small Protocols.

Clients raise IntegrationError; ``permanent=True`` means retrying cannot help (bad
credentials, a rejected payload), so the outbox gives up and records why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True)
class MailGroup:
    """A directory group with a mail address (a distribution list) and how many people it reaches."""

    external_id: str
    email: str  # lower case: how bookings' attendee addresses are matched
    name: str = ""
    members: int = 0  # people in it, nested groups resolved, each once


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

    def mail_groups(self) -> Iterator[MailGroup]:
        """Every group with a mail address and its member count; raises IntegrationError."""
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

    def find_allocation(self, *, controlling_area: str, header_text: str) -> str | None:
        """The number of a CO document posted with this header text, or None; raises IntegrationError."""
        ...


@dataclass(frozen=True)
class Meeting:
    """An event in a room's Exchange calendar, as the sync needs it; never a raw item."""

    remote_id: str
    change_key: str = ""
    subject: str = ""
    start: datetime | None = None
    end: datetime | None = None
    organizer_email: str = ""
    organizer_name: str = ""
    cancelled: bool = False  # the organizer cancelled it
    removed: bool = False  # gone from the calendar (deleted, or declined by the room)
    private: bool = False
    booking_ref: str = ""  # "booking-42:v3" on events we wrote, where the back end reads it


@dataclass(frozen=True)
class EventDraft:
    """What we write into a room's calendar for one of our bookings."""

    subject: str
    start: datetime
    end: datetime
    body: str
    organizer_name: str
    organizer_email: str
    booking_ref: str  # stored on the event as an extended property
    private: bool = False
    tentative: bool = False


class ItemGone(IntegrationError):
    """The event is no longer in the calendar (permanent)."""


class SyncStateExpired(IntegrationError):
    """The delta link or sync state is no longer valid: read everything again."""


class Calendar(Protocol):
    """A room mailbox's calendar (Exchange via EWS or Graph). Every method raises IntegrationError."""

    def create(self, mailbox: str, draft: EventDraft, *, key: str) -> tuple[str, str]:
        """Create the event; ``key`` makes a retried create return the same one. (remote id, change key)."""
        ...

    def update(self, mailbox: str, remote_id: str, draft: EventDraft) -> str:
        """Change the event; the new change key."""
        ...

    def delete(self, mailbox: str, remote_id: str) -> None:
        """Remove the event; one already gone counts as removed."""
        ...

    def changes(
        self, mailbox: str, *, state: str, start: datetime, end: datetime
    ) -> tuple[list[Meeting], str]:
        """What changed since ``state`` ("" reads everything) and the next state; SyncStateExpired."""
        ...

    def meetings(self, mailbox: str, *, start: datetime, end: datetime) -> list[Meeting]:
        """Every event between start and end, with ``booking_ref`` (for the reconcile)."""
        ...

    def respond(self, mailbox: str, remote_id: str, *, answer: str, comment: str) -> None:
        """Answer the organizer: ``accept``, ``tentative`` or ``decline`` with a comment."""
        ...


@dataclass(frozen=True)
class RemoteRoom:
    """A room mailbox as Exchange lists it (Graph /places, EWS GetRooms)."""

    email: str  # lower case: how our rooms are matched
    name: str
    capacity: int | None = None  # Graph knows it, EWS does not
    room_list: str = ""  # the room list (EWS) or building (Graph) it is listed in


class RoomDirectory(Protocol):
    """The rooms an Exchange organisation lists. Raises IntegrationError."""

    def rooms(self) -> list[RemoteRoom]:
        """Every room mailbox, each once."""
        ...
