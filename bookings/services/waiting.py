"""The waiting list: queue for a taken slot, get it booked when it frees up, leave the line.

Promotion books through ``create_booking`` like anyone else, so the exclusion constraint
decides between a waiting person and someone booking the freed slot directly: exactly one
of them gets it, and the other hears "taken" (the waiting person simply stays in line).

An entry for "any room like this in the building" takes the first free room of the
building with at least the wanted room's seats and equipment (the wanted room first).
Where the room's policy sets ``waiting_offer_minutes``, the promotion's booking is an
offer: it holds the slot, and unless the person accepts it in time it is cancelled and
the next in line gets their turn. An entry whose booking the rules refuse leaves the
line with the reason, and the person is told by mail (``waiting.refused``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..combinations import physical_parts, sharing
from ..conflicts import find_conflicts
from ..errors import BookingConflict, BookingError, InvalidBooking, NotAllowed, PolicyViolation
from ..models import Booking, Room, WaitingEntry
from ..outbox import enqueue
from ..rules.resolve import rules_for
from ..spans import make_span, validate_times
from .bookings import ROOM_LOCK, check_bookable, clean_title, create_booking, mark_cancelled

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Places in line one person may hold at once.
MAX_WAITING = 20
PROMOTE_BATCH = 200


def like_rooms(room: Room) -> list[Room]:
    """The room, then the bookable rooms of its building with at least its seats and every
    piece of its equipment, smallest first: the rooms an "any room like this" entry takes."""
    others = (
        Room.objects.filter(
            floor__building_id=room.floor.building_id, bookable=True, capacity__gte=room.capacity
        )
        .exclude(pk=room.pk)
        .select_related("floor__building__site")
    )
    for equipment_id in room.equipment.values_list("pk", flat=True):
        others = others.filter(equipment=equipment_id)
    return [room, *others.order_by("capacity", "name", "pk")]


def _free(room: Room, span: DateTimeTZRange) -> bool:
    rules = rules_for(room)
    return not find_conflicts(room.pk, span, before=rules.buffer_before, after=rules.buffer_after)


def join_waiting_list(
    *,
    person: User,
    room: Room,
    title: str,
    start: datetime,
    end: datetime,
    any_room: bool = False,
    now: datetime | None = None,
) -> WaitingEntry:
    """Queue ``person`` for a taken slot (``any_room``: or a room like it in the building);
    joining again for the same slot changes nothing but may widen it to any room.

    Raises InvalidBooking for bad times, a room that cannot be booked, a free slot (book it
    instead; with ``any_room`` also a free room like it) or too many places in line.
    """
    now = now or timezone.now()
    validate_times(start, end, now=now)
    check_bookable(room)
    title = clean_title(title)
    span = make_span(start, end)
    if _free(room, span):
        raise InvalidBooking(_("The room is free at this time: book it directly."), field="start")
    if any_room:
        free = next((r for r in like_rooms(room)[1:] if _free(r, span)), None)
        if free is not None:
            raise InvalidBooking(
                _("%(room)s is free at this time and like the room you want: book it directly.")
                % {"room": free.name},
                field="start",
            )
    existing = WaitingEntry.objects.filter(
        person=person, room=room, span=span, status=WaitingEntry.Status.WAITING
    ).first()
    if existing is not None:
        if any_room and not existing.any_room:
            existing.any_room = True
            existing.save(update_fields=["any_room"])
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
            return WaitingEntry.objects.create(
                person=person, room=room, span=span, title=title, any_room=any_room
            )
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
    """Book (or offer) freed slots to those waiting, first come first served; returns the entries promoted.

    ``room_id``: only the lines that room's freed time can serve: its own, those of rooms
    sharing a part with it, and the "any room like this" entries of its building. An entry
    whose slot is still taken stays in line; one the rules no longer allow (a quota reached,
    the person has left) leaves it with the reason, and the next one is tried.
    """
    now = now or timezone.now()
    queue = WaitingEntry.objects.filter(status=WaitingEntry.Status.WAITING, span__startswith__gt=now)
    if room_id is not None:
        building_id = Room.objects.filter(pk=room_id).values_list("floor__building_id", flat=True).first()
        queue = queue.filter(
            Q(room_id__in=sharing(room_id)) | Q(any_room=True, room__floor__building_id=building_id)
        )
    ids = list(queue.order_by("created_at", "pk").values_list("pk", flat=True)[:PROMOTE_BATCH])
    return [entry for pk in ids if (entry := _promote(pk, now=now)) is not None]


def _lock_rooms(rooms: list[Room]) -> None:
    """The room locks create_booking takes, for several rooms at once, in one order (no deadlock)."""
    parts = sorted({part for room in rooms for part in physical_parts(room.pk)})
    with connection.cursor() as cursor:
        for part_id in parts:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROOM_LOCK, part_id])


@transaction.atomic
def _promote(pk: int, *, now: datetime) -> WaitingEntry | None:
    entry = (
        WaitingEntry.objects.select_related("room__floor__building__site", "person")
        .filter(pk=pk, status=WaitingEntry.Status.WAITING)
        .first()
    )
    if entry is None:
        return None
    rooms = like_rooms(entry.room) if entry.any_room else [entry.room]
    # The rooms' locks first (create_booking takes them again): promoters of one room take
    # turns, so nobody later in line is booked while an earlier entry is being tried.
    _lock_rooms(rooms)
    entry = (
        WaitingEntry.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "person")
        .filter(pk=pk, status=WaitingEntry.Status.WAITING)
        .first()
    )
    if entry is None:
        return None  # promoted, withdrawn or expired meanwhile
    refusal: BookingError | None = None
    for room in rooms:
        if not _free(room, entry.span):
            continue  # still taken (and the rules are asked only where it is free)
        offer_until = _offer_until(room, entry, now=now)
        try:
            booking = _book(entry, room, offer_until=offer_until, now=now)
        except BookingConflict:
            continue  # taken again meanwhile (an overdue booking, say)
        except (PolicyViolation, InvalidBooking, NotAllowed) as exc:
            refusal = refusal or exc
            continue
        entry.status = WaitingEntry.Status.BOOKED if offer_until is None else WaitingEntry.Status.OFFERED
        entry.booking, entry.offer_until, entry.decided_at = booking, offer_until, now
        entry.save(update_fields=["status", "booking", "offer_until", "decided_at"])
        return entry
    if refusal is not None:
        # Free, but the rules say no (in every free room it would take): out of the line, told by mail.
        entry.status, entry.reason, entry.decided_at = WaitingEntry.Status.REFUSED, refusal.message[:500], now
        entry.save(update_fields=["status", "reason", "decided_at"])
        enqueue(topic="waiting.refused", payload={"entry": entry.pk, "reason": entry.reason})
    return None  # nothing free: stay in line


def _offer_until(room: Room, entry: WaitingEntry, *, now: datetime) -> datetime | None:
    """Until when the room's policy holds the slot for the person (at most until its start);
    None: it is booked for them at once."""
    hold = rules_for(room).waiting_offer
    return None if hold is None else max(min(now + hold, entry.span.lower), now)


def _book(entry: WaitingEntry, room: Room, *, offer_until: datetime | None, now: datetime) -> Booking:
    """The entry's booking in ``room``, through the same service as any booking; raises as create_booking."""
    if not entry.person.is_active:
        raise NotAllowed(_("The person waiting is no longer active."))
    note: dict = {"waiting_list": entry.pk}
    if offer_until is not None:
        note["offer_until"] = offer_until.isoformat()  # the mail says until when
    return create_booking(
        room=room,
        organizer=entry.person,
        title=entry.title,
        start=entry.span.lower,
        end=entry.span.upper,
        source=Booking.Source.WEB,
        now=now,
        note=note,
    )


