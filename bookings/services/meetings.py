"""One meeting in several rooms: booked, moved and cancelled as one, in one transaction.

Each room is an ordinary booking, written by the same steps as ``create_booking`` and
guarded by the same exclusion constraints, so the database decides every race: when any
room of the meeting is taken (by someone else at the same instant, too), its refusal
rolls back the rooms already written and nothing of the meeting remains. Each room keeps
its own rules; where one needs a manager's approval, the booker chose whether the other
rooms wait for the decision (``Meeting.Approval.WAIT``) or go ahead.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import hooks
from ..combinations import physical_parts
from ..errors import BookingConflict, InvalidBooking, NotAllowed, PolicyViolation, StaleBooking
from ..models import Booking, BookingEvent, Meeting, MeetingRoom, Room
from ..outbox import enqueue
from ..rules.catalogue import cancel_reason
from ..rules.resolve import rules_for
from ..spans import make_span, validate_times
from . import audit
from .bookings import (
    ROOM_LOCK,
    apply_rules,
    check_bookable,
    check_on_behalf,
    clean_attendees,
    clean_title,
    enforce,
    mark_cancelled,
    overridden_note,
    save_or_conflict,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MIN_ROOMS = 2
MAX_ROOMS = 20
# While a settlement cancels or confirms rooms, the cancel hook it triggers must not settle again.
_settling: ContextVar[bool] = ContextVar("rfr_meeting_settling", default=False)


def meeting_of(booking: Booking) -> Meeting | None:
    """The meeting a booking is a room of, or None."""
    link = MeetingRoom.objects.filter(booking_id=booking.pk).select_related("meeting").first()
    return link.meeting if link else None


def sequence(meeting: Meeting) -> int:
    """The meeting's version: the sum of its rooms' versions, which rises with every change
    to any of them (also one made to a single room through ``cancel_booking`` or a manager's
    decision). The API's If-Match and the calendar's SEQUENCE use it."""
    return sum(Booking.objects.filter(meeting_room__meeting=meeting).values_list("version", flat=True))


def may_manage(user: User, meeting: Meeting) -> bool:
    """The organizer, the delegate who booked it, and facility admins with the permission."""
    if meeting.organizer_id == user.pk or user.has_perm("bookings.change_booking"):
        return True
    return meeting.booked_by_id is not None and meeting.booked_by_id == user.pk


def _clean_rooms(rooms: list[Room]) -> list[Room]:
    if len(rooms) < MIN_ROOMS:
        raise InvalidBooking(_("A meeting in several rooms needs at least two rooms."), field="rooms")
    if len(rooms) > MAX_ROOMS:
        raise InvalidBooking(_("A meeting can have at most %(n)d rooms.") % {"n": MAX_ROOMS}, field="rooms")
    if len({r.pk for r in rooms}) != len(rooms):
        raise InvalidBooking(_("Each room can be in the meeting only once."), field="rooms")
    held: dict[int, Room] = {}
    for room in rooms:
        check_bookable(room)
        for part in physical_parts(room.pk):
            if part in held:
                # A combined room and one of its parts are one space: the second is no extra room.
                raise InvalidBooking(
                    _("%(a)s and %(b)s share a part of the hall; choose only one of them.")
                    % {"a": held[part].name, "b": room.name},
                    field="rooms",
                )
            held[part] = room
    return rooms


def _lock_rooms(room_ids: list[int]) -> None:
    """Every physical room of the meeting, in one id order (as ``lock_room`` takes them), before
    any is written: two meetings sharing rooms then take turns instead of deadlocking."""
    parts = sorted({p for room_id in room_ids for p in physical_parts(room_id)})
    with connection.cursor() as cursor:
        for part_id in parts:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROOM_LOCK, part_id])


def _payload(meeting: Meeting, bookings: list[Booking]) -> dict:
    return {"meeting": meeting.pk, "bookings": [audit.booking_payload(b) for b in bookings]}


def _refused_room(room: Room, exc: PolicyViolation) -> PolicyViolation:
    message = _("%(room)s: %(reason)s") % {"room": room.name, "reason": exc.message}
    return PolicyViolation(message, reasons=exc.reasons)


@transaction.atomic
def create_meeting(
    *,
    rooms: list[Room],
    organizer: User,
    title: str,
    start: datetime,
    end: datetime,
    approval: str = Meeting.Approval.WAIT,
    private: bool = False,
    attendees: list[str] | None = None,
    invite_attendees: bool = False,
    source: str = Booking.Source.WEB,
    actor: User | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Book every room for the same time, or none.

    Raises InvalidBooking, NotAllowed, PolicyViolation or BookingConflict (each naming the
    room), and then writes nothing.
    """
    now = now or timezone.now()
    validate_times(start, end, now=now)
    rooms = _clean_rooms(list(rooms))
    if approval not in Meeting.Approval.values:
        raise InvalidBooking(_("Choose whether the other rooms wait for an approval."), field="approval")
    title = clean_title(title)
    attendees = clean_attendees(attendees)
    user = actor or organizer
    booked_by = user if user.pk != organizer.pk else None
    _lock_rooms([r.pk for r in rooms])
    meeting = Meeting.objects.create(title=title, organizer=organizer, booked_by=booked_by, approval=approval)
    bookings: list[Booking] = []
    for room in rooms:
        rules = rules_for(room)
        if booked_by is not None:
            check_on_behalf(user, organizer, rules)
        try:
            overridden = enforce(rules, user=user, organizer_id=organizer.pk, start=start, end=end, now=now)
        except PolicyViolation as exc:
            raise _refused_room(room, exc) from None
        booking = Booking(
            room=room,
            span=make_span(start, end),
            title=title,
            organizer=organizer,
            booked_by=booked_by,
            private=private,
            attendees=attendees,
            invite_attendees=invite_attendees,
            source=source,
            status=Booking.Status.CONFIRMED,
        )
        apply_rules(booking, rules, user=user, now=now)
        try:
            save_or_conflict(booking, now=now)
        except BookingConflict as exc:
            raise BookingConflict(
                _("%(room)s is already booked at this time; no room of the meeting was booked.")
                % {"room": room.name},
                conflicts=exc.conflicts,
            ) from None
        hooks.booking_created(booking=booking, actor=user, now=now)
        changes = {**overridden_note(overridden), "meeting": meeting.pk}
        if booked_by is not None:
            changes["on_behalf_of"] = organizer.get_username()
        audit.record(
            booking, kind=BookingEvent.Kind.CREATED, actor=user, at=now, changes=changes, announce=False
        )
        bookings.append(booking)
    requested = any(b.status == Booking.Status.PENDING for b in bookings)
    links = []
    for booking in bookings:
        waits = approval == Meeting.Approval.WAIT and requested and booking.status == Booking.Status.CONFIRMED
        if waits:
            # Held for the meeting, confirmed or let go with the decision on the other room.
            booking.status = Booking.Status.PENDING
            booking.save(update_fields=["status", "updated_at"])
        links.append(MeetingRoom(meeting=meeting, booking=booking, waits=waits))
    MeetingRoom.objects.bulk_create(links)
    enqueue(topic="meeting.created", payload=_payload(meeting, bookings))
    return meeting


