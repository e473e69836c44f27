"""Services in the booking dialog (/book/): lines chosen with the booking, priced before it is saved.

Registered with ``bookings.hooks.dialog_part``: the dialog renders the section, shows each
line's price and the total on every redisplay ("Show prices" redisplays without booking),
and when it books, ``apply`` orders the lines in the booking's own transaction, so the
booking and its lines are saved together or not at all. The section's cost centre is the
booking's (booking_centre): its room is charged there and its lines default to it; it is
offered also where a priced room's site has no catalogue.

A new series orders the lines for each date whose cut-off is still open; a date past it
(or one the provider does not deliver at) gets none of them, and the booker is told which
dates and why. Each date is all or nothing, in the series' one transaction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from django import forms
from django.db import transaction
from django.db.models import Exists, Q
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bookings.models import Site

from . import services
from .booking_centre import chosen_for_new_bookings
from .errors import OrderRefused
from .models import Item, RoomPrice
from .money import charge
from .selectors import Offer, offers_at

ROWS = 3


class LineForm(forms.Form):
    item = forms.ModelChoiceField(queryset=Item.objects.none(), label=gettext_lazy("Service"), required=False)
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=gettext_lazy("Empty: one per attendee for per-person items."),
    )
    time = forms.TimeField(
        label=gettext_lazy("Delivery time"), required=False, help_text=gettext_lazy("Empty: at the start.")
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items


class CostCentreForm(forms.Form):
    cost_centre = forms.CharField(
        label=gettext_lazy("Cost centre"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("Charged for the room and the services. Empty: your default cost centre."),
    )


@dataclass
class Line:
    item: Item
    quantity: int
    time: time | None
    note: str
    amount: Decimal


@dataclass
class BoundServices:
    """The services section as posted: its forms, the priced lines and the offers with their cut-offs."""

    template = "orders/_dialog_services.html"
    rows: list[LineForm]
    centre: CostCentreForm
    offers: list[Offer] = field(default_factory=list)
    closed: dict[int, str] = field(default_factory=dict)  # item id → the cut-off in words
    lines: list[Line] = field(default_factory=list)
    tz: object = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def is_valid(self) -> bool:
        return all(f.is_valid() for f in [*self.rows, self.centre])

    @property
    def code(self) -> str:
        return (self.centre.cleaned_data.get("cost_centre") or "").strip()

    def fingerprint(self) -> list:
        """What the idempotency key's request hash covers: the lines and the cost centre."""
        if not self.lines and not self.code:
            return []
        return [
            self.code,
            *[[line.item.pk, line.quantity, str(line.time or ""), line.note] for line in self.lines],
        ]

    def creating(self) -> AbstractContextManager:
        """Around the booking's creation: each new booking names the section's cost centre."""
        return chosen_for_new_bookings(self.code)

    def _order_lines(self, booking, *, actor, now: datetime) -> None:
        for line in self.lines:
            deliver_at = (
                datetime.combine(booking.span.lower.astimezone(self.tz).date(), line.time, self.tz)
                if line.time
                else None
            )
            # No cost centre named per line: the booking's (named above, else the booker's default).
            services.order_service(
                booking=booking,
                item=line.item,
                actor=actor,
                quantity=line.quantity,
                note=line.note,
                deliver_at=deliver_at,
                now=now,
            )

    def apply(self, *, bookings, actor, now: datetime) -> list[str]:
        """Order the lines for each new booking; returns what the booker must be told.

        A single booking is refused with its line's reason (a BookingError: nothing is
        saved). Of a series, a date whose lines are refused (cut-off passed, not delivered
        then) gets none of them and is named; bad input still refuses the whole series.
        """
        if not self.lines:
            return []
        if len(bookings) == 1:
            self._order_lines(bookings[0], actor=actor, now=now)
            return []
        skipped: list[tuple[object, str]] = []
        for booking in bookings:
            try:
                with transaction.atomic():  # a savepoint per date: all its lines, or none
                    self._order_lines(booking, actor=actor, now=now)
            except OrderRefused as exc:
                skipped.append((booking, exc.message))
        if not skipped:
            return []
        dates = " ".join(
            _("%(day)s: %(reason)s")
            % {
                "day": formats.date_format(b.span.lower.astimezone(self.tz).date(), "SHORT_DATE_FORMAT"),
                "reason": reason,
            }
            for b, reason in skipped
        )
        return [
            ngettext(
                "The services could not be ordered for %(n)d date of the series (they were for the others): "
                "%(dates)s",
                "The services could not be ordered for %(n)d dates of the series (they were for the others): "
                "%(dates)s",
                len(skipped),
            )
            % {"n": len(skipped), "dates": dates}
        ]


class ServicesPart:
    """The dialog part: offered where the chosen room's site has a catalogue."""

    def bind(self, data, *, user, room, start: datetime | None, attendees: int, now: datetime):
        if room is None:
            return None
        site = room.floor.building.site
        items = Item.objects.filter(active=True, provider__site=site).select_related("provider")
        building = room.floor.building
        # One query for both: does the site have a catalogue, does any place price the room?
        has_items, priced = (
            Site.objects.filter(pk=site.pk)
            .annotate(
                has_items=Exists(items),
                priced=Exists(
                    RoomPrice.objects.filter(
                        Q(room=room) | Q(building=building) | Q(site_id=building.site_id)
                    )
                ),
            )
            .values_list("has_items", "priced")
            .get()
        )
        if not has_items and not priced:
            return None  # nothing to order and nothing to charge: no section
        bound = BoundServices(
            # A priced room without a catalogue: only the cost centre its charge goes to.
            rows=[LineForm(data, items=items, prefix=f"svc{i}") for i in range(ROWS)] if has_items else [],
            centre=CostCentreForm(data, prefix="svc"),
            tz=site.tz,
        )
        if start is not None and has_items:
            bound.offers = offers_at(site, start=start, now=now)
            for offer in bound.offers:
                if not offer.open:
                    bound.closed[offer.item.pk] = services.cutoff_message(
                        offer.item, deliver_at=start, limit=offer.deadline, now=now, tz=site.tz
                    )
        if data is not None and bound.is_valid():
            for row in bound.rows:
                item = row.cleaned_data.get("item")
                if item is None:
                    continue
                quantity = row.cleaned_data.get("quantity") or services.quantity_for(
                    item, attendees=attendees
                )
                bound.lines.append(
                    Line(
                        item=item,
                        quantity=quantity,
                        time=row.cleaned_data.get("time"),
                        note=row.cleaned_data.get("note") or "",
                        amount=charge(quantity, item.price),
                    )
                )
        return bound


PART = ServicesPart()
