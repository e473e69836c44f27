"""Who is mailed about an outbox message, and what the mail says.

A mail tells of the change its message announces, not of later ones: the booking is
read from the database for its title and room, then given the status, time and version
the message carried. So a mail delivered late still says what happened then, and its
calendar entry's SEQUENCE is that of the change (a client ignores an older one).

Every text is in settings.RFR_MAIL_LANGUAGE (the caller activates it); times are in the
time zone of the room's site.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import ical
from ..models import Blocking, Booking, BookingEvent, OutboxMessage, Room, Series, WaitingEntry
from ..rules.groups import manager_user_ids
from ..rules.resolve import rules_for
from ..selectors.privacy import visible_title
from ..services.approvals import decision_link
from ..spans import make_span

log = logging.getLogger("rfr.mail")

REQUEST, CANCEL = "REQUEST", "CANCEL"
PLACE = "room__floor__building__site"


@dataclass
class Calendar:
    content: bytes
    method: str
    filename: str


@dataclass
class Mail:
    recipient: object  # a User with an email address
    subject: str
    body: str
    suffix: str = ""  # tells the mails of one outbox message apart (Message-ID)
    calendars: list[Calendar] = field(default_factory=list)


# --- reading what the message tells ----------------------------------------------------


def _at_change(booking: Booking, payload: dict, rooms: dict[int, Room]) -> Booking:
    booking.status = payload["status"]
    booking.version = payload["version"]
    booking.span = make_span(datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"]))
    if payload["room"] != booking.room_id:
        booking.room = rooms.get(payload["room"]) or Room.objects.select_related("floor__building__site").get(
            pk=payload["room"]
        )
    return booking


def bookings_at_change(payloads: list[dict]) -> list[Booking]:
    """The bookings as the payloads describe them, in their order; unknown ids are left out."""
    found = Booking.objects.select_related(PLACE, "organizer", "booked_by").in_bulk(
        [p["id"] for p in payloads]
    )
    rooms = {b.room_id: b.room for b in found.values()}
    return [_at_change(found[p["id"]], p, rooms) for p in payloads if p["id"] in found]


def reachable(user, message: OutboxMessage) -> bool:
    """Whether the user can be mailed; says in the log why not (that is no error)."""
    if user is None:
        return False
    if not user.is_active:
        log.info("outbox #%s %s: %s is inactive, no mail", message.pk, message.topic, user.get_username())
        return False
    if not user.email:
        log.info(
            "outbox #%s %s: %s has no mail address, no mail", message.pk, message.topic, user.get_username()
        )
        return False
    return True


# --- how things are said -----------------------------------------------------------------


def site_tz(room: Room) -> ZoneInfo:
    return room.floor.building.site.tz


def moment(value: datetime, tz: ZoneInfo) -> str:
    """``Mittwoch, 25. November 2026, 10:00`` in the zone."""
    value = value.astimezone(tz)
    return (
        f"{formats.date_format(value, 'l')}, {formats.date_format(value, 'DATE_FORMAT')}, "
        + formats.time_format(value, "TIME_FORMAT")
    )


def when(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """``Mittwoch, 25. November 2026, 10:00–11:00`` in the zone; the zone named if not the server's."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    text = moment(start, tz)
    if end.date() == start.date():
        text += "–" + formats.time_format(end, "TIME_FORMAT")
    else:
        text += f" – {formats.date_format(end, 'DATE_FORMAT')}, {formats.time_format(end, 'TIME_FORMAT')}"
    if tz.key != settings.TIME_ZONE:
        text += f" ({tz.key})"
    return text


def booking_when(booking: Booking) -> str:
    return when(booking.span.lower, booking.span.upper, site_tz(booking.room))


def title_for(booking: Booking, viewer) -> str:
    title = visible_title(
        booking.title,
        private=booking.private,
        organizer_id=booking.organizer_id,
        viewer=viewer,
        booked_by_id=booking.booked_by_id,
    )
    return title if title is not None else _("(private)")


def name_of(user) -> str:
    return user.get_full_name() or user.get_username()


def link(name: str, *args) -> str:
    return settings.RFR_PUBLIC_URL + reverse(name, args=args)


def render(template: str, context: dict) -> str:
    text = render_to_string(f"bookings/mail/{template}", context)
    # Template tags leave blank lines behind; a mail has at most one in a row.
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip() + "\n"


def details(booking: Booking, viewer) -> dict:
    return {
        "title": title_for(booking, viewer),
        "where": ical.location(booking),
        "when": booking_when(booking),
    }


