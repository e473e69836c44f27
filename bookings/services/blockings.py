"""Closures and blockings: a place is shut for a time (holiday, renovation).

A blocking refuses new bookings there except for its allowed groups (rules.catalogue.check
names it). Bookings it meets are not cancelled behind their owners' backs: each owner
is told through the outbox (topic ``blocking.created``) and decides, unless the admin,
after seeing them listed, cancels them with a message to each (``cancel_for_blocking``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import InvalidBooking
from ..models import Blocking, Booking, Building, Room, Site
from ..outbox import enqueue
from ..spans import make_span, storable, validate_span
from .bookings import mark_cancelled

if TYPE_CHECKING:
    from django.contrib.auth.models import Group, User


def affected_bookings(blocking: Blocking) -> QuerySet[Booking]:
    """Active bookings in the blocked place and time."""
    return Booking.objects.filter(
        blocking.bookings_here(), status__in=Booking.ACTIVE, span__overlap=blocking.span
    ).order_by("span")


def _validate(*, start: datetime, end: datetime, reason: str) -> str:
    validate_span(start, end)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidBooking(
            _("Please give a reason; it is shown to everyone who is refused."), field="reason"
        )
    if len(reason) > 200 or not storable(reason):
        raise InvalidBooking(_("The reason can have at most 200 characters."), field="reason")
    return reason


def announce_blocking(blocking: Blocking) -> list[int]:
    """Tell the owners of the bookings the blocking meets; returns their booking ids."""
    ids = list(affected_bookings(blocking).values_list("pk", flat=True))
    if ids:
        enqueue(topic="blocking.created", payload={"blocking": blocking.pk, "bookings": ids})
    return ids


@transaction.atomic
def cancel_for_blocking(*, blocking: Blocking, actor: User, message: str, now: datetime | None = None) -> int:
    """Cancel the active bookings a blocking meets, each with ``message`` as its reason.

    An admin's decision for the building, so the organizers' cancellation cut-off does not
    apply; each organizer gets the cancellation mail with the message. Returns how many.
    """
    now = now or timezone.now()
    message = (message or "").strip()
    if not message:
        raise InvalidBooking(
            _("Please write the organizers why their bookings are cancelled."), field="message"
        )
    done = 0
    for booking in affected_bookings(blocking).filter(span__endswith__gt=now).select_for_update():
        mark_cancelled(booking, actor=actor, now=now, reason=message[:500])
        done += 1
    return done


@transaction.atomic
def cancel_bookings(*, ids: list[int], actor: User, message: str, now: datetime | None = None) -> int:
    """Cancel the listed bookings that are still active and upcoming, each with ``message`` as
    its reason (an admin's decision, e.g. after a rule change; no cut-off). Returns how many."""
    now = now or timezone.now()
    message = (message or "").strip()
    if not message:
        raise InvalidBooking(
            _("Please write the organizers why their bookings are cancelled."), field="message"
        )
    done = 0
    for booking in Booking.objects.filter(
        pk__in=ids, status__in=Booking.ACTIVE, span__endswith__gt=now
    ).select_for_update():
        mark_cancelled(booking, actor=actor, now=now, reason=message[:500])
        done += 1
    return done


@transaction.atomic
def create_blocking(
    *,
    place: Site | Building | Room,
    start: datetime,
    end: datetime,
    reason: str,
    actor: User,
    allowed_groups: Iterable[Group] = (),
) -> Blocking:
    """Block a site, building or room; raises InvalidBooking for bad times or a missing reason."""
    reason = _validate(start=start, end=end, reason=reason)
    blocking = Blocking(span=make_span(start, end), reason=reason, created_by=actor)
    setattr(blocking, type(place).__name__.lower(), place)
    blocking.save()
    blocking.allowed_groups.set(allowed_groups)
    announce_blocking(blocking)
    return blocking


@transaction.atomic
def lift_blocking(*, blocking: Blocking, now: datetime | None = None) -> Blocking:
    """Lift a blocking (the row stays on record); lifting it twice changes nothing."""
    blocking = Blocking.objects.select_for_update().get(pk=blocking.pk)
    if blocking.cancelled_at is None:
        blocking.cancelled_at = now or timezone.now()
        blocking.save(update_fields=["cancelled_at"])
    return blocking
