"""What visitors and hosts are mailed: invitations (with an iCalendar entry), their
updates and cancellations in each visitor's language; arrivals and departures to the host.

The booking's title is never in a visitor's mail: it is the host's company's business.
"""

from __future__ import annotations

import re
from datetime import UTC
from types import SimpleNamespace

import icalendar
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings import ical
from bookings.notifications.compose import CANCEL, REQUEST, Calendar, Mail, moment, name_of, when

from .models import Reception, Visit, Visitor


def render(template: str, context: dict) -> str:
    text = render_to_string(f"visitors/mail/{template}", context)
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip() + "\n"


def address(visit: Visit) -> str:
    building = visit.building
    return ", ".join(p for p in (building.name, building.address) if p)


def visit_event(visitor: Visitor, *, cancelled: bool) -> icalendar.Event:
    """The visitor's calendar entry: one per visitor, its SEQUENCE the visit's version."""
    visit = visitor.visit
    event = icalendar.Event()
    event.add("uid", f"visitor-{visitor.pk}@{settings.RFR_CALENDAR_DOMAIN}")
    event.add("sequence", visit.version)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", visit.start.astimezone(UTC))
    event.add("dtend", visit.end.astimezone(UTC))
    event.add("summary", _("Visit: %(host)s") % {"host": name_of(visit.host)})
    event.add("location", address(visit))
    directions = getattr(Reception.objects.filter(site_id=visit.building.site_id).first(), "directions", "")
    if directions:
        event.add("description", directions)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def visitor_mail(visitor: Visitor, sender: tuple[str, str], *, cancelled: bool) -> Mail:
    """The invitation (or its cancellation) in the visitor's own language."""
    visit = visitor.visit
    with translation.override(visitor.language):
        tz = visit.building.site.tz
        reception = Reception.objects.filter(site_id=visit.building.site_id).first()
        facts = {
            "name": visitor.name,
            "host": name_of(visit.host),
            "when": when(visit.start, visit.end, tz),
            "where": address(visit),
            "directions": reception.directions if reception else "",
            "code": visitor.code,
            "cancelled": cancelled,
            "updated": visit.version > 1,
        }
        if cancelled:
            subject = _("Cancelled: your visit to %(host)s, %(when)s") % facts
        elif visit.version > 1:
            subject = _("Changed: your visit to %(host)s, %(when)s") % facts
        else:
            subject = _("Invitation: your visit to %(host)s, %(when)s") % facts
        method = CANCEL if cancelled else REQUEST
        event = ical.invite(
            visit_event(visitor, cancelled=cancelled),
            organizer=sender[1],
            organizer_name=sender[0],
            attendee=visitor.email,
        )
        calendar = Calendar(
            ical.calendar([event], method=method), method, "cancel.ics" if cancelled else "invite.ics"
        )
        body = render("invitation.txt", facts)
    return Mail(
        SimpleNamespace(email=visitor.email), subject, body, suffix=f"v{visitor.pk}", calendars=[calendar]
    )


def host_mail(visitor: Visitor, *, arrived: bool) -> Mail | None:
    """The host hears that their visitor is at reception, or has left."""
    host = visitor.visit.host
    if not host.email or not host.is_active:
        return None
    with translation.override(settings.RFR_MAIL_LANGUAGE):
        at = visitor.arrived_at if arrived else visitor.left_at
        facts = {
            "name": name_of(host),
            "visitor": visitor.name,
            "company": visitor.company,
            "at": moment(at, visitor.visit.building.site.tz) if at else "",
            "building": visitor.visit.building.name,
            "arrived": arrived,
            "notes": visitor.notes,
        }
        if arrived:
            subject = _("Your visitor has arrived: %(visitor)s") % facts
        else:
            subject = _("Your visitor has left: %(visitor)s") % facts
        return Mail(host, subject, render("host.txt", facts), suffix=f"h{visitor.pk}")