def invitation(bookings: list[Booking], method: str, recipient, sender: tuple[str, str]) -> Calendar:
    """One VCALENDAR with a VEVENT per booking, seen by the recipient."""
    events = [
        ical.invite(
            ical.booking_event(b, viewer=recipient, cancelled=method == CANCEL),
            organizer=sender[1],
            organizer_name=sender[0],
            attendee=recipient.email,
        )
        for b in bookings
    ]
    filename = "cancel.ics" if method == CANCEL else "invite.ics"
    return Calendar(ical.calendar(events, method=method), method, filename)


def latest_changes(booking: Booking, kind: str) -> dict:
    """What the latest event of that kind recorded (a rejection's reason, a release's cut)."""
    event = BookingEvent.objects.filter(booking=booking, kind=kind).order_by("-at", "-id").first()
    return (event.changes or {}) if event else {}


# --- one booking -------------------------------------------------------------------------

# topic -> (subject, first sentence, iTIP method); subjects get %(title)s and %(when)s.
BOOKING_TOPICS: dict[str, tuple[Callable[[], str], Callable[[], str], str]] = {
    "booking.created": (
        lambda: _("Booked: %(title)s, %(when)s"),
        lambda: _("Your booking is confirmed."),
        REQUEST,
    ),
    "booking.updated": (
        lambda: _("Changed: %(title)s, %(when)s"),
        lambda: _("Your booking has been changed. It is now:"),
        REQUEST,
    ),
    "booking.approved": (
        lambda: _("Approved: %(title)s, %(when)s"),
        lambda: _("Your request has been approved; the room is booked for you."),
        REQUEST,
    ),
    "booking.cancelled": (
        lambda: _("Cancelled: %(title)s, %(when)s"),
        lambda: _("Your booking has been cancelled."),
        CANCEL,
    ),
    "booking.rejected": (
        lambda: _("Rejected: %(title)s, %(when)s"),
        lambda: _("Your request has been rejected; the room is free for others."),
        CANCEL,
    ),
    "booking.expired": (
        lambda: _("Not approved in time: %(title)s, %(when)s"),
        lambda: _("Nobody approved your request in time, so it has expired; the room is free for others."),
        CANCEL,
    ),
    "booking.released": (
        lambda: _("Released: %(title)s, %(when)s"),
        lambda: _("Nobody checked in, so the room has been released for others."),
        CANCEL,
    ),
}
# A waiting-list entry booked when the slot freed up: the mail says so and how to give it back.
FROM_WAITING_LIST = (
    lambda: _("Your turn from the waiting list: %(title)s, %(when)s"),
    lambda: _(
        "The slot you were waiting for has become free, and it is now booked for you. "
        "If you no longer need it, please give it back so the next person can have it:"
    ),
)
# The same, where the room's policy holds the slot as an offer to be accepted in time.
OFFERED = (
    lambda: _("Free for you from the waiting list: %(title)s, %(when)s"),
    lambda: _(
        "The slot you were waiting for has become free, and it is held for you until %(until)s. "
        "Please accept it or give it back in My bookings; if you do not accept it by then, it goes "
        "to the next person in line:"
    ),
)
PENDING = (
    lambda: _("Requested: %(title)s, %(when)s"),
    lambda: _(
        "Your request has been sent to the room managers. The room is held for you until they decide; "
        "you will get a mail either way."
    ),
)


def booking_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    booking = next(iter(bookings_at_change([message.payload])), None)
    if booking is None:
        return []
    subject, lead, method = BOOKING_TOPICS[message.topic]
    give_back = ""
    created = latest_changes(booking, "created") if message.topic == "booking.created" else {}
    if created.get("waiting_list") and created.get("offer_until"):
        until = moment(datetime.fromisoformat(created["offer_until"]), site_tz(booking.room))
        subject, lead = OFFERED[0], lambda: OFFERED[1]() % {"until": until}
        give_back = link("bookings:mine") + f"#waiting-{created['waiting_list']}"
    elif created.get("waiting_list"):
        subject, lead = FROM_WAITING_LIST
        give_back = link("bookings:cancel", booking.pk)
    if message.topic == "booking.created" and booking.status == Booking.Status.PENDING:
        subject, lead = PENDING
    if message.topic == "booking.released" and (cut := latest_changes(booking, "released").get("end")):
        # The release cut the booking short; its owner knows it by the time it was booked for.
        booking.span = make_span(booking.span.lower, datetime.fromisoformat(cut[0]))
    mails = []
    # The organizer, and the delegate who booked in their name: both hear of every change.
    recipients = [booking.organizer]
    if booking.booked_by_id and booking.booked_by_id != booking.organizer_id:
        recipients.append(booking.booked_by)
    for recipient in recipients:
        if not reachable(recipient, message):
            continue
        facts = details(booking, recipient)
        changes = latest_changes(booking, message.topic.removeprefix("booking.")) if method == CANCEL else {}
        reason = str(changes.get("reason", ""))
        body = render(
            "booking.txt",
            {
                "name": name_of(recipient),
                "lead": lead(),
                **facts,
                "reason": reason,
                "give_back_url": give_back,
                "mine_url": link("bookings:mine"),
            },
        )
        mails.append(
            Mail(
                recipient,
                subject() % facts,
                body,
                calendars=[invitation([booking], method, recipient, sender)],
            )
        )
    if message.topic == "booking.created" and booking.status == Booking.Status.PENDING:
        mails += approval_requests(message, [booking])
    return mails


