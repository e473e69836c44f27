"""The outbox channel ``visitors``: bookings' changes reach their visits, and mail goes out.

A booking moved, cancelled, rejected, released or expired moves or cancels its visits
(services.follow_booking, idempotent); ``visitor.*`` topics mail the visitor or the host.
A message delivered twice sends the same Message-ID again, which mail clients take as one.
"""

from __future__ import annotations

from bookings.models import OutboxMessage
from bookings.notifications.mail import send, sender

from . import mails, services
from .models import Visitor

# Topics after which a booking's visits may have to follow it ("created" and reminders cannot).
BOOKING_TOPICS = {
    "booking.updated",
    "booking.cancelled",
    "booking.rejected",
    "booking.expired",
    "booking.released",
    "series.updated",
    "series.cancelled",
    "meeting.updated",
    "meeting.cancelled",
    "blocking.created",
}


def booking_ids(payload: dict) -> list[int]:
    ids = [payload["id"]] if payload.get("id") else []
    return ids + [b["id"] for b in payload.get("bookings", []) if isinstance(b, dict) and b.get("id")]


def deliver(message: OutboxMessage) -> None:
    """Follow a booking's change, or mail about a visitor; raises DeliveryError from ``send``."""
    if message.topic in BOOKING_TOPICS:
        for booking_id in booking_ids(message.payload):
            services.follow_booking(booking_id)
        return
    if not message.topic.startswith("visitor."):
        return
    visitor = (
        Visitor.objects.select_related("visit__building__site", "visit__host")
        .filter(pk=message.payload.get("visitor"), anonymised_at__isnull=True)
        .first()
    )
    if visitor is None:
        return
    mail = None
    if message.topic == "visitor.invited":
        # A newer change sends its own invitation; an older one would only confuse.
        current = message.payload.get("version") == visitor.visit.version
        if current and visitor.status == Visitor.Status.EXPECTED and visitor.email:
            mail = mails.visitor_mail(visitor, sender(), cancelled=False)
    elif message.topic == "visitor.cancelled" and visitor.email:
        mail = mails.visitor_mail(visitor, sender(), cancelled=True)
    elif message.topic in ("visitor.arrived", "visitor.left"):
        mail = mails.host_mail(visitor, arrived=message.topic == "visitor.arrived")
    if mail is not None:
        send([mail], message.pk)
