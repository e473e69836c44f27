"""Mail about a meeting in several rooms: one mail, one calendar entry with every location.

The organizer (and the delegate who booked it) get one mail per change of the whole
meeting, naming each room with its time on the clocks of its own site; the calendar
entry is one VEVENT (UID ``meeting-N``) whose LOCATION lists all rooms still booked and
whose SEQUENCE is the meeting's version. Attendees the organizer invited get the same
entry; managers of a room that needs approval get their request as for any booking.
"""

from __future__ import annotations

from datetime import UTC

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import ical
from ..models import Booking, Meeting, MeetingRoom, OutboxMessage
from ..services.meetings import sequence
from . import compose
from .compose import CANCEL, REQUEST, Calendar, Mail
from .invitations import resolve

SUBJECTS = {
    "meeting.created": lambda n: ngettext(
        "Meeting booked in %(n)d room: %(title)s, %(when)s",
        "Meeting booked in %(n)d rooms: %(title)s, %(when)s",
        n,
    ),
    "meeting.updated": lambda n: ngettext(
        "Meeting moved (%(n)d room): %(title)s, %(when)s",
        "Meeting moved (%(n)d rooms): %(title)s, %(when)s",
        n,
    ),
    "meeting.confirmed": lambda n: ngettext(
        "Meeting confirmed (%(n)d room): %(title)s, %(when)s",
        "Meeting confirmed (%(n)d rooms): %(title)s, %(when)s",
        n,
    ),
    "meeting.cancelled": lambda n: ngettext(
        "Meeting cancelled (%(n)d room): %(title)s, %(when)s",
        "Meeting cancelled (%(n)d rooms): %(title)s, %(when)s",
        n,
    ),
}


def _leads() -> dict[str, str]:
    return {
        "meeting.created": _("Your meeting is booked in these rooms, all at the same time:"),
        "meeting.updated": _("Your meeting has moved; all its rooms are booked at the new time:"),
        "meeting.confirmed": _("The approval has come; your meeting is now confirmed in these rooms:"),
        "meeting.cancelled": _("These rooms of your meeting have been cancelled:"),
    }


def uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{settings.RFR_CALENDAR_DOMAIN}"


def room_line(booking: Booking) -> str:
    """``H1.01 Elbe, Haus A: Mittwoch, 25. November 2026, 10:00–11:00`` in the room's own zone."""
    return f"{ical.location(booking)}: {compose.booking_when(booking)}"


def meeting_event(meeting: Meeting, rooms: list[Booking], *, viewer, cancelled: bool) -> icalendar.Event:
    """One VEVENT for the meeting, every room in LOCATION and each with its local time below."""
    first = rooms[0]
    event = icalendar.Event()
    event.add("uid", uid(meeting))
    event.add("sequence", sequence(meeting))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", first.span.lower.astimezone(UTC))
    event.add("dtend", first.span.upper.astimezone(UTC))
    event.add("summary", compose.title_for(first, viewer))
    event.add("location", "; ".join(ical.location(b) for b in rooms))
    event.add("description", "\n".join(room_line(b) for b in rooms))
    if first.private:
        event.add("class", "PRIVATE")
    active = [b for b in rooms if b.is_active]
    if cancelled or not active:
        event.add("status", "CANCELLED")
    else:
        confirmed = all(b.status == Booking.Status.CONFIRMED for b in active)
        event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
    return event


def _calendar(meeting, rooms, method, person, sender) -> Calendar:
    event = ical.invite(
        meeting_event(
            meeting,
            rooms,
            viewer=person if getattr(person, "pk", None) else rooms[0].organizer,
            cancelled=method == CANCEL,
        ),
        organizer=sender[1],
        organizer_name=sender[0],
        attendee=person.email,
    )
    filename = "cancel.ics" if method == CANCEL else "invite.ics"
    return Calendar(ical.calendar([event], method=method), method, filename)


