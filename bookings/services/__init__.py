"""Every write to the booking domain goes through these functions."""

from ..errors import (
    BookingConflict,
    BookingError,
    InvalidBooking,
    NotAllowed,
    PolicyViolation,
    StaleBooking,
)
from .bookings import cancel_booking, create_booking, update_booking
from .series import cancel_series, create_series

__all__ = [
    "BookingConflict",
    "BookingError",
    "InvalidBooking",
    "NotAllowed",
    "PolicyViolation",
    "StaleBooking",
    "cancel_booking",
    "cancel_series",
    "create_booking",
    "create_series",
    "update_booking",
]
