"""Refusals of orders, as the booking domain's error kinds, so every interface's one table maps them."""

from bookings.errors import InvalidBooking, NotAllowed, PolicyViolation


class InvalidOrder(InvalidBooking):
    """Bad input (unknown item, quantity outside its limits, a missing note, an unknown cost centre): 422."""


class OrderRefused(PolicyViolation):
    """A rule refuses it (cut-off passed, not delivered then, booking cancelled): 403 with the reason."""


class OrderNotAllowed(NotAllowed):
    """The booking is not the caller's: 403."""


class LateChargeUnconfirmed(OrderRefused):
    """A reduction after the cut-off still costs ``amount``: the booker must confirm it first (403)."""

    def __init__(self, message: str, *, amount):
        super().__init__(message)
        self.amount = amount
