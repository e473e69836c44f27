"""Both directions of the sync, one room at a time.

Out: the outbox channel ``exchange`` names bookings; ``push_booking`` makes the room's
calendar show each one's current state (create, update, delete), so whichever message
arrives first after an outage, the calendar ends where the database is, and a cancel
can never be overtaken by its create. An advisory lock per room makes the room's pushes
and reads take turns: one ordered stream per room.

In: ``sync_room`` reads what changed (delta link / sync state) and applies each Outlook
meeting through the booking services, so rules and the exclusion constraint decide; a
refused meeting is declined with the reason. Events linked to our own bookings are our
echo and are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bookings.errors import BookingError
from bookings.models import Booking, Room
from bookings.services.bookings import create_booking, mark_cancelled, update_booking

from ..base import Calendar, EventDraft, IntegrationError, Meeting, SyncStateExpired
from .models import Declined, EventLink, RoomSync

log = logging.getLogger("rfr.exchange")
EXCHANGE_LOCK = 7315
# Shown in Exchange: a released no-show keeps its (shortened) event.
SHOWN = (Booking.Status.PENDING, Booking.Status.CONFIRMED, Booking.Status.RELEASED)
SERVICE_USER = "exchange-sync"
# Answers to Outlook organizers, sent in German with English below (gettext_noop: marked
# for translation here, translated when sent).
PUBLISH_ONLY = gettext_noop("This room is booked in raum]für[raum only.")
AWAITS_APPROVAL = gettext_noop("The room awaits a manager's approval.")
CANCELLED_HERE = gettext_noop("The room's booking was cancelled in raum]für[raum.")


def lock_room(room_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [EXCHANGE_LOCK, room_id])


def mode_of(room: Room) -> str:
    if not room.exchange_mailbox:
        return RoomSync.Mode.OFF
    sync = RoomSync.objects.filter(room=room).first()
    return sync.mode if sync else RoomSync.Mode.BOTH


def window() -> tuple[datetime, datetime]:
    conf = settings.RFR_EXCHANGE
    now = timezone.now()
    return now - timedelta(days=conf.days_back), now + timedelta(days=conf.days_ahead)


def draft_for(booking: Booking) -> EventDraft:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Busy") if booking.private else booking.title
        organizer = booking.organizer.get_full_name() or booking.organizer.username
        body = _("Booked in raum]für[raum by %(name)s.") % {"name": organizer}
    return EventDraft(
        subject=subject,
        start=booking.span.lower,
        end=booking.span.upper,
        body=body,
        organizer_name=organizer,
        organizer_email=booking.organizer.email,
        booking_ref=f"booking-{booking.pk}:v{booking.version}",
        private=booking.private,
        tentative=booking.status == Booking.Status.PENDING,
    )


def record_error(room: Room, error: Exception) -> None:
    RoomSync.objects.update_or_create(
        room=room, defaults={"last_error": str(error)[:2000], "last_attempt_at": timezone.now()}
    )


def push_booking(cal: Calendar, booking_id: int, *, committed_at: datetime | None = None) -> str:
    """Make the room's calendar show this booking as it is now; what was done.

    Raises IntegrationError only for temporary faults (the outbox retries); a permanent
    one is recorded on the link and the room and not retried.
    """
    booking = Booking.objects.select_related("room", "organizer").get(pk=booking_id)
    room = booking.room
    link = EventLink.objects.select_related("room").filter(booking=booking).first()
    moved_out = link is not None and link.room_id != room.pk and bool(link.remote_id)
    if mode_of(room) == RoomSync.Mode.OFF and not moved_out:
        return "off"
    for room_id in sorted({room.pk, link.room_id if link else room.pk}):
        lock_room(room_id)  # in one order, so two moves between two rooms cannot deadlock
    if link is not None and link.pushed_version >= booking.version and not link.failed_permanently:
        return "current"
    try:
        if link is not None and link.origin == EventLink.Origin.THEIRS:
            done = _answer_theirs(cal, booking, link)
        else:
            done = _push_ours(cal, booking, link)
    except IntegrationError as exc:
        if not exc.permanent:
            raise  # the outbox keeps the message and its error, and retries
        log.error("exchange: booking %s not synced: %s", booking.pk, exc)
        EventLink.objects.update_or_create(
            booking=booking,
            defaults={
                "room": room,
                "origin": link.origin if link else EventLink.Origin.OURS,
                "last_error": str(exc),
                "failed_permanently": True,
                "pushed_version": booking.version,
            },
        )
        record_error(room, exc)
        return "failed"
    if committed_at is not None:
        RoomSync.objects.update_or_create(
            room=room, defaults={"lag_seconds": (timezone.now() - committed_at).total_seconds()}
        )
    return done


def _push_ours(cal: Calendar, booking: Booking, link: EventLink | None, *, key_suffix: str = "") -> str:
    mailbox = booking.room.exchange_mailbox
    shown = booking.status in SHOWN and mode_of(booking.room) != RoomSync.Mode.OFF
    if link is None:
        link = EventLink(booking=booking, room=booking.room, origin=EventLink.Origin.OURS)
    if link.room_id != booking.room_id:
        # Moved to another room: the event leaves the old room's calendar.
        if link.remote_id and link.room.exchange_mailbox:
            cal.delete(link.room.exchange_mailbox, link.remote_id)
        link.room, link.remote_id, link.change_key = booking.room, "", ""
    if shown and not link.remote_id:
        key = f"rfr-{booking.pk}-{booking.version}{key_suffix}"
        link.remote_id, link.change_key = cal.create(mailbox, draft_for(booking), key=key)
        done = "created"
    elif shown:
        link.change_key = cal.update(mailbox, link.remote_id, draft_for(booking))
        done = "updated"
    elif link.remote_id:
        cal.delete(mailbox, link.remote_id)
        link.remote_id, link.change_key = "", ""
        done = "deleted"
    else:
        done = "nothing"
    link.pushed_version = booking.version
    link.last_error, link.failed_permanently = "", False
    link.save()
    return done


def _answer_theirs(cal: Calendar, booking: Booking, link: EventLink) -> str:
    """An Outlook meeting changed here: approved, rejected, cancelled by a manager, released."""
    mailbox = booking.room.exchange_mailbox
    if booking.status == Booking.Status.CONFIRMED:
        cal.respond(mailbox, link.remote_id, answer="accept", comment="")
        done = "accepted"
    elif booking.status == Booking.Status.RELEASED:
        link.change_key = cal.update(mailbox, link.remote_id, draft_for(booking))
        done = "updated"
    elif booking.status in (Booking.Status.CANCELLED, Booking.Status.REJECTED) and link.remote_id:
        comment = both_languages(CANCELLED_HERE)
        cal.respond(mailbox, link.remote_id, answer="decline", comment=comment)
        done = "declined"
    else:
        done = "nothing"
    link.pushed_version = booking.version
    link.save()
    return done


@dataclass
class RoomReport:
    room: Room
    applied: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def count(self, what: str) -> None:
        self.applied[what] = self.applied.get(what, 0) + 1


def service_user():
    user, _created = get_user_model().objects.get_or_create(
        username=SERVICE_USER, defaults={"is_active": False, "first_name": "Exchange"}
    )
    return user


def organizer_for(meeting: Meeting):
    if meeting.organizer_email:
        found = get_user_model().objects.filter(email__iexact=meeting.organizer_email, is_active=True).first()
        if found is not None:
            return found
    return service_user()


def sync_room(cal: Calendar, room: Room, *, full: bool = False) -> RoomReport:
    """Read the room's changes from Exchange and apply them; the report says what happened."""
    report = RoomReport(room)
    mode = mode_of(room)
    if mode == RoomSync.Mode.OFF:
        report.count("off")
        return report
    start, end = window()
    try:
        with transaction.atomic():
            lock_room(room.pk)
            state, _new = RoomSync.objects.select_for_update().get_or_create(room=room)
            try:
                meetings, next_state = cal.changes(
                    room.exchange_mailbox, state="" if full else state.sync_state, start=start, end=end
                )
            except SyncStateExpired:
                report.count("resync")
                meetings, next_state = cal.changes(room.exchange_mailbox, state="", start=start, end=end)
            for meeting in meetings:
                report.count(apply_meeting(cal, room, meeting, mode=mode))
            if full:
                for what, n in reconcile(cal, room, start=start, end=end).items():
                    report.applied[what] = report.applied.get(what, 0) + n
            now = timezone.now()
            state.sync_state = next_state
            state.last_success_at = state.last_attempt_at = now
            state.last_error = ""
            if full:
                state.last_full_at = now
                state.last_repairs = report.applied
            state.save()
    except IntegrationError as exc:
        report.error = str(exc)
        record_error(room, exc)
    return report


