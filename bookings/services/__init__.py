"""Every write to the booking domain goes through these functions."""

from ..errors import (
    BookingConflict,
    BookingError,
    InvalidBooking,
    NotAllowed,
    PolicyViolation,
    StaleBooking,
)
from .approvals import approve_booking, approve_series, expire_pending, reject_booking, reject_series
from .bookings import cancel_booking, create_booking, update_booking
from .series import cancel_series, create_series, may_cancel_series
from .series_edit import convert_to_series, update_series

__all__ = [
    "BookingConflict",
    "BookingError",
    "InvalidBooking",
    "NotAllowed",
    "PolicyViolation",
    "StaleBooking",
    "approve_booking",
    "approve_series",
    "cancel_booking",
    "cancel_series",
    "convert_to_series",
    "create_booking",
    "create_series",
    "expire_pending",
    "may_cancel_series",
    "reject_booking",
    "reject_series",
    "update_booking",
    "update_series",
]
