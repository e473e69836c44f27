"""Approvals: pending bookings hold their slot until a room manager decides.

A request is decided once: approved (confirmed), rejected, or expired when nobody
answered by its ``decision_due_at``. Rejected and expired requests free the slot
(the exclusion constraints cover only active bookings); the audit log keeps who
decided, when and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import hooks
from ..errors import InvalidBooking, NotAllowed
from ..models import Booking, BookingEvent, Series
from ..rules.groups import is_manager, managed_rooms_filter
from ..rules.resolve import rules_for
from ..spans import storable
from . import audit
from .meeting_locks import lock_meetings_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A link in a mail lets one manager decide one request without signing in first.
DECISION_SALT = "rfr.approval-decision"
DECISION_LINK_MAX_AGE = 7 * 24 * 3600
MAX_REASON = 500
# Expiry works in batches so one run never holds thousands of row locks.
EXPIRE_BATCH = 500
# The queue shows what was decided this long ago.
HISTORY_DAYS = 30
DECIDED = (BookingEvent.Kind.APPROVED, BookingEvent.Kind.REJECTED, BookingEvent.Kind.EXPIRED)


def decision_token(*, booking_id: int, manager_id: int) -> str:
    """A signed token naming the request and the manager it was sent to."""
    return signing.dumps({"b": booking_id, "m": manager_id}, salt=DECISION_SALT, compress=True)


def decision_link(*, booking_id: int, manager_id: int) -> str:
    """The absolute URL of the page where that manager approves or rejects the request."""
    token = decision_token(booking_id=booking_id, manager_id=manager_id)
    return settings.RFR_PUBLIC_URL + reverse("bookings:decide", args=[token])


def read_decision_token(token: str) -> tuple[int, int]:
    """(booking id, manager id) of a token; raises signing.BadSignature (also when expired)."""
    data = signing.loads(token, salt=DECISION_SALT, max_age=DECISION_LINK_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("b"), int) or not isinstance(data.get("m"), int):
        raise signing.BadSignature("malformed decision token")
    return data["b"], data["m"]


# --- reads for the queue (UI and API) ------------------------------------------------


def managed(user: User) -> QuerySet[Booking]:
    """Bookings in the rooms the user manages."""
    return Booking.objects.filter(managed_rooms_filter(user))


def pending_requests(user: User) -> QuerySet[Booking]:
    """Requests waiting for a decision in the rooms the user manages, by start."""
    return (
        managed(user)
        .filter(status=Booking.Status.PENDING)
        # A meeting's room that only waits for another room's decision is nobody's to decide.
        .exclude(meeting_room__waits=True)
        .select_related("room__floor__building__site", "organizer", "series")
        .order_by("span", "pk")
    )


def recent_decisions(user: User, *, now: datetime) -> QuerySet[BookingEvent]:
    """Approvals, rejections and expiries of the last HISTORY_DAYS in the rooms the user manages."""
    return (
        BookingEvent.objects.filter(
            kind__in=DECIDED,
            at__gte=now - timedelta(days=HISTORY_DAYS),
            booking__in=managed(user).values("pk"),
        )
        .select_related("booking__room__floor__building__site", "booking__organizer", "actor")
        .order_by("-at", "-pk")
    )


def may_decide(user: User, booking: Booking) -> bool:
    """Whether the user manages the booking's room (and still works here)."""
    return bool(user.is_active) and is_manager(user, rules_for(booking.room))


def decided_message(booking: Booking) -> str:
    """Why a request can no longer be decided, for the manager who tried."""
    if booking.status == Booking.Status.CONFIRMED:
        return _("This request has already been approved.")
    if booking.status == Booking.Status.CANCELLED:
        return _("The organizer has withdrawn this request.")
    if booking.status == Booking.Status.REJECTED:
        last = booking.events.filter(kind__in=[BookingEvent.Kind.REJECTED, BookingEvent.Kind.EXPIRED]).first()
        if last is not None and last.kind == BookingEvent.Kind.EXPIRED:
            return _("This request has expired: nobody decided it in time.")
        return _("This request has already been rejected.")
    return _("This request has already been decided.")


def clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidBooking(
            _("The reason can have at most %(n)d characters.") % {"n": MAX_REASON}, field="reason"
        )
    if not storable(reason):
        raise InvalidBooking(_("This value is not valid."), field="reason")
    return reason


def _lock(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "organizer")
        .get(pk=booking.pk)
    )


def _check_decidable(booking: Booking, *, actor: User) -> None:
    # Refuse strangers before telling them anything about the request's state.
    if not may_decide(actor, booking):
        raise NotAllowed(_("Only the managers of this room can approve or reject its requests."))
    if booking.status != Booking.Status.PENDING:
        raise InvalidBooking(decided_message(booking), field="status")


def _decide(
    booking: Booking,
    *,
    status: str,
    kind: str,
    actor: User | None,
    now: datetime,
    changes: dict | None = None,
    announce: bool = True,
) -> None:
    booking.status = status
    booking.version += 1
    booking.save(update_fields=["status", "version", "updated_at"])
    audit.record(booking, kind=kind, actor=actor, at=now, changes=changes, announce=announce)
    # The other rooms of a meeting that wait for this decision follow it (services.meetings).
    hooks.booking_decided(booking=booking, now=now)


def _expire(booking: Booking, *, now: datetime) -> None:
    _decide(booking, status=Booking.Status.REJECTED, kind=BookingEvent.Kind.EXPIRED, actor=None, now=now)


def _past_due(booking: Booking, now: datetime) -> bool:
    return booking.decision_due_at is not None and booking.decision_due_at <= now


