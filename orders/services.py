"""Order services with a booking, cancel them, mark them delivered; keyword-only, one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from bookings.models import Booking
from bookings.selectors.series import future_occurrences
from bookings.services.bookings import can_manage
from bookings.spans import storable

from . import costcentres, cutoff, mail
from .errors import InvalidOrder, LateChargeUnconfirmed, OrderNotAllowed, OrderRefused
from .models import DayListLook, Item, Order
from .money import charge

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_NOTE = 500


@dataclass(frozen=True)
class LateCharge:
    """What a change after the cut-off still costs; the booker is told before confirming."""

    order: Order
    percent: int
    amount: Decimal


def default_quantity(item: Item, booking: Booking) -> int:
    """Per-person items default to the attendees (the organizer counts), others to one."""
    return quantity_for(item, attendees=len(booking.attendees))


def quantity_for(item: Item, *, attendees: int) -> int:
    """The default quantity for a meeting of ``attendees`` besides its organizer."""
    if item.unit == Item.Unit.PERSON:
        return max(attendees + 1, item.min_quantity)
    return max(1, item.min_quantity)


def cutoff_message(item: Item, *, deliver_at: datetime, limit: datetime, now: datetime, tz) -> str:
    """The cut-off in words: "Kaffee kann für morgen nur bis heute 14:00 Uhr bestellt werden"."""
    local_day, limit_local = deliver_at.astimezone(tz).date(), limit.astimezone(tz)
    today = now.astimezone(tz).date()

    def day_words(day):
        if day == today:
            return _("today")
        if (day - today).days == 1:
            return _("tomorrow")
        return formats.date_format(day, "SHORT_DATE_FORMAT")

    return _("%(item)s can be ordered for %(day)s only until %(limit_day)s %(time)s.") % {
        "item": item.display_name(),
        "day": day_words(local_day),
        "limit_day": day_words(limit_local.date()),
        "time": formats.time_format(limit_local.time(), "TIME_FORMAT"),
    }


def _check_item(item: Item, booking: Booking, *, quantity: int, note: str, deliver_at: datetime) -> None:
    if not item.active or item.provider.site_id != booking.room.floor.building.site_id:
        raise InvalidOrder(_("This item cannot be ordered for this room."), field="item")
    if not item.min_quantity <= quantity <= item.max_quantity:
        raise InvalidOrder(
            _("The quantity must be between %(min)d and %(max)d.")
            % {"min": item.min_quantity, "max": item.max_quantity},
            field="quantity",
        )
    if not storable(note) or len(note) > MAX_NOTE:
        raise InvalidOrder(_("The note can have at most %(n)d characters.") % {"n": MAX_NOTE}, field="note")
    if item.needs_note and not note.strip():
        raise InvalidOrder(
            _("%(item)s needs a note (for example diet or allergens).") % {"item": item.display_name()},
            field="note",
        )
    if not booking.span.lower <= deliver_at < booking.span.upper:
        raise InvalidOrder(_("The delivery time must lie within the booking."), field="deliver_at")


def lock_booking(booking_id: int) -> Booking:
    """Lock the booking: a cancellation waits for this order to commit, or this order sees it cancelled."""
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site")
        .get(pk=booking_id)
    )


@transaction.atomic
def order_service(
    *,
    booking: Booking,
    item: Item,
    actor: User,
    quantity: int | None = None,
    note: str = "",
    deliver_at: datetime | None = None,
    cost_centre: str | None = None,
    now: datetime | None = None,
) -> Order:
    """Add an order line to a booking.

    Raises OrderNotAllowed (not the caller's booking), OrderRefused (booking not active,
    cut-off passed, not delivered then) or InvalidOrder (bad input), and then writes nothing.
    """
    now = now or timezone.now()
    booking = lock_booking(booking.pk)
    if not can_manage(actor, booking):
        raise OrderNotAllowed(_("Only the organizer can order services for this booking."))
    if not booking.is_active or booking.span.upper <= now:
        raise OrderRefused(_("Services can only be ordered for an active, upcoming booking."))
    deliver_at = deliver_at or booking.span.lower
    quantity = default_quantity(item, booking) if quantity is None else quantity
    note = (note or "").strip()
    _check_item(item, booking, quantity=quantity, note=note, deliver_at=deliver_at)
    site = booking.room.floor.building.site
    tz = site.tz
    limit = cutoff.deadline(
        item, deliver_at=deliver_at, tz=tz, closed=cutoff.closed_days(site.pk, deliver_at.date())
    )
    if now > limit:
        raise OrderRefused(cutoff_message(item, deliver_at=deliver_at, limit=limit, now=now, tz=tz))
    if not cutoff.delivered_then(item, deliver_at=deliver_at, tz=tz):
        raise OrderRefused(
            _("%(provider)s does not deliver %(item)s at this time (%(days)s, %(start)s–%(end)s).")
            % {
                "provider": item.provider.name,
                "item": item.display_name(),
                "days": ", ".join(
                    str(WEEKDAYS_ABBR[int(d) - 1]) for d in item.delivery_weekdays if d in "1234567"
                ),
                "start": formats.time_format(item.delivery_from, "TIME_FORMAT"),
                "end": formats.time_format(item.delivery_until, "TIME_FORMAT"),
            }
        )
    # Unnamed, the line goes where the booking's room goes: its cost centre, else the booker's default.
    centre = costcentres.resolve(
        user=actor, code=cost_centre, day=deliver_at.astimezone(tz).date(), booking=booking
    )
    order = Order.objects.create(
        booking=booking,
        item=item,
        quantity=quantity,
        price=item.price,
        amount=charge(quantity, item.price),
        currency=item.currency,
        deliver_at=deliver_at,
        note=note,
        cost_centre=centre,
        ordered_by=actor,
        created_at=now,
        changed_at=now,
    )
    mail.announce(order, "order.created", now=now)
    return order


def deadline_of(order: Order, *, deliver_at: datetime | None = None) -> datetime:
    """The cut-off of a line (for ``deliver_at`` when it would move there)."""
    site = order.booking.room.floor.building.site
    deliver_at = deliver_at or order.deliver_at
    return cutoff.deadline(
        order.item, deliver_at=deliver_at, tz=site.tz, closed=cutoff.closed_days(site.pk, deliver_at.date())
    )


def late_percent(order: Order, *, now: datetime) -> int:
    """What a cancellation now still charges: nothing before the cut-off, the item's late share after."""
    return order.item.late_charge_percent if now > deadline_of(order) else 0


