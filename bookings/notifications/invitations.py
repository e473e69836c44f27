"""Invitations to a booking's attendees: an iCalendar REQUEST, and CANCEL when they are off.

Attendees are people from the directory (by user name or mail address) and outside
addresses. They get mail only when the organizer asked for it (``Booking.invite_attendees``),
with the booking's UID and its version as SEQUENCE, so each calendar keeps one entry that
updates and cancellations change. Their answers are not needed (no RSVP).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import ical
from ..models import Booking, OutboxMessage
from . import compose
from .compose import CANCEL, REQUEST, Calendar, Mail

# Topics after which the attendees' calendars hold the booking, or no longer do.
INVITING = {"booking.created", "booking.approved", "booking.updated"}
# (A rejected or expired request was never sent to them: invitations wait for the approval.)
ENDING = {"booking.cancelled", "booking.released"}


@dataclass(frozen=True)
class Guest:
    """An outside attendee, known only by their address (quacks like a User for a Mail)."""

    email: str
    pk: None = None
    is_active: bool = True
    is_staff: bool = False

    def get_full_name(self) -> str:
        return ""

    def get_username(self) -> str:
        return self.email


def resolve(entries: list[str]) -> list:
    """The attendees who can be mailed: active users by user name or address, else valid addresses."""
    wanted = [e.strip() for e in entries if e.strip()]
    if not wanted:
        return []
    lowered = {e.lower() for e in wanted}
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    query = Q(username__in=wanted)
    for entry in lowered:
        if "@" in entry:
            query |= Q(email__iexact=entry)
    found = list(users.filter(query).order_by("pk"))
    people: dict[str, object] = {u.email.lower(): u for u in found}
    known = {u.username for u in found} | {u.email.lower() for u in found}
    for entry in wanted:
        if entry in known or entry.lower() in known or "@" not in entry:
            continue  # a plain name nobody in the directory has is listed, not mailed
        try:
            validate_email(entry)
        except ValidationError:
            continue
        people.setdefault(entry.lower(), Guest(entry))
    return list(people.values())


def _who(entries: list[str], booking: Booking) -> list:
    """Attendees to mail, without the organizer and the delegate (they have their own mail)."""
    own = {u.email.lower() for u in (booking.organizer, booking.booked_by) if u is not None and u.email}
    return [p for p in resolve(entries) if p.email.lower() not in own]


def _mail(booking: Booking, person, method: str, sender: tuple[str, str], n: int) -> Mail:
    facts = {"title": booking.title, "where": ical.location(booking), "when": compose.booking_when(booking)}
    organizer = booking.organizer.get_full_name() or booking.organizer.get_username()
    if method == REQUEST:
        subject = _("Invitation: %(title)s, %(when)s") % facts
        lead = _("%(organizer)s invites you to this meeting:") % {"organizer": organizer}
    else:
        subject = _("Cancelled: %(title)s, %(when)s") % facts
        lead = _("%(organizer)s has cancelled this meeting, or you are no longer invited:") % {
            "organizer": organizer
        }
    body = compose.render(
        "invitation.txt",
        {"name": person.get_full_name() or person.email, "lead": lead, **facts, "address": _address(booking)},
    )
    # The organizer sees the title of a private booking; so do those they invite.
    event = ical.booking_event(booking, viewer=booking.organizer, cancelled=method == CANCEL)
    if _address(booking):
        # Outside guests need the way there, not only the room's name.
        event.pop("location")
        event.add("location", f"{facts['where']}, {_address(booking)}")
    event = ical.invite(event, organizer=sender[1], organizer_name=sender[0], attendee=person.email)
    filename = "cancel.ics" if method == CANCEL else "invite.ics"
    calendar = Calendar(ical.calendar([event], method=method), method, filename)
    return Mail(person, subject, body, suffix=f"a{n}", calendars=[calendar])


def _address(booking: Booking) -> str:
    return booking.room.floor.building.address


def attendee_mails(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    """The invitations, updates and cancellations a booking change sends to its attendees."""
    if message.topic not in INVITING | ENDING:
        return []
    booking = next(iter(compose.bookings_at_change([message.payload])), None)
    if booking is None:
        return []
    invite, uninvite = [], []
    changes = compose.latest_changes(booking, "updated") if message.topic == "booking.updated" else {}
    was_inviting = changes.get("invite_attendees", [booking.invite_attendees])[0]
    if message.topic in ENDING:
        if booking.invite_attendees:
            uninvite = booking.attendees
    elif booking.status == Booking.Status.CONFIRMED:
        if booking.invite_attendees:
            invite = booking.attendees
            old = changes.get("attendees", [booking.attendees])[0]
            if was_inviting:
                uninvite = [a for a in old if a not in booking.attendees]
        elif was_inviting:
            uninvite = changes.get("attendees", [booking.attendees])[0]
    mails = []
    for method, entries in ((REQUEST, invite), (CANCEL, uninvite)):
        for person in _who(entries, booking):
            mails.append(_mail(booking, person, method, sender, len(mails)))
    return mails


def series_attendee_mails(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    """One mail per attendee for a series' dates: their REQUEST, or CANCEL when they end;
    and one to each attendee a series edit took off, cancelling the dates they were invited to."""
    bookings = [
        b for b in compose.bookings_at_change(message.payload.get("bookings", [])) if b.invite_attendees
    ]
    if not bookings:
        return []
    mails = _series_dates_mails(message, bookings, sender)
    return mails + _uninvited_mails(message, bookings, sender, start=len(mails))


def _events(dates: list[Booking], method: str, person, sender: tuple[str, str]) -> Calendar:
    """One VCALENDAR of the dates, each its own VEVENT (the occurrence's UID and SEQUENCE)."""
    events = [
        ical.invite(
            ical.booking_event(b, viewer=b.organizer, cancelled=method == CANCEL),
            organizer=sender[1],
            organizer_name=sender[0],
            attendee=person.email,
        )
        for b in dates
    ]
    filename = "cancel.ics" if method == CANCEL else "invite.ics"
    return Calendar(ical.calendar(events, method=method), method, filename)


def _series_dates_mails(
    message: OutboxMessage, bookings: list[Booking], sender: tuple[str, str]
) -> list[Mail]:
    first = bookings[0]
    ending = message.topic == "series.cancelled"
    held = [b for b in bookings if not ending and b.status == Booking.Status.CONFIRMED]
    ended = [b for b in bookings if ending or not b.is_active]
    if not held and not ended:
        return []  # dates awaiting approval: invited once approved
    organizer = first.organizer.get_full_name() or first.organizer.get_username()
    facts = {"title": first.title, "where": ical.location(first), "count": len(held or ended)}
    if held:
        subject = ngettext(
            "Invitation: %(title)s (%(count)d date)", "Invitation: %(title)s (%(count)d dates)", len(held)
        )
        lead = _("%(organizer)s invites you to these dates:") % {"organizer": organizer}
    else:
        subject = ngettext(
            "Cancelled: %(title)s (%(count)d date)", "Cancelled: %(title)s (%(count)d dates)", len(ended)
        )
        lead = _("%(organizer)s has cancelled these dates:") % {"organizer": organizer}
    mails = []
    for n, person in enumerate(_who(first.attendees, first)):
        calendars = [
            _events(dates, method, person, sender)
            for method, dates in ((REQUEST, held), (CANCEL, ended))
            if dates
        ]
        body = compose.render(
            "invitation_series.txt",
            {
                "name": person.get_full_name() or person.email,
                "lead": lead,
                **facts,
                "address": _address(first),
                "dates": [compose.booking_when(b) for b in (held or ended)],
            },
        )
        mails.append(Mail(person, subject % facts, body, suffix=f"a{n}", calendars=calendars))
    return mails


def _uninvited_mails(
    message: OutboxMessage, bookings: list[Booking], sender: tuple[str, str], *, start: int
) -> list[Mail]:
    """A CANCEL of the dates each attendee the edit took off was invited to (same UIDs, the new SEQUENCE)."""
    gone: dict[str, list[str]] = message.payload.get("uninvited") or {}
    if not gone:
        return []
    dates_of: dict[str, tuple[object, list[Booking]]] = {}
    for booking in bookings:
        entries = gone.get(str(booking.pk), [])
        for person in _who(entries, booking):
            dates_of.setdefault(person.email.lower(), (person, []))[1].append(booking)
    first = bookings[0]
    organizer = first.organizer.get_full_name() or first.organizer.get_username()
    mails = []
    for n, (person, dates) in enumerate(dates_of.values(), start=start):
        facts = {"title": first.title, "where": ical.location(first), "count": len(dates)}
        subject = (
            ngettext(
                "Cancelled: %(title)s (%(count)d date)", "Cancelled: %(title)s (%(count)d dates)", len(dates)
            )
            % facts
        )
        body = compose.render(
            "invitation_series.txt",
            {
                "name": person.get_full_name() or person.email,  # type: ignore[attr-defined]
                "lead": _("%(organizer)s no longer invites you to these dates:") % {"organizer": organizer},
                **facts,
                "address": _address(first),
                "dates": [compose.booking_when(b) for b in dates],
            },
        )
        mails.append(
            Mail(person, subject, body, suffix=f"a{n}", calendars=[_events(dates, CANCEL, person, sender)])
        )
    return mails


def with_attendees(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    return compose.booking_mail(message, sender) + attendee_mails(message, sender)


def series_with_attendees(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    return compose.series_mail(message, sender) + series_attendee_mails(message, sender)


# compose's table, with the booking topics also mailing the attendees.
COMPOSERS = {
    **compose.COMPOSERS,
    **dict.fromkeys(compose.BOOKING_TOPICS, with_attendees),
    **dict.fromkeys(compose.SERIES_TOPICS, series_with_attendees),
}
