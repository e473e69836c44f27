"""The outbox channel ``provider_mail``: a provider hears of each new and cancelled order line.

Every outbox message reaches every channel; this sink mails only the order topics and
leaves the rest. It builds the text and hands it to the mail channel's sender, so
retries, Message-IDs and refusals work as for every other mail.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from bookings.models import OutboxMessage
from bookings.notifications.compose import Mail
from bookings.notifications.mail import send
from bookings.outbox import enqueue

from .models import Order

TOPICS = {"order.created", "order.changed", "order.cancelled"}
SUBJECTS = {
    "order.created": _lazy("New order: %(item)s, %(when)s"),
    "order.changed": _lazy("Changed: %(item)s, now %(when)s"),
    "order.cancelled": _lazy("Cancelled: %(item)s, %(when)s"),
}


def announce(order: Order, topic: str) -> None:
    """Queue the provider's mail in the order's transaction (delivered after commit)."""
    enqueue(
        topic=topic,
        payload={"order": order.pk, "booking": order.booking_id, "provider": order.item.provider_id},
    )


def compose(order: Order, topic: str) -> Mail:
    booking = order.booking
    room = booking.room
    tz = room.floor.building.site.tz
    when = order.deliver_at.astimezone(tz)
    subject = (
        _("New order: %(item)s, %(when)s") if topic == "order.created" else _("Cancelled: %(item)s, %(when)s")
    ) % {
        "item": order.item.display_name(),
        "when": f"{when:%d.%m.%Y %H:%M}",
    }
    body = "\n".join(
        [
            subject,
            "",
            _("Quantity: %(n)d") % {"n": order.quantity},
            _("Room: %(room)s, %(floor)s, %(building)s")
            % {"room": room.name, "floor": room.floor.name, "building": room.floor.building.name},
            _("Booked by: %(name)s")
            % {"name": booking.organizer.get_full_name() or booking.organizer.username},
            _("Note: %(note)s") % {"note": order.note} if order.note else "",
            "",
            _("Your day list: %(url)s")
            % {"url": f"{settings.RFR_PUBLIC_URL}/services/providers/{order.item.provider_id}/"},
        ]
    )
    return Mail(recipient=SimpleNamespace(email=order.item.provider.email), subject=subject, body=body)


def provider_mail_sink(message: OutboxMessage) -> None:
    """Mail the provider of an order line; raises DeliveryError as the mail channel does."""
    if message.topic not in TOPICS:
        return
    order = (
        Order.objects.select_related(
            "item__provider", "booking__organizer", "booking__room__floor__building__site"
        )
        .filter(pk=message.payload.get("order"))
        .first()
    )
    if order is None or not order.item.provider.email:
        return
    with translation.override(settings.RFR_MAIL_LANGUAGE):
        mail = compose(order, message.topic)
    send([mail], message.pk)
