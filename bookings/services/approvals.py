"""Approvals: pending bookings hold their slot until a room manager decides."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

# A link in a mail lets one manager decide one request without signing in first.
DECISION_SALT = "rfr.approval-decision"


def decision_token(*, booking_id: int, manager_id: int) -> str:
    """A signed token naming the request and the manager it was sent to."""
    return signing.dumps({"b": booking_id, "m": manager_id}, salt=DECISION_SALT, compress=True)


def decision_link(*, booking_id: int, manager_id: int) -> str:
    """The absolute URL of the page where that manager approves or rejects the request."""
    token = decision_token(booking_id=booking_id, manager_id=manager_id)
    return settings.RFR_PUBLIC_URL + reverse("bookings:decide", args=[token])
