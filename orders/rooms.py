"""Room prices for internal allocation: per hour, half day and day, set on a room, building or site.

As with the booking rules, each field inherits from the next wider place (room →
building → site): the nearest place that sets it wins. A booking costs the cheapest of
the tariffs that are set: hours × the hourly price, started half days (4 hours) × the
half-day price, started days (24 hours) × the day price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from bookings.models import Booking, Room

from . import costcentres
from .errors import InvalidOrder
from .models import CostCentre, RoomPrice
from .money import charge

HALF_DAY_HOURS = 4
DAY_HOURS = 24
FIELDS = ("per_hour", "per_half_day", "per_day", "currency", "activity_type", "cost_centre_id")


@dataclass(frozen=True)
class Tariff:
    per_hour: Decimal | None
    per_half_day: Decimal | None
    per_day: Decimal | None
    currency: str
    activity_type: str
    cost_centre_id: int | None


def tariff_for(room: Room) -> Tariff | None:
    """The room's effective prices, or None when no place sets any price or no sender cost centre."""
    building = room.floor.building
    prices = RoomPrice.objects.filter(Q(room=room) | Q(building=building) | Q(site_id=building.site_id))
    order = {"room": 0, "building": 1, "site": 2}

    def level(price: RoomPrice) -> int:
        return order["room" if price.room_id else "building" if price.building_id else "site"]

    chain = sorted(prices, key=level)
    values = {
        name: next((getattr(p, name) for p in chain if getattr(p, name) not in (None, "")), None)
        for name in FIELDS
    }
    if not any(values[name] is not None for name in ("per_hour", "per_half_day", "per_day")):
        return None
    if values["cost_centre_id"] is None:
        return None
    return Tariff(
        per_hour=values["per_hour"],
        per_half_day=values["per_half_day"],
        per_day=values["per_day"],
        currency=values["currency"] or "EUR",
        activity_type=values["activity_type"] or "",
        cost_centre_id=values["cost_centre_id"],
    )


@dataclass(frozen=True)
class RoomCharge:
    quantity: Decimal
    unit: str
    price: Decimal
    amount: Decimal


def room_charge(tariff: Tariff, start: datetime, end: datetime) -> RoomCharge:
    """The cheapest of the set tariffs for the span (each amount rounded once, by money.charge)."""
    hours = Decimal((end - start).total_seconds()) / Decimal(3600)
    options = []
    if tariff.per_hour is not None:
        quantity = hours.quantize(Decimal("0.001"))
        options.append(RoomCharge(quantity, "h", tariff.per_hour, charge(quantity, tariff.per_hour)))
    if tariff.per_half_day is not None:
        quantity = Decimal(math.ceil(hours / HALF_DAY_HOURS))
        options.append(
            RoomCharge(quantity, "halfday", tariff.per_half_day, charge(quantity, tariff.per_half_day))
        )
    if tariff.per_day is not None:
        quantity = Decimal(math.ceil(hours / DAY_HOURS))
        options.append(RoomCharge(quantity, "day", tariff.per_day, charge(quantity, tariff.per_day)))
    return min(options, key=lambda option: option.amount)


def receiver_of(booking: Booking) -> CostCentre | None:
    """Who pays for the room: the cost centre the booking names, else the organizer's default."""
    return costcentres.of_booking(booking) or costcentres.default_for(booking.organizer)


def check_priced_booking(*, booking: Booking, actor, now) -> None:
    """The create hook (bookings.hooks): a priced room on a site that requires it needs a valid cost centre.

    The room is charged to the cost centre the booking names (booking_centre), else to the
    organizer's default, so that is what must exist and be valid on the booking's day. Only
    bookings made here (pages, API) are asked.
    Raises InvalidOrder (the booking is not written).
    """
    if booking.source not in (Booking.Source.WEB, Booking.Source.API):
        return  # a meeting from Exchange or a door display was not booked here: charged where it can be
    site = booking.room.floor.building.site
    if not costcentres.required_at(site.pk) or tariff_for(booking.room) is None:
        return
    try:
        costcentres.resolve(
            user=booking.organizer,
            code=None,
            day=booking.span.lower.astimezone(site.tz).date(),
            booking=booking,
        )
    except InvalidOrder as exc:
        raise InvalidOrder(
            _("%(site)s charges this room to your cost centre: %(reason)s")
            % {"site": site.name, "reason": exc.message},
            field="cost_centre",
        ) from exc
