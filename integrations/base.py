"""What every integration (directory, calendar, SAP) shares: one error type, small Protocols.

Clients raise IntegrationError; ``permanent=True`` means retrying cannot help (bad
credentials, a rejected payload), so the outbox gives up and records why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
