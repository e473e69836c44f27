"""iCalendar (RFC 5545) for bookings: mail attachments and subscription feeds.

One booking is one VEVENT with a stable UID and its version as SEQUENCE, so a calendar
client that got it before updates its entry instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Booking
from .selectors.privacy import visible_title

PRODID = "-//raum]für[raum//Raumbuchung//DE"
STATUS = {
    Booking.Status.PENDING: "TENTATIVE",
    Booking.Status.CONFIRMED: "CONFIRMED",
}


def uid(booking: Booking) -> str:
    return f"booking-{booking.pk}@{settings.RFR_CALENDAR_DOMAIN}"


def location(booking: Booking) -> str:
    room = booking.room
    return f"{room.name}, {room.floor.building.name}"


def booking_event(booking: Booking, *, viewer=None, cancelled: bool = False) -> icalendar.Event:
    """The VEVENT of a booking; a private title shows only to those who may see it."""
    event = icalendar.Event()
    event.add("uid", uid(booking))
    event.add("sequence", booking.version)
    event.add("dtstamp", timezone.now())
    # In UTC: a fixed-offset time (as parsed from ISO 8601) would go out with a TZID
    # no calendar knows.
    event.add("dtstart", booking.span.lower.astimezone(UTC))
    event.add("dtend", booking.span.upper.astimezone(UTC))
    title = visible_title(
        booking.title,
        private=booking.private,
        organizer_id=booking.organizer_id,
        viewer=viewer,
        booked_by_id=booking.booked_by_id,
    )
    event.add("summary", title if title is not None else _("Busy"))
    event.add("location", location(booking))
    if booking.private:
        event.add("class", "PRIVATE")
    if cancelled or not booking.is_active:
        event.add("status", "CANCELLED")
    else:
        event.add("status", STATUS[booking.status])
    return event


def calendar(events: Iterable[icalendar.Event], *, method: str | None = None, name: str = "") -> bytes:
    """A VCALENDAR around the events; method REQUEST or CANCEL for mail (iTIP), none for feeds."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    return cal.to_ical()


def invite(
    event: icalendar.Event, *, organizer: str, attendee: str, organizer_name: str = ""
) -> icalendar.Event:
    """Name the parties iTIP wants in a REQUEST or CANCEL (RFC 5546).

    The system is the organizer and the recipient an attendee who has accepted: a client
    that is told it organizes a meeting itself would not take the update.
    """
    event.add(
        "organizer", f"mailto:{organizer}", parameters={"CN": organizer_name} if organizer_name else None
    )
    event.add(
        "attendee",
        f"mailto:{attendee}",
        parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"},
    )
    return event
