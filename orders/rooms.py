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

from bookings.models import Booking, Room

from .models import RoomPrice, UserCostCentre
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


def receiver_of(booking: Booking):
    default = (
        UserCostCentre.objects.select_related("cost_centre").filter(user_id=booking.organizer_id).first()
    )
    return default.cost_centre if default else None