def still_charged(order: Order, *, percent: int) -> Decimal:
    """A cancelled line's charge: ``percent`` of its quantity and what earlier late reductions left."""
    return charge(Decimal(order.quantity) * percent / 100 + order.late_quantity, order.price)


def late_charges(*, booking: Booking, now: datetime | None = None) -> list[LateCharge]:
    """The lines a cancellation now would still charge (for the confirmation question)."""
    now = now or timezone.now()
    found = []
    for order in booking.orders.filter(status__in=Order.ACTIVE).select_related(
        "item", "booking__room__floor__building__site"
    ):
        percent = late_percent(order, now=now)
        if percent or order.late_quantity:
            found.append(
                LateCharge(order=order, percent=percent, amount=still_charged(order, percent=percent))
            )
    return found


def late_charge_notices(*, bookings: list[Booking], now: datetime) -> list[str]:
    """The cancel notice (bookings.hooks): each line cancelling these bookings now would still charge."""
    notices = []
    for booking in bookings:
        tz = booking.room.floor.building.site.tz
        for late in late_charges(booking=booking, now=now):
            notices.append(
                _(
                    "%(item)s on %(day)s: the cut-off has passed, so cancelling still charges "
                    "%(percent)d %% (%(amount)s %(currency)s)."
                )
                % {
                    "item": late.order.item.display_name(),
                    "day": formats.date_format(
                        late.order.deliver_at.astimezone(tz).date(), "SHORT_DATE_FORMAT"
                    ),
                    "percent": late.percent,
                    "amount": formats.number_format(late.amount, 2),
                    "currency": late.order.currency,
                }
            )
    return notices


def reduction_charge(order: Order, *, quantity: int, now: datetime) -> Decimal:
    """What taking a line down to ``quantity`` now still charges for the part taken off."""
    if quantity >= order.quantity:
        return Decimal("0.00")
    return charge(order.quantity - quantity, order.price, late_percent(order, now=now))


def _cancel(order: Order, *, now: datetime) -> None:
    order.charged_percent = late_percent(order, now=now)
    order.status = Order.Status.CANCELLED
    order.cancelled_at = order.changed_at = now
    order.version += 1
    order.save(update_fields=["charged_percent", "status", "cancelled_at", "changed_at", "version"])
    mail.announce(order, "order.cancelled", now=now)


def cancel_orders_of(*, booking: Booking, actor: User, now: datetime) -> None:
    """The cancel hook (bookings.hooks): a cancelled booking's open orders end with it, in its transaction."""
    for order in (
        booking.orders.select_for_update(of=("self",))
        .filter(status__in=Order.ACTIVE)
        .select_related("item", "booking__room__floor__building__site")
    ):
        _cancel(order, now=now)


