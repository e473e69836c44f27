"""Create, change and cancel single bookings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import hooks
from ..combinations import physical_parts
from ..conflicts import conflict_error, is_overlap_violation
from ..errors import InvalidBooking, NotAllowed, PolicyViolation, StaleBooking
from ..models import Booking, BookingEvent, Delegation, MeetingRoom, Room, Series
from ..rules.catalogue import cancel_reason, verdict
from ..rules.groups import is_manager, may_override
from ..rules.resolve import Rules, rules_for
from ..spans import make_span, storable, validate_times
from . import audit, deadlines
from .meeting_locks import lock_meetings_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_ATTENDEES = 200
# pg_advisory_xact_lock(QUOTA_LOCK, user id) serialises one person's quota checks.
QUOTA_LOCK = 7301
# pg_advisory_xact_lock(ROOM_LOCK, room id): writes to one room's bookings take turns.
ROOM_LOCK = 7302


def clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidBooking(_("Please enter a title."), field="title")
    if not storable(title):
        raise InvalidBooking(_("This value is not valid."), field="title")
    if len(title) > 200:
        raise InvalidBooking(_("The title can have at most 200 characters."), field="title")
    return title


def clean_attendees(attendees: list[str] | None) -> list[str]:
    cleaned = [a.strip() for a in attendees or [] if a and a.strip()]
    if len(cleaned) > MAX_ATTENDEES:
        raise InvalidBooking(_("At most %(n)d attendees.") % {"n": MAX_ATTENDEES}, field="attendees")
    if any(len(a) > 254 for a in cleaned):
        raise InvalidBooking(_("An attendee entry is too long."), field="attendees")
    if not all(storable(a) for a in cleaned):
        raise InvalidBooking(_("This value is not valid."), field="attendees")
    return cleaned


def check_bookable(room: Room) -> None:
    if not room.bookable:
        raise InvalidBooking(_("The room %(room)s cannot be booked.") % {"room": room.name}, field="room")


def lock_room(room_id: int) -> None:
    """Writes to one room's bookings take turns until commit.

    Without it, bookings that overlap one another in a chain (A's buffer meets B, B's
    meets C) sent at the same instant can each wait for another's uncommitted row in
    the exclusion constraint's check, and PostgreSQL breaks the cycle by failing one
    with a deadlock. Taken outside the savepoint below: a rolled-back savepoint would
    release it. A combined room's booking takes the lock of each physical part, in id
    order, so it and a booking of a part take turns without a deadlock.
    """
    with connection.cursor() as cursor:
        for part_id in physical_parts(room_id):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROOM_LOCK, part_id])


def save_or_conflict(booking: Booking, *, now: datetime) -> None:
    """Save; if an exclusion constraint refuses, raise BookingConflict naming who is in the way.

    Bookings in the way only because a deadline has passed (a request nobody decided, a
    no-show) are expired or released first, and the save is tried once more.
    """
    lock_room(booking.room_id)
    for last_try in (False, True):
        try:
            # The constraint decides, not a racy look-up beforehand; the savepoint keeps
            # the transaction usable so the conflicting bookings can be read for the answer.
            with transaction.atomic():
                booking.save()
            return
        except IntegrityError as exc:
            if not is_overlap_violation(exc):
                raise
            error = conflict_error(
                booking.room_id,
                booking.span,
                exclude=booking.pk,
                before=booking.buffer_before,
                after=booking.buffer_after,
            )
            if last_try or not deadlines.free_overdue(error.conflicts, now=now):
                raise error from None


def lock_quota(rules: Rules, organizer_id: int | None) -> None:
    """Quotas count the organizer's bookings: two requests at once must not both fit (till commit).

    Keyed on the organizer, not on whoever acts, so a manager's change and the
    organizer's own booking take turns too.
    """
    if rules.quota_places and organizer_id:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUOTA_LOCK, organizer_id])


def enforce(
    rules: Rules,
    *,
    user: User,
    organizer_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude: int | None = None,
) -> list[str]:
    """Raise PolicyViolation naming every rule the request breaks; return the rules ``user`` overrode.

    Quotas are the organizer's, whoever acts; only someone who may override the rules
    escapes them, and the audit log names what they overrode.
    """
    lock_quota(rules, organizer_id)
    reasons, overridden = verdict(
        user=user,
        rules=rules,
        start=start,
        end=end,
        now=now,
        exclude=() if exclude is None else (exclude,),
        organizer_id=organizer_id,
        name_overridden=True,
    )
    if reasons:
        raise PolicyViolation(reasons[0].message, reasons=reasons)
    return overridden


def overridden_note(overridden: list[str]) -> dict:
    """The audit entry's note of the rules an overrider set aside (nothing when none)."""
    return {"overridden": overridden} if overridden else {}


