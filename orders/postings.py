"""Charges become posting records once final; a charge changed after its export is reversed and posted anew.

An order is final when its booking has ended (it was delivered) or when it was cancelled
(after its cut-off a share stays charged; before it nothing). A quantity reduced after the
cut-off keeps the same share of the part taken off charged (``Order.late_quantity``).
``Order.version`` rises with every change and ``posted_version`` remembers what the
export last posted, so the export looks only at orders whose charge may differ from what SAP already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q

from bookings.models import Booking

from . import rooms
from .models import CostCentre, ExportBatch, Order, Posting
from .money import charge

# Rooms are charged for bookings that ended this recently: prices set today do not
# charge the years before them.
ROOM_LOOKBACK = timedelta(days=62)
UNCHARGED = (Booking.Status.REJECTED, Booking.Status.CANCELLED)

# SAP's line text field holds 50 characters.
TEXT_LENGTH = 50


@dataclass(frozen=True)
class Charge:
    """What an order should have cost SAP, as the export compares it with what was posted."""

    kind: str
    sender: str
    receiver: str
    activity_type: str
    cost_element: str
    quantity: Decimal
    unit: str
    price: Decimal
    amount: Decimal
    currency: str

    def matches(self, posting: Posting) -> bool:
        return (self.kind, self.sender, self.receiver, self.quantity, self.price, self.amount) == (
            posting.kind,
            posting.sender_cost_centre,
            posting.receiver_cost_centre,
            posting.quantity,
            posting.price,
            posting.amount,
        )


def due(now: datetime):
    """Orders whose charge may have changed since the last export, and is final."""
    return (
        Order.objects.filter(Q(posted_version__isnull=True) | ~Q(posted_version=F("version")))
        .filter(Q(status=Order.Status.CANCELLED) | Q(booking__span__endswith__lte=now))
        .select_related("item__provider__cost_centre", "cost_centre", "booking__room__floor__building__site")
        .order_by("deliver_at", "pk")
    )


def charge_of(order: Order) -> Charge | None:
    """The final charge of an order, or None when nothing is charged."""
    percent = order.charged_percent if order.status == Order.Status.CANCELLED else 100
    if order.status != Order.Status.CANCELLED and order.booking.status in UNCHARGED:
        # Rejected or expired before it was confirmed (its lines were never cancelled): nothing delivered.
        return None
    # What late reductions took off after the cut-off stays charged at the item's share.
    quantity = (Decimal(order.quantity) * percent / 100 + order.late_quantity).quantize(Decimal("0.001"))
    if quantity == 0:
        return None
    provider = order.item.provider
    return Charge(
        kind="FI" if provider.invoices_externally else "CO",
        sender=provider.cost_centre.code,
        receiver=order.cost_centre.code,
        activity_type=order.item.activity_type,
        cost_element=order.item.cost_element,
        quantity=quantity,
        unit=order.item.unit,
        price=order.price,
        amount=charge(quantity, order.price),
        currency=order.currency,
    )


def line_text(order: Order) -> str:
    booking = order.booking
    local = order.deliver_at.astimezone(booking.room.floor.building.site.tz)
    return f"{order.item.name} {local:%d.%m.%Y} {booking.room.name} #{booking.pk}"[:TEXT_LENGTH]


def post_due(*, batch: ExportBatch, now: datetime, today: date) -> list[Posting]:
    """Write the postings of every due order into ``batch``; the caller holds the export lock."""
    written: list[Posting] = []
    for order in due(now):
        wanted = charge_of(order)
        current = (
            order.postings.filter(reverses__isnull=True, reversed_by__isnull=True).order_by("-pk").first()
        )
        if current is not None and wanted is not None and wanted.matches(current):
            pass
        else:
            if current is not None:
                written.append(
                    Posting.objects.create(
                        order=order,
                        batch=batch,
                        kind=current.kind,
                        sender_cost_centre=current.sender_cost_centre,
                        receiver_cost_centre=current.receiver_cost_centre,
                        activity_type=current.activity_type,
                        cost_element=current.cost_element,
                        quantity=-current.quantity,
                        unit=current.unit,
                        price=current.price,
                        amount=-current.amount,
                        currency=current.currency,
                        posting_date=today,
                        text=("Storno " + current.text)[:TEXT_LENGTH],
                        reverses=current,
                    )
                )
            if wanted is not None:
                local_day = order.deliver_at.astimezone(order.booking.room.floor.building.site.tz).date()
                written.append(
                    Posting.objects.create(
                        order=order,
                        batch=batch,
                        kind=wanted.kind,
                        sender_cost_centre=wanted.sender,
                        receiver_cost_centre=wanted.receiver,
                        activity_type=wanted.activity_type,
                        cost_element=wanted.cost_element,
                        quantity=wanted.quantity,
                        unit=wanted.unit,
                        price=wanted.price,
                        amount=wanted.amount,
                        currency=wanted.currency,
                        # A correction of an earlier period is posted now: that period may be closed.
                        posting_date=local_day if current is None else today,
                        text=line_text(order),
                    )
                )
        Order.objects.filter(pk=order.pk).update(posted_version=order.version)
    return written


def post_rooms(*, batch: ExportBatch, now: datetime) -> list[Posting]:
    """Charge each confirmed, ended booking in a priced room once (its cost centre, else its organizer's)."""
    charged = Posting.objects.filter(booking=OuterRef("pk"), order__isnull=True)
    bookings = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED, span__endswith__lte=now, span__endswith__gt=now - ROOM_LOOKBACK
        )
        .exclude(Exists(charged))
        .select_related("room__floor__building__site")
        .order_by("span")
    )
    written = []
    for booking in bookings:
        tariff = rooms.tariff_for(booking.room)
        receiver = rooms.receiver_of(booking) if tariff else None
        if tariff is None or receiver is None:
            continue
        price = rooms.room_charge(tariff, booking.span.lower, booking.span.upper)
        sender = CostCentre.objects.get(pk=tariff.cost_centre_id)
        local = booking.span.lower.astimezone(booking.room.floor.building.site.tz)
        written.append(
            Posting.objects.create(
                booking=booking,
                batch=batch,
                kind="CO",
                sender_cost_centre=sender.code,
                receiver_cost_centre=receiver.code,
                activity_type=tariff.activity_type,
                quantity=price.quantity,
                unit=price.unit,
                price=price.price,
                amount=price.amount,
                currency=tariff.currency,
                posting_date=local.date(),
                text=f"{booking.room.name} {local:%d.%m.%Y} #{booking.pk}"[:TEXT_LENGTH],
            )
        )
    return written