@transaction.atomic
def cancel_order(*, order: Order, actor: User, now: datetime | None = None) -> Order:
    """Cancel one line; after its cut-off the item's late share stays charged. Raises OrderNotAllowed."""
    now = now or timezone.now()
    booking = lock_booking(order.booking_id)
    if not can_manage(actor, booking):
        raise OrderNotAllowed(_("Only the organizer can change the services of this booking."))
    order = (
        Order.objects.select_for_update()
        .select_related("item", "booking__room__floor__building__site")
        .get(pk=order.pk)
    )
    if order.status != Order.Status.CANCELLED:
        _cancel(order, now=now)
    return order


@transaction.atomic
def change_order(
    *, order: Order, actor: User, quantity: int, confirmed: bool = False, now: datetime | None = None
) -> Order:
    """The booker changes a line's quantity.

    Before the cut-off anything within the item's limits goes; after it more is refused
    (the provider has planned) and less keeps the item's late share of the part taken off
    charged, which the booker must have been told (``reduction_charge``) and ``confirmed``.
    Raises OrderNotAllowed, OrderRefused (also LateChargeUnconfirmed) or InvalidOrder, and
    then writes nothing.
    """
    now = now or timezone.now()
    booking = lock_booking(order.booking_id)
    if not can_manage(actor, booking):
        raise OrderNotAllowed(_("Only the organizer can change the services of this booking."))
    order = (
        Order.objects.select_for_update()
        .select_related("item__provider", "booking__room__floor__building__site")
        .get(pk=order.pk)
    )
    if order.status not in (Order.Status.ORDERED, Order.Status.CONFIRMED) or booking.span.upper <= now:
        raise OrderRefused(_("This line can no longer be changed."))
    item = order.item
    if not item.min_quantity <= quantity <= item.max_quantity:
        raise InvalidOrder(
            _("The quantity must be between %(min)d and %(max)d.")
            % {"min": item.min_quantity, "max": item.max_quantity},
            field="quantity",
        )
    if quantity == order.quantity:
        return order
    limit = deadline_of(order)
    if now > limit:
        if quantity > order.quantity:
            raise OrderRefused(
                cutoff_message(
                    item,
                    deliver_at=order.deliver_at,
                    limit=limit,
                    now=now,
                    tz=booking.room.floor.building.site.tz,
                )
            )
        late = reduction_charge(order, quantity=quantity, now=now)
        if late and not confirmed:
            raise LateChargeUnconfirmed(
                _(
                    "The cut-off has passed: %(percent)d %% of what you take off is still charged "
                    "(%(amount)s %(currency)s). Please confirm the change."
                )
                % {
                    "percent": item.late_charge_percent,
                    "amount": formats.number_format(late, 2),
                    "currency": order.currency,
                },
                amount=late,
            )
        order.late_quantity += Decimal(order.quantity - quantity) * item.late_charge_percent / 100
    order.quantity = quantity
    order.amount = charge(quantity + order.late_quantity, order.price)
    order.changed_at = now
    order.version += 1
    order.save(update_fields=["quantity", "late_quantity", "amount", "changed_at", "version"])
    mail.announce(order, "order.changed", now=now)
    return order


def may_work(user: User, provider) -> bool:
    """Members of the provider's group, and facility admins, work its orders."""
    return user.is_superuser or bool(provider.group_id and user.groups.filter(pk=provider.group_id).exists())


STATUS_STEPS = [Order.Status.ORDERED, Order.Status.CONFIRMED, Order.Status.DELIVERED]


def look_at_day_list(*, provider, user: User, now: datetime) -> datetime | None:
    """Record that ``user`` opens the provider's day list now; returns the look before (None: the first).

    One row per provider and user; two tabs opening it at once both end with a row, the database decides.
    """
    with transaction.atomic():
        look = DayListLook.objects.select_for_update().filter(provider=provider, user=user).first()
        if look is not None:
            previous = look.seen_at
            if now > previous:
                look.seen_at = now
                look.save(update_fields=["seen_at"])
            return previous
    try:
        with transaction.atomic():
            DayListLook.objects.create(provider=provider, user=user, seen_at=now)
    except IntegrityError:
        pass  # the other tab's first look came first
    return None


