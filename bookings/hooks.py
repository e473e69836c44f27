"""Apps above bookings that must act inside a booking's own transaction register here.

The outbox tells other apps about a change after commit; some consequences cannot wait
for that. A new booking may be refused by them (a site that requires a cost centre for
a priced room). Cancelling a booking must cancel its service orders in the same transaction,
or a kitchen could deliver to a meeting that is no longer there; moving it moves them,
or refuses the move when they cannot follow. Bookings never import
those apps (arrows point one way): each registers a callable in its AppConfig.ready(),
and the cancelling service calls them all on the locked booking before it commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models import Booking


class OnCancel(Protocol):
    def __call__(self, *, booking: Booking, actor: User, now: datetime) -> None: ...


class OnCreate(Protocol):
    def __call__(self, *, booking: Booking, actor: User, now: datetime) -> None: ...


class OnMove(Protocol):
    def __call__(self, *, booking: Booking, actor: User, now: datetime, old_start: datetime) -> None: ...


class OnDecide(Protocol):
    def __call__(self, *, booking: Booking, now: datetime) -> None: ...


class CancelNotice(Protocol):
    def __call__(self, *, bookings: list[Booking], now: datetime) -> list[str]: ...


class DialogPart(Protocol):
    """A section an app adds to the booking dialog (/book/), such as services.

    ``bind`` reads the posted data (None for an empty dialog) with what the dialog knows
    so far; the result renders itself from its ``template`` and, when the dialog books,
    the booking (or series) is created inside the result's ``creating()`` context (so the
    part's create hooks see what it names, such as a cost centre), then ``apply`` runs in
    the booking's own transaction (a BookingError refuses the booking) and returns the
    notes the booker is shown with the confirmation (dates a service could not be ordered for).
    """

    def bind(self, data, *, user: User, room, start: datetime | None, attendees: int, now: datetime): ...


_on_create: list[OnCreate] = []
_dialog_parts: list[DialogPart] = []
_on_cancel: list[OnCancel] = []
_on_move: list[OnMove] = []
_on_decide: list[OnDecide] = []
_cancel_notices: list[CancelNotice] = []


def on_create(hook: OnCreate) -> OnCreate:
    """Register ``hook`` to run in the transaction of every new booking, after its row is written."""
    if hook not in _on_create:
        _on_create.append(hook)
    return hook


def booking_created(*, booking: Booking, actor: User, now: datetime) -> None:
    """Run every registered hook; a hook that refuses (a BookingError) refuses the booking."""
    for hook in _on_create:
        hook(booking=booking, actor=actor, now=now)


def dialog_part(part: DialogPart) -> DialogPart:
    """Register a section of the booking dialog (once per part)."""
    if part not in _dialog_parts:
        _dialog_parts.append(part)
    return part


def dialog_parts() -> list[DialogPart]:
    """The registered sections of the booking dialog, in order of registration."""
    return list(_dialog_parts)


def on_cancel(hook: OnCancel) -> OnCancel:
    """Register ``hook`` to run in the transaction of every booking cancellation (once per hook)."""
    if hook not in _on_cancel:
        _on_cancel.append(hook)
    return hook


def booking_cancelled(*, booking: Booking, actor: User, now: datetime) -> None:
    """Run every registered hook; a hook's error rolls the cancellation back with it."""
    for hook in _on_cancel:
        hook(booking=booking, actor=actor, now=now)


def cancel_notice(hook: CancelNotice) -> CancelNotice:
    """Register ``hook``: what cancelling these bookings now would still cost, told before confirming."""
    if hook not in _cancel_notices:
        _cancel_notices.append(hook)
    return hook


def before_cancelling(*, bookings: list[Booking], now: datetime) -> list[str]:
    """Every registered app's notices for the cancel page (a service still charged after its cut-off)."""
    return [notice for hook in _cancel_notices for notice in hook(bookings=bookings, now=now)]


def on_move(hook: OnMove) -> OnMove:
    """Register ``hook`` to run in the transaction of every move of a booking (time or room)."""
    if hook not in _on_move:
        _on_move.append(hook)
    return hook


def booking_moved(*, booking: Booking, actor: User, now: datetime, old_start: datetime) -> None:
    """Run every registered hook; a hook that refuses (a BookingError) refuses the move."""
    for hook in _on_move:
        hook(booking=booking, actor=actor, now=now, old_start=old_start)


def on_decide(hook: OnDecide) -> OnDecide:
    """Register ``hook`` to run in the transaction of every decision on a request (approved,
    rejected, expired), after its row is written."""
    if hook not in _on_decide:
        _on_decide.append(hook)
    return hook


def booking_decided(*, booking: Booking, now: datetime) -> None:
    """Run every registered hook; a hook's error rolls the decision back with it."""
    for hook in _on_decide:
        hook(booking=booking, now=now)


__all__ = [
    "CancelNotice",
    "DialogPart",
    "OnCancel",
    "OnCreate",
    "OnDecide",
    "OnMove",
    "before_cancelling",
    "booking_cancelled",
    "booking_created",
    "booking_decided",
    "booking_moved",
    "cancel_notice",
    "dialog_part",
    "dialog_parts",
    "on_cancel",
    "on_create",
    "on_decide",
    "on_move",
]