class _Undo(Exception):
    """Rolls back an attempt made only to read its refusal in another language."""


def bilingual(german: str, english: str | None) -> str:
    """A decline for an organizer whose language we do not know: German, English below."""
    if not english or english == german:
        return german
    return f"{german}\n\n{english}"


def in_english(attempt) -> str | None:
    """The refusal of ``attempt`` in English: it runs again in a savepoint that is always
    rolled back (nothing it might write stays); None if it no longer fails."""
    try:
        with translation.override("en"), transaction.atomic():
            attempt()
            raise _Undo
    except BookingError as exc:
        return exc.message
    except _Undo:
        return None


def both_languages(text: str) -> str:
    """A fixed sentence of ours, in German with English below."""
    with translation.override("de"):
        german = _(text)
    with translation.override("en"):
        english = _(text)
    return bilingual(german, english)


def _decline(cal: Calendar, room: Room, meeting: Meeting, reason: str) -> str:
    cal.respond(room.exchange_mailbox, meeting.remote_id, answer="decline", comment=reason)
    Declined.objects.update_or_create(
        room=room,
        remote_id=meeting.remote_id,
        defaults={"change_key": meeting.change_key, "reason": reason, "at": timezone.now()},
    )
    return "declined"


def apply_meeting(cal: Calendar, room: Room, meeting: Meeting, *, mode: str) -> str:
    """Apply one changed Outlook event to the room's bookings; what happened."""
    link = EventLink.objects.select_related("booking").filter(room=room, remote_id=meeting.remote_id).first()
    if link is not None and link.origin == EventLink.Origin.OURS:
        return "echo"  # our own write, read back
    if link is None and meeting.booking_ref:
        return "echo"  # ours, its link not yet (or no longer) known: the reconcile decides
    now = timezone.now()
    if meeting.removed or meeting.cancelled:
        if link is not None and link.booking.is_active:
            booking = Booking.objects.select_for_update().get(pk=link.booking_id)
            mark_cancelled(booking, actor=service_user(), now=now, reason=_("Cancelled in Outlook"))
            link.pushed_version = booking.version
            link.save(update_fields=["pushed_version", "updated_at"])
            return "cancelled"
        return "ignored"
    if meeting.start is None or meeting.end is None or meeting.end <= now:
        return "ignored"
    with translation.override(settings.LANGUAGE_CODE):
        if link is None:
            if Declined.objects.filter(
                room=room, remote_id=meeting.remote_id, change_key=meeting.change_key
            ).exists():
                return "ignored"
            if mode == RoomSync.Mode.PUBLISH:
                return _decline(cal, room, meeting, both_languages(PUBLISH_ONLY))
            return _book(cal, room, meeting, now=now)
        return _change(cal, room, meeting, link, now=now)