@transaction.atomic
def set_status(*, order: Order, actor: User, status: str, now: datetime | None = None) -> Order:
    """The provider confirms or delivers a line; raises OrderNotAllowed or InvalidOrder."""
    order = Order.objects.select_for_update().select_related("item__provider").get(pk=order.pk)
    if not may_work(actor, order.item.provider):
        raise OrderNotAllowed(_("Only the provider's staff can set the status of its orders."))
    if status not in (Order.Status.CONFIRMED, Order.Status.DELIVERED):
        raise InvalidOrder(_("This status cannot be set."), field="status")
    if order.status == Order.Status.CANCELLED:
        raise InvalidOrder(_("This order was cancelled."), field="status")
    if STATUS_STEPS.index(status) < STATUS_STEPS.index(order.status):
        # Only forward: ordered → confirmed → delivered (a wrong delivery is corrected, not undone).
        raise InvalidOrder(
            _("This line is already %(status)s.") % {"status": order.get_status_display()}, field="status"
        )
    if order.status != status:
        order.status = status
        order.save(update_fields=["status"])
    return order


@transaction.atomic
def correct_order(
    *,
    order: Order,
    actor: User,
    quantity: int | None = None,
    not_delivered: bool = False,
    now: datetime | None = None,
) -> Order:
    """Provider staff correct a line, also after delivery: the quantity, or not delivered (nothing charged).

    A line already exported is reversed and posted anew by the next export. Raises
    OrderNotAllowed or InvalidOrder.
    """
    now = now or timezone.now()
    order = Order.objects.select_for_update().select_related("item__provider").get(pk=order.pk)
    if not may_work(actor, order.item.provider):
        raise OrderNotAllowed(_("Only the provider's staff can correct its orders."))
    if quantity is not None:
        if not order.item.min_quantity <= quantity <= order.item.max_quantity:
            raise InvalidOrder(
                _("The quantity must be between %(min)d and %(max)d.")
                % {"min": order.item.min_quantity, "max": order.item.max_quantity},
                field="quantity",
            )
        order.quantity = quantity
        order.amount = charge(quantity + order.late_quantity, order.price)
    if not_delivered:
        order.status = Order.Status.CANCELLED
        order.cancelled_at = now
        order.charged_percent = 0
        order.late_quantity = Decimal("0")
    order.version += 1
    order.save()
    return order


def move_orders_of(*, booking: Booking, actor: User, now: datetime, old_start: datetime) -> None:
    """The move hook (bookings.hooks): open lines keep their offset to the start, on the same day.

    Raises OrderRefused when a line cannot follow (another day or site, a time the provider
    does not deliver, a cut-off passed): the booker is asked to cancel those lines first.
    """
    site = booking.room.floor.building.site
    shift = booking.span.lower - old_start
    for order in (
        booking.orders.select_for_update(of=("self",))
        .filter(status__in=Order.ACTIVE)
        .select_related("item__provider")
    ):
        moved = order.deliver_at + shift
        tz = site.tz
        limit = cutoff.deadline(
            order.item, deliver_at=moved, tz=tz, closed=cutoff.closed_days(site.pk, moved.date())
        )
        follows = (
            order.item.provider.site_id == site.pk
            and moved.astimezone(tz).date() == order.deliver_at.astimezone(tz).date()
            and booking.span.lower <= moved < booking.span.upper
            and cutoff.delivered_then(order.item, deliver_at=moved, tz=tz)
            and (shift == timedelta(0) or now <= limit)
        )
        if not follows:
            raise OrderRefused(
                _("%(item)s cannot move with the booking: please cancel it first, then move the booking.")
                % {"item": order.item.display_name()}
            )
        if shift:
            order.deliver_at = moved
            order.changed_at = now
            order.version += 1
            order.save(update_fields=["deliver_at", "changed_at", "version"])
            mail.announce(order, "order.changed", now=now)


@dataclass(frozen=True)
class SeriesOrder:
    ordered: list[Order]
    skipped: list[tuple[Booking, str]]  # an occurrence and why it got nothing


@transaction.atomic
def order_for_series(
    *,
    series,
    item: Item,
    actor: User,
    quantity: int | None = None,
    note: str = "",
    cost_centre: str | None = None,
    now: datetime | None = None,
) -> SeriesOrder:
    """Order a service for every upcoming date of a series; dates past the cut-off or not delivered are named.

    Raises OrderNotAllowed or InvalidOrder (bad input, the same for every date), and then writes nothing.
    """
    now = now or timezone.now()
    result = SeriesOrder(ordered=[], skipped=[])
    for booking in future_occurrences(series_id=series.pk, now=now):
        try:
            # A savepoint per date: one refused date leaves the others ordered.
            with transaction.atomic():
                result.ordered.append(
                    order_service(
                        booking=booking,
                        item=item,
                        actor=actor,
                        quantity=quantity,
                        note=note,
                        cost_centre=cost_centre,
                        now=now,
                    )
                )
        except OrderRefused as exc:
            result.skipped.append((booking, exc.message))
    return result