def _decide_in_time(
    booking: Booking,
    *,
    actor: User,
    now: datetime,
    status: str,
    kind: str,
    changes: dict | None = None,
    approving: bool = False,
) -> Booking:
    """Decide a pending request, or expire it when its decision deadline has passed.

    The deadline holds at the moment of the decision, not when the expiry job next runs.
    The expiry is committed before the refusal is raised, so the slot is free at once.
    """
    with transaction.atomic():
        # A meeting's rooms are locked together, in the order moves and cancellations take them.
        lock_meetings_of([booking.pk])
        booking = _lock(booking)
        _check_decidable(booking, actor=actor)
        if approving and booking.span.upper <= now:
            raise InvalidBooking(_("This request has ended; it can no longer be approved."), field="end")
        expired = _past_due(booking, now)
        if expired:
            _expire(booking, now=now)
        else:
            _decide(booking, status=status, kind=kind, actor=actor, now=now, changes=changes)
    if expired:
        raise InvalidBooking(decided_message(booking), field="status")
    return booking


def approve_booking(*, booking: Booking, actor: User, now: datetime | None = None) -> Booking:
    """Confirm a pending request; raises NotAllowed or InvalidBooking (decided, ended, expired)."""
    return _decide_in_time(
        booking,
        actor=actor,
        now=now or timezone.now(),
        status=Booking.Status.CONFIRMED,
        kind=BookingEvent.Kind.APPROVED,
        approving=True,
    )


def reject_booking(
    *, booking: Booking, actor: User, reason: str = "", now: datetime | None = None
) -> Booking:
    """Reject a pending request, freeing its slot; raises NotAllowed or InvalidBooking (decided, expired)."""
    reason = clean_reason(reason)
    return _decide_in_time(
        booking,
        actor=actor,
        now=now or timezone.now(),
        status=Booking.Status.REJECTED,
        kind=BookingEvent.Kind.REJECTED,
        changes={"reason": reason},
    )


def _pending_occurrences(series: Series, *, actor: User, now: datetime, ended_too: bool) -> list[Booking]:
    """The series' pending occurrences the actor may decide, locked; raises NotAllowed or InvalidBooking."""
    series = Series.objects.select_related("room__floor__building__site").get(pk=series.pk)
    if not (actor.is_active and is_manager(actor, rules_for(series.room))):
        raise NotAllowed(_("Only the managers of this room can approve or reject its requests."))
    lock_meetings_of(
        list(
            Booking.objects.filter(series=series, status=Booking.Status.PENDING).values_list("pk", flat=True)
        )
    )
    qs = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "organizer")
        .filter(series=series, status=Booking.Status.PENDING)
        .order_by("span")
    )
    if not ended_too:
        qs = qs.filter(span__endswith__gt=now)
    # An occurrence moved to another room on its own is decided by that room's managers.
    manages: dict[int, bool] = {series.room_id: True}
    mine = []
    for booking in qs:
        if booking.room_id not in manages:
            manages[booking.room_id] = is_manager(actor, rules_for(booking.room))
        if manages[booking.room_id]:
            mine.append(booking)
    if not mine:
        raise InvalidBooking(_("No date of this series is waiting for a decision."), field="status")
    return mine


def approve_series(*, series: Series, actor: User, now: datetime | None = None) -> list[Booking]:
    """Confirm every pending, not yet ended occurrence; raises NotAllowed or InvalidBooking (none left).

    Occurrences past their decision deadline expire instead of being approved.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = _pending_occurrences(series, actor=actor, now=now, ended_too=False)
        approved = [b for b in pending if not _past_due(b, now)]
        for booking in pending:
            if booking in approved:
                _decide(
                    booking,
                    status=Booking.Status.CONFIRMED,
                    kind=BookingEvent.Kind.APPROVED,
                    actor=actor,
                    now=now,
                )
            else:
                _expire(booking, now=now)
    if not approved:
        raise InvalidBooking(_("This request has expired: nobody decided it in time."), field="status")
    return approved


@transaction.atomic
def reject_series(
    *, series: Series, actor: User, reason: str = "", now: datetime | None = None
) -> list[Booking]:
    """Reject every pending occurrence; raises NotAllowed or InvalidBooking (none left, reason)."""
    now = now or timezone.now()
    reason = clean_reason(reason)
    rejected = _pending_occurrences(series, actor=actor, now=now, ended_too=True)
    for booking in rejected:
        _decide(
            booking,
            status=Booking.Status.REJECTED,
            kind=BookingEvent.Kind.REJECTED,
            actor=actor,
            now=now,
            changes={"reason": reason},
        )
    return rejected


@transaction.atomic
def expire_pending(
    *, now: datetime | None = None, limit: int = EXPIRE_BATCH, ids: list[int] | None = None
) -> int:
    """Reject the requests nobody decided by their due time (kind EXPIRED); returns how many.

    ``ids``: only these (a booking that needs the slot now), else any that are due.
    """
    now = now or timezone.now()
    # A request a manager is deciding right now is locked: skip it; it is decided or
    # expires on the next run.
    candidates = Booking.objects.select_for_update(of=("self",), skip_locked=True).filter(
        status=Booking.Status.PENDING, decision_due_at__lte=now
    )
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    due = list(candidates.order_by("decision_due_at", "pk")[:limit])
    expired = 0
    for booking in due:
        # A meeting being moved or decided right now holds its lock: its room expires on the next
        # run (waiting for it here, holding this room, could deadlock with that transaction).
        if lock_meetings_of([booking.pk], skip_locked=True):
            _expire(booking, now=now)
            expired += 1
    return expired