def _locked_meeting(meeting: Meeting, actor: User) -> Meeting:
    """The meeting, locked; raises NotAllowed or InvalidBooking (cancelled)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not may_manage(actor, meeting):
        raise NotAllowed(_("Only the organizer can change this meeting."))
    if meeting.cancelled_at is not None:
        raise InvalidBooking(_("This meeting has been cancelled."), field="meeting")
    return meeting


def _active_rooms(meeting: Meeting) -> list[Booking]:
    return list(
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site", "organizer")
        .filter(meeting_room__meeting=meeting, status__in=Booking.ACTIVE)
        .order_by("pk")
    )


@transaction.atomic
def move_meeting(
    *,
    meeting: Meeting,
    actor: User,
    start: datetime,
    end: datetime,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> list[Booking]:
    """Move every room still booked to the new time, or none; returns the rooms moved.

    Raises NotAllowed, InvalidBooking, StaleBooking, PolicyViolation or BookingConflict
    (naming the room that is not free), and then changes nothing.
    """
    now = now or timezone.now()
    meeting = _locked_meeting(meeting, actor)
    if expected_version is not None and expected_version != sequence(meeting):
        raise StaleBooking(_("The meeting was changed in the meantime; please reload it."))
    bookings = _active_rooms(meeting)
    if not bookings:
        raise InvalidBooking(_("No room of this meeting is booked any more."), field="meeting")
    if any(b.span.upper <= now for b in bookings):
        raise InvalidBooking(_("A meeting that has ended cannot be changed."), field="end")
    validate_times(start, end, now=now, new=start != bookings[0].span.lower)
    new_span = make_span(start, end)
    if all(b.span == new_span for b in bookings):
        return []
    _lock_rooms([b.room_id for b in bookings])
    for booking in bookings:
        old = booking.span
        rules = rules_for(booking.room)
        try:
            overridden = enforce(
                rules,
                user=actor,
                organizer_id=booking.organizer_id,
                start=start,
                end=end,
                now=now,
                exclude=booking.pk,
            )
        except PolicyViolation as exc:
            raise _refused_room(booking.room, exc) from None
        booking.span = new_span
        booking.buffer_before, booking.buffer_after = rules.buffer_before, rules.buffer_after
        if rules.requires_check_in and booking.checked_in_at is None:
            booking.check_in_deadline = start + rules.check_in_grace
        elif not rules.requires_check_in:
            booking.check_in_deadline = None
        booking.reminded_at = None
        booking.version += 1
        try:
            save_or_conflict(booking, now=now)
        except BookingConflict as exc:
            raise BookingConflict(
                _("%(room)s is not free at the new time; no room of the meeting was moved.")
                % {"room": booking.room.name},
                conflicts=exc.conflicts,
            ) from None
        # Orders move with each room or refuse the move, in this transaction (bookings/hooks.py).
        hooks.booking_moved(booking=booking, actor=actor, now=now, old_start=old.lower)
        changes = {
            "span": [[old.lower.isoformat(), old.upper.isoformat()], [start.isoformat(), end.isoformat()]],
            "meeting": meeting.pk,
            **overridden_note(overridden),
        }
        audit.record(
            booking, kind=BookingEvent.Kind.UPDATED, actor=actor, at=now, changes=changes, announce=False
        )
    enqueue(topic="meeting.updated", payload=_payload(meeting, bookings))
    return bookings


@transaction.atomic
def cancel_meeting(
    *, meeting: Meeting, actor: User, reason: str = "", now: datetime | None = None
) -> list[Booking]:
    """Cancel every room still booked (the rows stay); returns them.

    Raises NotAllowed, InvalidBooking, or PolicyViolation when a room's cancellation cut-off
    has passed (naming the room; then nothing is cancelled).
    """
    now = now or timezone.now()
    meeting = _locked_meeting(meeting, actor)
    bookings = [b for b in _active_rooms(meeting) if b.span.upper > now]
    if not bookings:
        raise InvalidBooking(_("No room of this meeting can be cancelled any more."), field="meeting")
    for booking in bookings:
        refusal = cancel_reason(actor, booking, rules_for(booking.room), now=now)
        if refusal is not None:
            raise PolicyViolation(
                _("%(room)s: %(reason)s") % {"room": booking.room.name, "reason": refusal.message},
                reasons=[refusal],
            )
    token = _settling.set(True)
    try:
        for booking in bookings:
            mark_cancelled(booking, actor=actor, now=now, reason=reason, announce=False)
    finally:
        _settling.reset(token)
    meeting.cancelled_at = now
    meeting.save(update_fields=["cancelled_at"])
    enqueue(topic="meeting.cancelled", payload=_payload(meeting, bookings))
    return bookings


# --- rooms that wait for another room's approval -------------------------------------


def settle(booking: Booking, *, now: datetime) -> None:
    """After a room of a waiting meeting was decided or given back: let the rooms that wait go,
    or confirm them.

    Called in the decision's (or cancellation's) transaction. A room refused by its
    manager (or expired) ends the whole meeting (all rooms or none); when no room waits
    for a manager any more, the waiting rooms are confirmed.
    """
    if _settling.get():
        return
    link = MeetingRoom.objects.filter(booking_id=booking.pk).select_related("meeting").first()
    if link is None or link.meeting.approval != Meeting.Approval.WAIT:
        return
    # The meeting's lock makes two decisions on its rooms settle one after the other. The
    # deciding paths took it (lock_meetings_of) before they locked the room; this only re-reads it.
    meeting = Meeting.objects.select_for_update().get(pk=link.meeting_id)
    rows = list(MeetingRoom.objects.filter(meeting=meeting).select_related("booking"))
    waiting = [r.booking_id for r in rows if r.waits and r.booking.status == Booking.Status.PENDING]
    if not waiting:
        return
    requests = [r.booking for r in rows if not r.waits]
    refused = [b for b in requests if b.status == Booking.Status.REJECTED]
    if not refused and any(b.status == Booking.Status.PENDING for b in requests):
        return  # still waiting for a manager
    token = _settling.set(True)
    try:
        if refused:
            # All rooms or none: what is left of the meeting is let go with the refusal.
            reason = _("Another room of the meeting (%(room)s) was not approved.") % {
                "room": refused[0].room.name
            }
            others = [b.pk for b in requests if b.is_active] + waiting
            changed = list(
                Booking.objects.select_for_update(of=("self",)).filter(
                    pk__in=others, status__in=Booking.ACTIVE
                )
            )
            for other in changed:
                mark_cancelled(other, actor=None, now=now, reason=reason, announce=False)  # type: ignore[arg-type]
            topic = "meeting.cancelled"
        else:
            changed = list(
                Booking.objects.select_for_update(of=("self",)).filter(
                    pk__in=waiting, status=Booking.Status.PENDING
                )
            )
            for other in changed:
                other.status = Booking.Status.CONFIRMED
                other.version += 1
                other.save(update_fields=["status", "version", "updated_at"])
                audit.record(
                    other,
                    kind=BookingEvent.Kind.APPROVED,
                    actor=None,
                    at=now,
                    changes={"meeting": meeting.pk, "with": booking.pk},
                    announce=False,
                )
            topic = "meeting.confirmed"
    finally:
        _settling.reset(token)
    if changed:
        enqueue(topic=topic, payload=_payload(meeting, changed))


def on_room_decided(*, booking: Booking, now: datetime) -> None:
    """The decision hook (bookings.hooks): a manager's answer on one room settles the rooms that wait."""
    settle(booking, now=now)


def on_room_cancelled(*, booking: Booking, actor: User, now: datetime) -> None:
    """The cancel hook (bookings.hooks): a room given back may be the one the others waited for."""
    settle(booking, now=now)
