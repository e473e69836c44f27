"""The waiting list: queue for a taken slot, get it booked when it frees up, leave the line.

Promotion books through ``create_booking`` like anyone else, so the exclusion constraint
decides between a waiting person and someone booking the freed slot directly: exactly one
of them gets it, and the other hears "taken" (the waiting person simply stays in line).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..combinations import sharing
from ..conflicts import find_conflicts
from ..errors import BookingConflict, InvalidBooking, NotAllowed, PolicyViolation
from ..models import Booking, Room, WaitingEntry
from ..rules.resolve import rules_for
from ..spans import make_span, validate_times
from .bookings import check_bookable, clean_title, create_booking, lock_room

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Places in line one person may hold at once.
MAX_WAITING = 20
PROMOTE_BATCH = 200


def join_waiting_list(
    *, person: User, room: Room, title: str, start: datetime, end: datetime, now: datetime | None = None
) -> WaitingEntry:
    """Queue ``person`` for a taken slot; joining again for the same slot changes nothing.

    Raises InvalidBooking for bad times, a room that cannot be booked, a free slot (book it
    instead) or too many places in line.
    """
    now = now or timezone.now()
    validate_times(start, end, now=now)
    check_bookable(room)
    title = clean_title(title)
    span = make_span(start, end)
    rules = rules_for(room)
    if not find_conflicts(room.pk, span, before=rules.buffer_before, after=rules.buffer_after):
        raise InvalidBooking(_("The room is free at this time: book it directly."), field="start")
    existing = WaitingEntry.objects.filter(
        person=person, room=room, span=span, status=WaitingEntry.Status.WAITING
    ).first()
    if existing is not None:
        return existing
    waiting = WaitingEntry.objects.filter(person=person, status=WaitingEntry.Status.WAITING)
    if waiting.count() >= MAX_WAITING:
        raise InvalidBooking(
            _("You are already waiting for %(n)d slots; leave one of them first.") % {"n": MAX_WAITING},
            field="room",
        )
    try:
        # The unique constraint keeps one place per person and slot, also when sent twice at once.
        with transaction.atomic():
            return WaitingEntry.objects.create(person=person, room=room, span=span, title=title)
    except IntegrityError:
        return WaitingEntry.objects.get(
            person=person, room=room, span=span, status=WaitingEntry.Status.WAITING
        )


def leave_waiting_list(*, entry: WaitingEntry, actor: User, now: datetime | None = None) -> None:
    """Give up a place in line; repeating it is harmless. Raises NotAllowed for someone else's."""
    if actor.pk != entry.person_id and not actor.has_perm("bookings.change_booking"):
        raise NotAllowed(_("Only the person waiting can leave the waiting list."))
    WaitingEntry.objects.filter(pk=entry.pk, status=WaitingEntry.Status.WAITING).update(
        status=WaitingEntry.Status.WITHDRAWN, decided_at=now or timezone.now()
    )


def promote_waiting(*, room_id: int | None = None, now: datetime | None = None) -> list[WaitingEntry]:
    """Book freed slots for those waiting, first come first served; returns the entries booked.

    ``room_id``: only that room's line (and the lines of rooms sharing a part with it).
    An entry whose slot is still taken stays in line; one the rules no longer allow (a
    quota reached, the person has left) leaves it with the reason, and the next one is tried.
    """
    now = now or timezone.now()
    queue = WaitingEntry.objects.filter(status=WaitingEntry.Status.WAITING, span__startswith__gt=now)
    if room_id is not None:
        queue = queue.filter(room_id__in=sharing(room_id))
    ids = list(queue.order_by("created_at", "pk").values_list("pk", flat=True)[:PROMOTE_BATCH])
    return [entry for pk in ids if (entry := _promote(pk, now=now)) is not None]


@transaction.atomic
def _promote(pk: int, *, now: datetime) -> WaitingEntry | None:
    room_id = WaitingEntry.objects.filter(pk=pk).values_list("room_id", flat=True).first()
    if room_id is None:
        return None
    # The room's lock first (create_booking takes it again): promoters of one room take
    # turns, so nobody later in line is booked while an earlier entry is being tried.
    lock_room(room_id)
    entry = (
        WaitingEntry.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "person")
        .filter(pk=pk, status=WaitingEntry.Status.WAITING)
        .first()
    )
    if entry is None:
        return None  # promoted, withdrawn or expired meanwhile
    rules = rules_for(entry.room)
    if find_conflicts(entry.room_id, entry.span, before=rules.buffer_before, after=rules.buffer_after):
        return None  # still taken: stay in line (and the rules are asked only when it is free)
    person = entry.person
    try:
        if not person.is_active:
            raise NotAllowed(_("The person waiting is no longer active."))
        booking = create_booking(
            room=entry.room,
            organizer=person,
            title=entry.title,
            start=entry.span.lower,
            end=entry.span.upper,
            source=Booking.Source.WEB,
            now=now,
            note={"waiting_list": entry.pk},
        )
    except BookingConflict:
        return None  # taken again meanwhile (an overdue booking, say): stay in line
    except (PolicyViolation, InvalidBooking, NotAllowed) as exc:
        entry.status, entry.reason, entry.decided_at = WaitingEntry.Status.REFUSED, exc.message[:500], now
        entry.save(update_fields=["status", "reason", "decided_at"])
        return None
    entry.status, entry.booking, entry.decided_at = WaitingEntry.Status.BOOKED, booking, now
    entry.save(update_fields=["status", "booking", "decided_at"])
    return entry


def expire_waiting(*, now: datetime | None = None) -> int:
    """End the entries whose time has come without a free slot; returns how many."""
    now = now or timezone.now()
    return WaitingEntry.objects.filter(status=WaitingEntry.Status.WAITING, span__startswith__lte=now).update(
        status=WaitingEntry.Status.EXPIRED, decided_at=now
    )