def meeting_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    """The organizer's (and delegate's) mail, the attendees' invitations, the managers' requests."""
    meeting = (
        Meeting.objects.select_related("organizer", "booked_by").filter(pk=message.payload["meeting"]).first()
    )
    changed = compose.bookings_at_change(message.payload.get("bookings", []))
    if meeting is None or not changed:
        return []
    shown = {b.pk for b in changed}
    others = (
        Booking.objects.select_related(compose.PLACE, "organizer", "booked_by")
        .filter(meeting_room__meeting=meeting, status__in=Booking.ACTIVE)
        .exclude(pk__in=shown)
    )
    # The rooms the meeting holds after this change: the changed ones as they were then, and the rest.
    held = sorted([b for b in changed if b.is_active] + list(others), key=lambda b: ical.location(b))
    ending = message.topic == "meeting.cancelled" and not held
    calendar_rooms = held or changed
    method = CANCEL if ending else REQUEST
    waits = set(
        MeetingRoom.objects.filter(
            meeting=meeting, waits=True, booking__status=Booking.Status.PENDING
        ).values_list("booking_id", flat=True)
    )
    mails: list[Mail] = []
    recipients = [meeting.organizer]
    if meeting.booked_by_id and meeting.booked_by_id != meeting.organizer_id:
        recipients.append(meeting.booked_by)
    for recipient in recipients:
        if not compose.reachable(recipient, message):
            continue
        facts = {
            "title": compose.title_for(changed[0], recipient),
            "when": compose.booking_when(changed[0]),
            "n": len(changed),
        }
        body = compose.render(
            "meeting.txt",
            {
                "name": compose.name_of(recipient),
                "lead": _leads()[message.topic],
                "title": facts["title"],
                "rooms": [(room_line(b), b.status, b.pk in waits) for b in changed],
                "still": [room_line(b) for b in held if b.pk not in shown],
                "reason": str(compose.latest_changes(changed[0], "cancelled").get("reason", ""))
                if message.topic == "meeting.cancelled"
                else "",
                "mine_url": compose.link("bookings:meeting", meeting.pk),
            },
        )
        subject = SUBJECTS[message.topic](len(changed)) % facts
        mails.append(
            Mail(
                recipient,
                subject,
                body,
                calendars=[_calendar(meeting, calendar_rooms, method, recipient, sender)],
            )
        )
    mails += _attendee_mails(meeting, changed[0], calendar_rooms, method, sender, held)
    if message.topic == "meeting.created":
        for booking in changed:
            if booking.status == Booking.Status.PENDING and booking.pk not in waits:
                for mail in compose.approval_requests(message, [booking]):
                    mail.suffix = f"{mail.suffix}b{booking.pk}"
                    mails.append(mail)
    return mails


def _attendee_mails(meeting, first: Booking, rooms, method, sender, held) -> list[Mail]:
    """Invited attendees get the entry once a room is confirmed, and its cancellation at the end."""
    if not first.invite_attendees:
        return []
    if method == REQUEST and not any(b.status == Booking.Status.CONFIRMED for b in held):
        return []  # rooms awaiting approval: invited once approved
    own = {u.email.lower() for u in (meeting.organizer, meeting.booked_by) if u is not None and u.email}
    organizer = compose.name_of(meeting.organizer)
    mails = []
    for n, person in enumerate(p for p in resolve(first.attendees) if p.email.lower() not in own):
        facts = {"title": first.title, "when": compose.booking_when(first)}
        if method == REQUEST:
            subject = _("Invitation: %(title)s, %(when)s") % facts
            lead = _("%(organizer)s invites you to this meeting:") % {"organizer": organizer}
        else:
            subject = _("Cancelled: %(title)s, %(when)s") % facts
            lead = _("%(organizer)s has cancelled this meeting, or you are no longer invited:") % {
                "organizer": organizer
            }
        body = compose.render(
            "meeting_invitation.txt",
            {
                "name": person.get_full_name() or person.email,
                "lead": lead,
                "title": first.title,
                "rooms": [
                    f"{room_line(b)} ({b.room.floor.building.address})"
                    if b.room.floor.building.address
                    else room_line(b)
                    for b in rooms
                ],
            },
        )
        mails.append(
            Mail(
                person,
                subject,
                body,
                suffix=f"a{n}",
                calendars=[_calendar(meeting, rooms, method, person, sender)],
            )
        )
    return mails


COMPOSERS = dict.fromkeys(SUBJECTS, meeting_mail)


def follow_meeting(message: OutboxMessage, mails: list[Mail], sender: tuple[str, str]) -> list[Mail]:
    """A change to one room of a meeting (given back, approved, refused, released) is mailed as
    for any booking, but the calendar entry it carries is the meeting's: every room still
    booked, under the meeting's UID, so each calendar keeps one entry for the meeting."""
    if not message.topic.startswith("booking.") or "id" not in message.payload:
        return mails
    link = MeetingRoom.objects.filter(booking_id=message.payload["id"]).select_related("meeting").first()
    if link is None:
        return mails
    [changed] = compose.bookings_at_change([message.payload]) or [None]
    if changed is None:
        return mails
    others = Booking.objects.select_related(compose.PLACE, "organizer", "booked_by").filter(
        meeting_room__meeting=link.meeting, status__in=Booking.ACTIVE
    )
    held = sorted(
        [b for b in others if b.pk != changed.pk] + ([changed] if changed.is_active else []),
        key=lambda b: ical.location(b),
    )
    method = REQUEST if held else CANCEL
    for mail in mails:
        if mail.calendars:
            mail.calendars = [_calendar(link.meeting, held or [changed], method, mail.recipient, sender)]
    return mails