def _lock_offer(entry: WaitingEntry, actor: User) -> WaitingEntry:
    if actor.pk != entry.person_id:
        raise NotAllowed(_("Only the person waiting can answer this offer."))
    locked = (
        WaitingEntry.objects.select_for_update(of=("self",))
        .select_related("booking__room__floor__building__site")
        .get(pk=entry.pk)
    )
    if locked.status != WaitingEntry.Status.OFFERED:
        raise InvalidBooking(_("This offer is no longer open."), field="status")
    return locked


@transaction.atomic
def accept_offer(*, entry: WaitingEntry, actor: User, now: datetime | None = None) -> WaitingEntry:
    """Keep the slot held for the person: the booking stays theirs. Raises NotAllowed or
    InvalidBooking (an offer no longer open: expired, given back or cancelled meanwhile)."""
    now = now or timezone.now()
    entry = _lock_offer(entry, actor)
    booking = entry.booking
    if booking is None or not booking.is_active or (entry.offer_until and entry.offer_until <= now):
        raise InvalidBooking(_("This offer is no longer open."), field="status")
    entry.status, entry.offer_until, entry.decided_at = WaitingEntry.Status.BOOKED, None, now
    entry.save(update_fields=["status", "offer_until", "decided_at"])
    return entry


@transaction.atomic
def decline_offer(*, entry: WaitingEntry, actor: User, now: datetime | None = None) -> WaitingEntry:
    """Give the offered slot back: its booking is cancelled (whatever the cut-off says, the
    person never took it) and the next in line gets their turn. Raises NotAllowed or InvalidBooking."""
    now = now or timezone.now()
    entry = _lock_offer(entry, actor)
    _end_offer(entry, status=WaitingEntry.Status.WITHDRAWN, actor=actor, now=now, reason="")
    return entry


def _end_offer(entry: WaitingEntry, *, status: str, actor: User | None, now: datetime, reason: str) -> None:
    booking = entry.booking
    if booking is not None:
        booking = Booking.objects.select_for_update(of=("self",)).get(pk=booking.pk)
        if booking.is_active:
            mark_cancelled(booking, actor=actor, now=now, reason=reason)  # type: ignore[arg-type]
    entry.status, entry.reason, entry.offer_until, entry.decided_at = status, reason[:500], None, now
    entry.save(update_fields=["status", "reason", "offer_until", "decided_at"])


def expire_offers(*, now: datetime | None = None) -> int:
    """Cancel the offers not accepted in time, so the next in line gets the slot; returns how many."""
    now = now or timezone.now()
    ids = list(
        WaitingEntry.objects.filter(status=WaitingEntry.Status.OFFERED, offer_until__lte=now).values_list(
            "pk", flat=True
        )[:PROMOTE_BATCH]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            entry = (
                WaitingEntry.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk=pk, status=WaitingEntry.Status.OFFERED, offer_until__lte=now)
                .first()
            )
            if entry is None:
                continue  # answered right now
            _end_offer(
                entry,
                status=WaitingEntry.Status.EXPIRED,
                actor=None,
                now=now,
                reason=_("The offer from the waiting list was not accepted in time."),
            )
            done += 1
    return done


def expire_waiting(*, now: datetime | None = None) -> int:
    """End the entries whose time has come without a free slot; returns how many."""
    now = now or timezone.now()
    return WaitingEntry.objects.filter(status=WaitingEntry.Status.WAITING, span__startswith__lte=now).update(
        status=WaitingEntry.Status.EXPIRED, decided_at=now
    )
