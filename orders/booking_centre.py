"""The cost centre a booking names: its room is charged there, and its service lines default to it.

Without one, the room goes to the organizer's default cost centre (rooms.receiver_of). It
is chosen in the booking dialog (with the services), on the booking's services page and
through the API (``PUT /api/v1/bookings/{id}/cost-centre``), and checked like a service
line's: an unknown cost centre, or one not valid on the booking's day, is refused with
the reason and nothing is written.

The dialog names it before the booking exists, yet a site that requires a cost centre
checks it while the booking is created (the create hook, rooms.check_priced_booking). So
the dialog books inside ``chosen_for_new_bookings(code)``, and the create hook attaches
the code to each booking made in that block, in the booking's own transaction, before
the check runs. The block resets what it set, so no other request sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking
from bookings.services.bookings import can_manage

from . import costcentres
from .errors import OrderNotAllowed, OrderRefused
from .models import BookingCostCentre, CostCentre

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_chosen: ContextVar[str | None] = ContextVar("booking_cost_centre", default=None)


@contextmanager
def chosen_for_new_bookings(code: str | None) -> Iterator[None]:
    """Bookings created in this block name ``code`` (None or empty: nothing is named)."""
    token = _chosen.set((code or "").strip() or None)
    try:
        yield
    finally:
        _chosen.reset(token)


def _day(booking: Booking):
    return booking.span.lower.astimezone(booking.room.floor.building.site.tz).date()


def _attach(booking: Booking, code: str, *, actor: User, now: datetime) -> CostCentre:
    centre = costcentres.resolve(user=actor, code=code, day=_day(booking))
    BookingCostCentre.objects.update_or_create(
        booking=booking, defaults={"cost_centre": centre, "set_by": actor, "set_at": now}
    )
    return centre


def attach_chosen(*, booking: Booking, actor: User, now: datetime) -> None:
    """Part of the create hook: name the block's cost centre on the new booking; raises InvalidOrder."""
    code = _chosen.get()
    if code:
        _attach(booking, code, actor=actor, now=now)


@transaction.atomic
def set_booking_cost_centre(
    *, booking: Booking, actor: User, code: str | None, now: datetime | None = None
) -> CostCentre | None:
    """Name the booking's cost centre (None or empty: back to the organizer's default); returns it.

    Raises OrderNotAllowed (not the caller's booking), OrderRefused (the booking has taken
    place or is cancelled: its charges are final) or InvalidOrder (unknown, or not valid on
    the booking's day), and then writes nothing.
    """
    now = now or timezone.now()
    # Locked so a cancellation or a move waits for this change (or this sees it).
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site")
        .get(pk=booking.pk)
    )
    if not can_manage(actor, booking):
        raise OrderNotAllowed(_("Only the organizer can change the cost centre of this booking."))
    if not booking.is_active or booking.span.upper <= now:
        raise OrderRefused(_("The cost centre can only be changed for an active, upcoming booking."))
    code = (code or "").strip()
    if not code:
        BookingCostCentre.objects.filter(booking=booking).delete()
        return None
    return _attach(booking, code, actor=actor, now=now)