def _book(cal: Calendar, room: Room, meeting: Meeting, *, now: datetime) -> str:
    organizer = organizer_for(meeting)

    def attempt():
        return create_booking(
            room=room,
            organizer=organizer,
            title=meeting.subject or _("Outlook meeting"),
            start=meeting.start,
            end=meeting.end,
            private=meeting.private,
            source=Booking.Source.EXCHANGE,
            now=now,
        )

    try:
        booking = attempt()
    except BookingError as exc:
        # No language of the organizer is known (users have none): German, English below.
        return _decline(cal, room, meeting, bilingual(exc.message, in_english(attempt)))
    EventLink.objects.create(
        booking=booking,
        room=room,
        origin=EventLink.Origin.THEIRS,
        remote_id=meeting.remote_id,
        change_key=meeting.change_key,
        pushed_version=booking.version,
        organizer_name=meeting.organizer_name,
        organizer_email=meeting.organizer_email,
    )
    pending = booking.status == Booking.Status.PENDING
    comment = both_languages(AWAITS_APPROVAL) if pending else ""
    cal.respond(
        room.exchange_mailbox, meeting.remote_id, answer="tentative" if pending else "accept", comment=comment
    )
    return "booked"


def _change(cal: Calendar, room: Room, meeting: Meeting, link: EventLink, *, now: datetime) -> str:
    booking = link.booking
    if not booking.is_active:
        return "ignored"
    same = (meeting.start, meeting.end) == (booking.span.lower, booking.span.upper)
    if same and (meeting.subject or booking.title) == booking.title:
        link.change_key = meeting.change_key
        link.save(update_fields=["change_key", "updated_at"])
        return "unchanged"

    def attempt():
        return update_booking(
            booking=Booking.objects.get(pk=booking.pk),
            actor=booking.organizer,
            title=meeting.subject or None,
            start=meeting.start,
            end=meeting.end,
            now=now,
        )

    try:
        booking = attempt()
    except BookingError as exc:
        comment = bilingual(exc.message, in_english(attempt))
        cal.respond(room.exchange_mailbox, meeting.remote_id, answer="decline", comment=comment)
        return "change declined"
    link.change_key = meeting.change_key
    link.pushed_version = booking.version
    link.save(update_fields=["change_key", "pushed_version", "updated_at"])
    return "changed"