def apply_rules(booking: Booking, rules: Rules, *, user: User, now: datetime) -> None:
    """Set what the room's rules decide for a new booking: buffers, approval, check-in deadline."""
    booking.buffer_before, booking.buffer_after = rules.buffer_before, rules.buffer_after
    start = booking.span.lower
    if rules.requires_approval and not (may_override(user, rules) or is_manager(user, rules)):
        booking.status = Booking.Status.PENDING
        booking.decision_due_at = max(min(now + rules.approval_timeout, start), now)
    booking.check_in_deadline = start + rules.check_in_grace if rules.requires_check_in else None


def check_on_behalf(actor: User, principal: User, rules: Rules) -> None:
    """Raise NotAllowed unless ``actor`` may book in ``principal``'s name.

    Room managers and facility admins may book for anyone; others only for whoever named
    them (or a group of theirs) a delegate. Nobody books in the name of someone who left.
    """
    name = principal.get_full_name() or principal.get_username()
    if not principal.is_active:
        raise NotAllowed(_("%(name)s is no longer active; nobody can book in their name.") % {"name": name})
    if actor.has_perm("bookings.change_booking") or is_manager(actor, rules):
        return
    delegated = Delegation.objects.filter(principal=principal, revoked_at__isnull=True).filter(
        Q(delegate=actor) | Q(group__in=actor.groups.all())
    )
    if not delegated.exists():
        raise NotAllowed(
            _("You may not book for %(name)s: only their delegates, room managers and facility admins may.")
            % {"name": name}
        )


def can_manage(user: User, booking: Booking) -> bool:
    """The organizer, the delegate who booked for them, facility admins with the permission,
    and the room's managers."""
    if booking.organizer_id == user.pk or user.has_perm("bookings.change_booking"):
        return True
    if booking.booked_by_id is not None and booking.booked_by_id == user.pk:
        return True
    return bool(user.pk) and is_manager(user, rules_for(booking.room))


@transaction.atomic
def create_booking(
    *,
    room: Room,
    organizer: User,
    title: str,
    start: datetime,
    end: datetime,
    private: bool = False,
    attendees: list[str] | None = None,
    invite_attendees: bool = False,
    source: str = Booking.Source.WEB,
    series: Series | None = None,
    actor: User | None = None,
    now: datetime | None = None,
    note: dict | None = None,
) -> Booking:
    """Book a room (pending where it needs approval); ``note`` goes into the audit entry.

    Raises InvalidBooking, PolicyViolation or BookingConflict, and then writes nothing.
    """
    now = now or timezone.now()
    validate_times(start, end, now=now)
    check_bookable(room)
    booking = Booking(
        room=room,
        span=make_span(start, end),
        title=clean_title(title),
        organizer=organizer,
        private=private,
        attendees=clean_attendees(attendees),
        invite_attendees=invite_attendees,
        source=source,
        series=series,
        status=Booking.Status.CONFIRMED,
    )
    rules = rules_for(room)
    user = actor or organizer
    if user.pk != organizer.pk:
        check_on_behalf(user, organizer, rules)
        booking.booked_by = user
    overridden = enforce(rules, user=user, organizer_id=organizer.pk, start=start, end=end, now=now)
    apply_rules(booking, rules, user=user, now=now)
    save_or_conflict(booking, now=now)
    # Apps above may refuse it (a site requiring a cost centre), in this transaction.
    hooks.booking_created(booking=booking, actor=user, now=now)
    changes = {**overridden_note(overridden), **(note or {})}
    if booking.booked_by_id:
        changes["on_behalf_of"] = organizer.get_username()
    audit.record(booking, kind=BookingEvent.Kind.CREATED, actor=user, at=now, changes=changes)
    return booking


def _lock(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__floor__building__site")
        .get(pk=booking.pk)
    )


