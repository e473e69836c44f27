"""Refusals of orders, as the booking domain's error kinds, so every interface's one table maps them."""

from bookings.errors import InvalidBooking, NotAllowed, PolicyViolation


class InvalidOrder(InvalidBooking):
    """Bad input (unknown item, quantity outside its limits, a missing note, an unknown cost centre): 422."""


class OrderRefused(PolicyViolation):
    """A rule refuses it (cut-off passed, not delivered then, booking cancelled): 403 with the reason."""


class OrderNotAllowed(NotAllowed):
    """The booking is not the caller's: 403."""