def approval_requests(message: OutboxMessage, bookings: list[Booking]) -> list[Mail]:
    """Each manager of the room gets the pending requests with links to decide them."""
    pending = [b for b in bookings if b.status == Booking.Status.PENDING]
    if not pending:
        return []
    first = pending[0]
    managers = get_user_model().objects.filter(pk__in=manager_user_ids(rules_for(first.room)))
    mails = []
    for manager in managers.order_by("pk"):
        if not reachable(manager, message):
            continue
        requests = []
        for b in pending:
            # The page behind the link asks again before it decides (a GET never does);
            # the parameter only says which answer to offer first.
            url = decision_link(booking_id=b.pk, manager_id=manager.pk)
            requests.append(
                {
                    **details(b, manager),
                    "approve_url": f"{url}?decision=approve",
                    "reject_url": f"{url}?decision=reject",
                    "due": moment(b.decision_due_at, site_tz(b.room)) if b.decision_due_at else "",
                }
            )
        subject = ngettext(
            "Please approve: %(room)s, %(when)s",
            "Please approve: %(room)s, %(count)d dates from %(when)s",
            len(pending),
        ) % {"room": first.room.name, "when": booking_when(first), "count": len(pending)}
        body = render(
            "approval_request.txt",
            {
                "name": name_of(manager),
                "organizer": name_of(first.organizer),
                "requests": requests,
            },
        )
        mails.append(Mail(manager, subject, body, suffix=f"m{manager.pk}"))
    return mails


def reminder_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    booking = next(iter(bookings_at_change([message.payload])), None)
    if booking is None:
        return []
    current = Booking.objects.filter(pk=booking.pk).values_list("status", flat=True).first()
    if current not in Booking.ACTIVE:
        log.info("outbox #%s: booking %s is no longer active, no reminder", message.pk, booking.pk)
        return []
    organizer = booking.organizer
    if not reachable(organizer, message):
        return []
    facts = details(booking, organizer)
    body = render(
        "booking.txt",
        {
            "name": name_of(organizer),
            "lead": _("A reminder: your booking starts soon."),
            **facts,
            "mine_url": link("bookings:mine"),
        },
    )
    return [Mail(organizer, _("Reminder: %(title)s, %(when)s") % facts, body)]


# --- series -------------------------------------------------------------------------------

SERIES_TOPICS = {
    "series.created": lambda n: ngettext(
        "Series booked: %(title)s (%(count)d date)", "Series booked: %(title)s (%(count)d dates)", n
    ),
    "series.updated": lambda n: ngettext(
        "Series changed: %(title)s (%(count)d date)", "Series changed: %(title)s (%(count)d dates)", n
    ),
    "series.cancelled": lambda n: ngettext(
        "Series cancelled: %(title)s (%(count)d date)", "Series cancelled: %(title)s (%(count)d dates)", n
    ),
}