@transaction.atomic
def update_booking(
    *,
    booking: Booking,
    actor: User,
    title: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    room: Room | None = None,
    private: bool | None = None,
    attendees: list[str] | None = None,
    invite_attendees: bool | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Move, resize, retitle, change who attends and whether they are invited.

    Raises NotAllowed, InvalidBooking, StaleBooking or BookingConflict.
    """
    now = now or timezone.now()
    booking = _lock(booking)
    if not can_manage(actor, booking):
        raise NotAllowed(_("Only the organizer can change this booking."))
    if expected_version is not None and expected_version != booking.version:
        raise StaleBooking(_("The booking was changed in the meantime; please reload it."))
    if not booking.is_active:
        raise InvalidBooking(_("A cancelled or finished booking cannot be changed."), field="status")
    if booking.span.upper <= now:
        raise InvalidBooking(_("A booking that has ended cannot be changed."), field="end")

    changes: dict = {}
    old_start = booking.span.lower
    new_start = start or booking.span.lower
    new_end = end or booking.span.upper
    if (new_start, new_end) != (booking.span.lower, booking.span.upper):
        if MeetingRoom.objects.filter(booking_id=booking.pk).exists():
            # All rooms of a meeting keep one time: services.meetings.move_meeting moves them together.
            raise InvalidBooking(
                _(
                    "This room is part of a meeting in several rooms; "
                    "change the meeting's time to move all its rooms."
                ),
                field="start",
            )
        # A running booking may be shortened or extended, not moved into the past.
        moved_start = new_start != booking.span.lower
        validate_times(new_start, new_end, now=now, new=moved_start)
        changes["span"] = [
            [booking.span.lower.isoformat(), booking.span.upper.isoformat()],
            [new_start.isoformat(), new_end.isoformat()],
        ]
        booking.span = make_span(new_start, new_end)
    if room is not None and room.pk != booking.room_id:
        check_bookable(room)
        changes["room"] = [booking.room_id, room.pk]
        booking.room = room
    if title is not None and clean_title(title) != booking.title:
        changes["title"] = [booking.title, clean_title(title)]
        booking.title = clean_title(title)
    if private is not None and private != booking.private:
        changes["private"] = [booking.private, private]
        booking.private = private
    if attendees is not None and clean_attendees(attendees) != booking.attendees:
        changes["attendees"] = [booking.attendees, clean_attendees(attendees)]
        booking.attendees = clean_attendees(attendees)
    if invite_attendees is not None and invite_attendees != booking.invite_attendees:
        changes["invite_attendees"] = [booking.invite_attendees, invite_attendees]
        booking.invite_attendees = invite_attendees
    if not changes:
        return booking

    if "span" in changes or "room" in changes:
        rules = rules_for(booking.room)
        overridden = enforce(
            rules,
            user=actor,
            organizer_id=booking.organizer_id,
            start=new_start,
            end=new_end,
            now=now,
            exclude=booking.pk,
        )
        changes.update(overridden_note(overridden))
        booking.buffer_before, booking.buffer_after = rules.buffer_before, rules.buffer_after
        if rules.requires_check_in and booking.checked_in_at is None:
            booking.check_in_deadline = new_start + rules.check_in_grace
        elif not rules.requires_check_in:
            booking.check_in_deadline = None
        if booking.series_id:
            # Edited on its own: a later edit of the whole series leaves it as it is now.
            booking.series_exception = True
        if "span" in changes:
            booking.reminded_at = None  # a reminder for the new time, if any, is still due
    booking.version += 1
    save_or_conflict(booking, now=now)
    if "span" in changes or "room" in changes:
        # Orders move with it or refuse the move, in this transaction (see bookings/hooks.py).
        hooks.booking_moved(booking=booking, actor=actor, now=now, old_start=old_start)
    audit.record(booking, kind=BookingEvent.Kind.UPDATED, actor=actor, at=now, changes=changes)
    return booking


@transaction.atomic
def cancel_booking(
    *, booking: Booking, actor: User, reason: str = "", now: datetime | None = None
) -> Booking:
    """Cancel (the row stays); repeating it changes nothing.

    Raises NotAllowed, InvalidBooking, or PolicyViolation past the cancellation cut-off.
    """
    now = now or timezone.now()

    # A room of a meeting: the meeting and its rooms first, in the order its moves take them.
    lock_meetings_of([booking.pk])
    booking = _lock(booking)
    if not can_manage(actor, booking):
        raise NotAllowed(_("Only the organizer can cancel this booking."))
    if booking.status == Booking.Status.CANCELLED:
        return booking
    if not booking.is_active:
        raise InvalidBooking(_("This booking is no longer active."), field="status")
    if booking.span.upper <= now:
        raise InvalidBooking(_("A booking that has ended cannot be cancelled."), field="end")
    refusal = cancel_reason(actor, booking, rules_for(booking.room), now=now)
    if refusal is not None:
        raise PolicyViolation(refusal.message, reasons=[refusal])
    mark_cancelled(booking, actor=actor, now=now, reason=reason)
    return booking


def mark_cancelled(
    booking: Booking, *, actor: User, now: datetime, reason: str = "", announce: bool = True
) -> None:
    """Set a locked, active booking to cancelled and record it; the callers check the rules."""
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.version += 1
    booking.save(update_fields=["status", "cancelled_at", "version", "updated_at"])
    audit.record(
        booking,
        kind=BookingEvent.Kind.CANCELLED,
        actor=actor,
        at=now,
        changes={"reason": reason[:500]} if reason else {},
        announce=announce,
    )
    # Orders and the like end with the booking, in this transaction (see bookings/hooks.py).
    hooks.booking_cancelled(booking=booking, actor=actor, now=now)
