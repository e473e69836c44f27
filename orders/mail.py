"""The outbox channel ``provider_mail``: a provider hears of its order lines by mail.

Once a line's cut-off has passed, each new, changed or cancelled line is mailed at once
(the kitchen has planned and must know). Before that, changes are collected: one summary
a day per provider, at RFR_ORDER_SUMMARY_TIME in its site's zone, lists the lines changed
since the last one. The sink builds the text and hands it to the mail channel's sender,
so retries, Message-IDs and refusals work as for every other mail.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from bookings.models import OutboxMessage
from bookings.notifications.compose import Mail
from bookings.notifications.mail import send
from bookings.outbox import enqueue

from . import cutoff
from .models import Order, ProviderSummary

TOPICS = {"order.created", "order.changed", "order.cancelled"}
SUMMARY = "order.summary"
SUBJECTS = {
    "order.created": _lazy("New order: %(item)s, %(when)s"),
    "order.changed": _lazy("Changed: %(item)s, now %(when)s"),
    "order.cancelled": _lazy("Cancelled: %(item)s, %(when)s"),
}


def announce(order: Order, topic: str, *, now: datetime) -> None:
    """Queue the provider's mail in the order's transaction once its cut-off has passed.

    Before the cut-off the daily summary tells the provider; nothing is queued here.
    """
    site = order.booking.room.floor.building.site
    limit = cutoff.deadline(
        order.item,
        deliver_at=order.deliver_at,
        tz=site.tz,
        closed=cutoff.closed_days(site.pk, order.deliver_at.date()),
    )
    if now <= limit:
        return
    enqueue(
        topic=topic,
        payload={"order": order.pk, "booking": order.booking_id, "provider": order.item.provider_id},
    )


def _line(order: Order, tz) -> list[str]:
    booking, room = order.booking, order.booking.room
    return [
        _("Quantity: %(n)d") % {"n": order.quantity},
        _("Room: %(room)s, %(floor)s, %(building)s")
        % {"room": room.name, "floor": room.floor.name, "building": room.floor.building.name},
        _("Booked by: %(name)s") % {"name": booking.organizer.get_full_name() or booking.organizer.username},
        _("Note: %(note)s") % {"note": order.note} if order.note else "",
    ]


def _day_list(provider_id: int) -> str:
    return _("Your day list: %(url)s") % {
        "url": f"{settings.RFR_PUBLIC_URL}/services/providers/{provider_id}/"
    }


def compose(order: Order, topic: str) -> Mail:
    tz = order.booking.room.floor.building.site.tz
    when = order.deliver_at.astimezone(tz)
    subject = str(SUBJECTS[topic]) % {"item": order.item.display_name(), "when": f"{when:%d.%m.%Y %H:%M}"}
    body = "\n".join([subject, "", *_line(order, tz), "", _day_list(order.item.provider_id)])
    return Mail(recipient=SimpleNamespace(email=order.item.provider.email), subject=subject, body=body)


def compose_summary(summary: ProviderSummary, orders: list[Order]) -> Mail:
    provider = summary.provider
    tz = provider.site.tz
    subject = _("Daily summary of orders: %(provider)s, %(day)s") % {
        "provider": provider.name,
        "day": f"{summary.day:%d.%m.%Y}",
    }
    parts = [subject, "", _("Lines ordered, changed or cancelled since the last summary:"), ""]
    for order in orders:
        when = order.deliver_at.astimezone(tz)
        state = _("cancelled") if order.status == Order.Status.CANCELLED else order.get_status_display()
        parts += [f"{when:%d.%m.%Y %H:%M} {order.item.display_name()} ({state})", *_line(order, tz), ""]
    parts.append(_day_list(provider.pk))
    return Mail(recipient=SimpleNamespace(email=provider.email), subject=subject, body="\n".join(parts))


def summary_lines(summary: ProviderSummary) -> list[Order]:
    """The provider's lines changed in the summary's window, by delivery time."""
    return list(
        Order.objects.filter(
            item__provider=summary.provider_id, changed_at__gt=summary.since, changed_at__lte=summary.until
        )
        .select_related("item", "booking__organizer", "booking__room__floor__building__site")
        .order_by("deliver_at", "pk")
    )


def provider_mail_sink(message: OutboxMessage) -> None:
    """Mail a provider a line or its daily summary; raises DeliveryError as the mail channel does."""
    if message.topic == SUMMARY:
        summary = (
            ProviderSummary.objects.select_related("provider__site")
            .filter(pk=message.payload.get("summary"))
            .first()
        )
        if summary is None or not summary.provider.email:
            return
        with translation.override(settings.RFR_MAIL_LANGUAGE):
            mail = compose_summary(summary, summary_lines(summary))
        send([mail], message.pk)
        return
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
