"""Reads for the order pages: a booking's lines and total, the cut-offs, a provider's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bookings.models import Booking

from . import cutoff
from .models import Item, Order, Provider


@dataclass(frozen=True)
class Offer:
    """An item as the booking's page offers it: orderable until when, or why not."""

    item: Item
    deadline: datetime
    open: bool


def lines_of(booking: Booking) -> tuple[list[Order], Decimal]:
    """The booking's lines and the total of those not cancelled (the amounts are already rounded)."""
    lines = list(booking.orders.select_related("item__provider", "cost_centre").order_by("deliver_at", "pk"))
    return lines, sum((o.amount for o in lines if o.status != Order.Status.CANCELLED), Decimal("0.00"))


def offers(booking: Booking, *, now: datetime) -> list[Offer]:
    return offers_at(booking.room.floor.building.site, start=booking.span.lower, now=now)


def offers_at(site, *, start: datetime, now: datetime) -> list[Offer]:
    """The site's orderable items for a meeting starting at ``start``, each with its cut-off."""
    closed = cutoff.closed_days(site.pk, start.date())
    items = Item.objects.filter(active=True, provider__site=site).select_related("provider")
    found = []
    for item in items.order_by("provider__name", "name"):
        limit = cutoff.deadline(item, deliver_at=start, tz=site.tz, closed=closed)
        found.append(Offer(item=item, deadline=limit, open=now <= limit))
    return found


def day_list(
    provider: Provider, *, now: datetime, since: datetime | None = None
) -> list[tuple[object, list[Order]]]:
    """Today's and tomorrow's orders of a provider by delivery time, in the site's zone.

    Each line's ``mark`` is "new" (ordered after ``since``, the worker's last look), "changed"
    (changed or cancelled after it) or "" (nothing since, or no earlier look to compare with).
    """
    tz = provider.site.tz
    today = now.astimezone(tz).date()
    days = []
    for day in (today, today + timedelta(days=1)):
        start = datetime.combine(day, datetime.min.time(), tz)
        orders = (
            Order.objects.filter(
                item__provider=provider, deliver_at__gte=start, deliver_at__lt=start + timedelta(days=1)
            )
            .select_related("item", "booking__room__floor__building", "booking__organizer")
            .order_by("deliver_at", "pk")
        )
        lines = list(orders)
        for line in lines:
            line.mark = mark(line, since)
        days.append((day, lines))
    return days


def mark(line: Order, since: datetime | None) -> str:
    if since is None:
        return ""
    if line.created_at > since:
        return "new"
    if line.changed_at and line.changed_at > since:
        return "changed"
    return ""