def series_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    """One mail for the whole series, with one calendar entry per occurrence.

    The organizer gets it, and so does the delegate who booked the series in their name.
    """
    series = (
        Series.objects.select_related("organizer", "booked_by").filter(pk=message.payload["series"]).first()
    )
    bookings = bookings_at_change(message.payload.get("bookings", []))
    if series is None or not bookings:
        return []
    mails = []
    recipients = [series.organizer]
    if series.booked_by_id and series.booked_by_id != series.organizer_id:
        recipients.append(series.booked_by)
    active = [b for b in bookings if b.is_active and message.topic != "series.cancelled"]
    ended = [b for b in bookings if b not in active]
    leads = {
        "series.created": _("Your series is booked for these dates:"),
        "series.updated": _("These dates of your series have changed:"),
        "series.cancelled": _("These dates of your series have been cancelled:"),
    }
    for recipient in recipients:
        if not reachable(recipient, message):
            continue
        calendars = [invitation(active, REQUEST, recipient, sender)] if active else []
        if ended:
            calendars.append(invitation(ended, CANCEL, recipient, sender))
        body = render(
            "series.txt",
            {
                "name": name_of(recipient),
                "lead": leads[message.topic],
                "title": title_for(bookings[0], recipient),
                "where": ical.location(bookings[0]),
                "dates": [(booking_when(b), b.status) for b in bookings],
                "pending": any(b.status == Booking.Status.PENDING for b in active),
                "mine_url": link("bookings:mine"),
            },
        )
        subject = SERIES_TOPICS[message.topic](len(bookings)) % {
            "title": title_for(bookings[0], recipient),
            "count": len(bookings),
        }
        mails.append(Mail(recipient, subject, body, calendars=calendars))
    if message.topic == "series.created":
        mails += approval_requests(message, bookings)
    return mails


def no_shows_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    series = (
        Series.objects.select_related("organizer", "room__floor__building")
        .filter(pk=message.payload["series"])
        .first()
    )
    if series is None or not reachable(series.organizer, message):
        return []
    count = int(message.payload.get("count", 0))
    facts = {"title": series.title, "where": f"{series.room.name}, {series.room.floor.building.name}"}
    body = render(
        "no_shows.txt",
        {
            "name": name_of(series.organizer),
            "count": count,
            **facts,
            "cancel_url": link("bookings:cancel_series", series.pk),
        },
    )
    subject = _("Series not used: %(title)s") % facts
    return [Mail(series.organizer, subject, body)]


# --- blockings ----------------------------------------------------------------------------


def blocking_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    """Each organizer of an affected booking hears of the closure once, with their bookings."""
    blocking = (
        Blocking.objects.select_related("site", "building__site", "room__floor__building__site")
        .filter(pk=message.payload["blocking"])
        .first()
    )
    if blocking is None:
        return []
    place = blocking.place
    site = blocking.site or (
        blocking.building.site if blocking.building else blocking.room.floor.building.site
    )
    period = when(blocking.span.lower, blocking.span.upper, site.tz)
    affected = (
        Booking.objects.select_related(PLACE, "organizer")
        .filter(pk__in=message.payload.get("bookings", []), status__in=Booking.ACTIVE)
        .order_by("organizer_id", "span")
    )
    by_organizer: dict[int, list[Booking]] = {}
    for booking in affected:
        by_organizer.setdefault(booking.organizer_id, []).append(booking)
    mails = []
    for bookings in by_organizer.values():
        organizer = bookings[0].organizer
        if not reachable(organizer, message):
            continue
        body = render(
            "blocking.txt",
            {
                "name": name_of(organizer),
                "place": str(place),
                "reason": blocking.reason,
                "period": period,
                "bookings": [details(b, organizer) for b in bookings],
                "mine_url": link("bookings:mine"),
            },
        )
        subject = _("Closed: %(place)s, %(when)s") % {"place": place, "when": period}
        mails.append(Mail(organizer, subject, body, suffix=f"u{organizer.pk}"))
    return mails


# --- the waiting list ---------------------------------------------------------------------


def waiting_refused_mail(message: OutboxMessage, sender: tuple[str, str]) -> list[Mail]:
    """The person in line hears that the freed slot could not be booked for them, and why."""
    entry = (
        WaitingEntry.objects.select_related("person", "room__floor__building__site")
        .filter(pk=message.payload["entry"])
        .first()
    )
    if entry is None or not reachable(entry.person, message):
        return []
    facts = {
        "title": entry.title,
        "where": f"{entry.room.name}, {entry.room.floor.building.name}",
        "when": when(entry.span.lower, entry.span.upper, site_tz(entry.room)),
    }
    body = render(
        "waiting_refused.txt",
        {
            "name": name_of(entry.person),
            **facts,
            "reason": message.payload.get("reason") or entry.reason,
            "mine_url": link("bookings:mine"),
        },
    )
    subject = _("Waiting list: not booked for you: %(title)s, %(when)s") % facts
    return [Mail(entry.person, subject, body)]


COMPOSERS: dict[str, Callable[[OutboxMessage, tuple[str, str]], list[Mail]]] = {
    **dict.fromkeys(BOOKING_TOPICS, booking_mail),
    "booking.reminder": reminder_mail,
    **dict.fromkeys(SERIES_TOPICS, series_mail),
    "series.no_shows": no_shows_mail,
    "blocking.created": blocking_mail,
    "waiting.refused": waiting_refused_mail,
}
