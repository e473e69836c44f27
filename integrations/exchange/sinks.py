"""The outbox channel ``exchange``: each message names bookings whose room calendar must follow."""

from __future__ import annotations

from bookings.models import OutboxMessage

from .adapter import calendar
from .sync import push_booking


def booking_ids(message: OutboxMessage) -> list[int]:
    payload = message.payload
    ids = {payload["id"]} if payload.get("id") else set()
    for item in payload.get("bookings", []):
        ids.add(item["id"] if isinstance(item, dict) else item)
    return sorted(ids)


def exchange_sink(message: OutboxMessage) -> None:
    """Push each named booking's current state; IntegrationError (a DeliveryError) retries later."""
    cal = calendar()
    if cal is None:
        return
    for booking_id in booking_ids(message):
        push_booking(cal, booking_id, committed_at=message.created_at)