def reconcile(cal: Calendar, room: Room, *, start: datetime, end: datetime) -> dict[str, int]:
    """Repair drift the incremental reads cannot see: our events deleted in Outlook, orphans,
    and Outlook meetings gone from the calendar while their booking is still here (a
    deletion the read after an expired sync state could not report)."""
    repairs = {"recreated": 0, "removed": 0, "cancelled": 0}
    remote = {m.remote_id: m for m in cal.meetings(room.exchange_mailbox, start=start, end=end)}
    ours = Booking.objects.select_related("room", "organizer").filter(
        room=room, status__in=SHOWN, span__overlap=(start, end)
    )
    linked: set[str] = set()
    now = timezone.now()
    for booking in ours:
        link = EventLink.objects.filter(booking=booking).first()
        if link is not None and link.origin == EventLink.Origin.THEIRS:
            gone = link.remote_id and link.remote_id not in remote
            if gone and booking.is_active and booking.span.upper > now:
                locked = Booking.objects.select_for_update().get(pk=booking.pk)
                with translation.override(settings.LANGUAGE_CODE):
                    reason = _("Cancelled in Outlook")
                mark_cancelled(locked, actor=service_user(), now=now, reason=reason)
                link.pushed_version = locked.version  # nothing to tell Exchange: it is gone there
                link.save(update_fields=["pushed_version", "updated_at"])
                repairs["cancelled"] += 1
            else:
                linked.add(link.remote_id)
            continue
        if link is not None and link.remote_id in remote:
            linked.add(link.remote_id)
            continue
        if link is not None:
            link.remote_id = ""
        _push_ours(cal, booking, link, key_suffix=f"-r{int(timezone.now().timestamp())}")
        repairs["recreated"] += 1
    for remote_id, meeting in remote.items():
        if meeting.booking_ref and remote_id not in linked:
            cal.delete(room.exchange_mailbox, remote_id)
            repairs["removed"] += 1
    return repairs
