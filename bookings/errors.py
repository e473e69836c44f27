"""Domain errors. Each interface maps them to its own form (409/403/422 JSON, form errors)."""

from __future__ import annotations


class BookingError(Exception):
    """Base of every refusal; ``message`` is for the user, in the active language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidBooking(BookingError):
    """The request itself is wrong (end before start, unknown room); names the field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleBooking(InvalidBooking):
    """The booking changed since the caller read it (If-Match did not match)."""


class BookingConflict(BookingError):
    """The slot is taken; ``conflicts`` are the bookings in the way.

    For a series, ``occurrences`` lists each refused occurrence as
    ``(start, end, [bookings])``.
    """

    def __init__(self, message: str, *, conflicts: list, occurrences: list | None = None):
        super().__init__(message)
        self.conflicts = conflicts
        self.occurrences = occurrences or []


class PolicyViolation(BookingError):
    """A room rule forbids it; the message names the rule and its limit.

    ``reasons`` lists every rule broken (rules.catalogue.Reason), the first one is ``message``.
    """

    def __init__(self, message: str, *, reasons: list | None = None):
        super().__init__(message)
        self.reasons = reasons or []


class NotAllowed(BookingError):
    """The user may not touch this booking."""
