"""Every write about visits: register, add, cancel, check in and out, walk-ins, bookings' changes.

Keyword-only, typed, atomic; refusals are the booking core's domain errors
(InvalidBooking names the field, NotAllowed says why), so every interface maps them
with the error table it already has. Each change writes a VisitEvent and, where someone
must hear of it, an outbox message (channel ``visitors`` mails visitors and hosts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.errors import InvalidBooking, NotAllowed
from bookings.models import Booking, Building
from bookings.outbox import enqueue
from bookings.services.bookings import can_manage

from .access import may_host, works_reception
from .models import Reception, Visit, VisitEvent, Visitor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FIELDS = ("name", "company", "email", "phone", "licence_plate", "notes", "language")
LIMITS = {"name": 200, "company": 200, "email": 254, "phone": 50, "licence_plate": 20, "notes": 500}


def clean_visitor(data: dict, *, building: Building, require_email: bool = True) -> dict:
    """The visitor's fields, trimmed and checked; raises InvalidBooking naming the field."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise InvalidBooking(
            _("Unknown field: %(field)s.") % {"field": sorted(unknown)[0]}, field=sorted(unknown)[0]
        )
    clean = {f: " ".join(str(data.get(f) or "").split()) for f in FIELDS if f != "notes"}
    clean["notes"] = str(data.get("notes") or "").strip()
    clean["language"] = clean["language"] or Visitor.Language.GERMAN
    if not clean["name"]:
        raise InvalidBooking(_("Please enter the visitor's name."), field="name")
    for name, limit in LIMITS.items():
        if len(clean[name]) > limit or "\x00" in clean[name]:
            raise InvalidBooking(_("Too long: at most %(limit)d characters.") % {"limit": limit}, field=name)
    if clean["email"]:
        try:
            validate_email(clean["email"])
        except ValidationError:
            raise InvalidBooking(_("Please enter a valid e-mail address."), field="email") from None
    elif require_email:
        raise InvalidBooking(
            _("Please enter the visitor's e-mail address for the invitation."), field="email"
        )
    if clean["language"] not in Visitor.Language.values:
        raise InvalidBooking(_("Language must be de or en."), field="language")
    if clean["licence_plate"]:
        reception = Reception.objects.filter(site_id=building.site_id).first()
        if reception is None or not reception.offers_parking:
            raise InvalidBooking(_("This site offers no visitor parking."), field="licence_plate")
        clean["licence_plate"] = clean["licence_plate"].upper()
    return clean


def log(
    visit: Visit,
    kind: str,
    *,
    actor: User | None,
    at: datetime,
    visitor: Visitor | None = None,
    changes: dict | None = None,
) -> None:
    VisitEvent.objects.create(
        visit=visit, visitor=visitor, kind=kind, actor=actor, at=at, changes=changes or {}
    )


def announce(topic: str, **payload) -> None:
    """An outbox message for the ``visitors`` channel (ids only: no personal data in the outbox)."""
    enqueue(topic=topic, payload=payload)


def _check_times(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    if start is None or end is None:
        raise InvalidBooking(_("A visit without a booking needs a start and an end."), field="start")
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise InvalidBooking(_("Times need a time zone offset."), field="start")
    if end <= start:
        raise InvalidBooking(_("The end must be after the start."), field="end")
    return start, end


@transaction.atomic
def register_visit(
    *,
    host: User,
    visitors: list[dict],
    booking: Booking | None = None,
    building: Building | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Visit:
    """A visit for a booking (its time and building) or without one; raises InvalidBooking, NotAllowed."""
    now = timezone.now()
    if booking is not None:
        if not can_manage(host, booking):
            raise NotAllowed(_("Only the organizer can add visitors to this booking."))
        if not booking.is_active:
            raise InvalidBooking(_("This booking is no longer active."), field="booking")
        building = booking.room.floor.building
        start, end = booking.span.lower, booking.span.upper
    elif building is None:
        raise InvalidBooking(_("Please choose a building."), field="building")
    start, end = _check_times(start, end)
    if end <= now:
        raise InvalidBooking(_("This visit would be over already."), field="end")
    if not visitors:
        raise InvalidBooking(_("Please add at least one visitor."), field="visitors")
    cleaned = [clean_visitor(v, building=building) for v in visitors]
    visit = Visit.objects.create(host=host, booking=booking, building=building, start=start, end=end)
    log(
        visit,
        VisitEvent.Kind.REGISTERED,
        actor=host,
        at=now,
        changes={"booking": booking.pk if booking else None, "visitors": len(cleaned)},
    )
    for data in cleaned:
        _add(visit, data, actor=host, now=now)
    return visit


def _add(visit: Visit, data: dict, *, actor: User, now: datetime, walk_in: bool = False) -> Visitor:
    visitor = Visitor.objects.create(visit=visit, walk_in=walk_in, **data)
    log(visit, VisitEvent.Kind.ADDED, actor=actor, at=now, visitor=visitor)
    if visitor.email and not walk_in:
        announce("visitor.invited", visitor=visitor.pk, version=visit.version)
    return visitor


def _lock_visit(visit: Visit) -> Visit:
    # Reception and the booking's sink may change one visit at once: the second waits.
    return Visit.objects.select_for_update(of=("self",)).select_related("building__site").get(pk=visit.pk)


@transaction.atomic
def add_visitor(*, visit: Visit, actor: User, data: dict) -> Visitor:
    """One more visitor to a visit; raises NotAllowed, InvalidBooking."""
    if not may_host(actor, visit):
        raise NotAllowed(_("Only the host can add visitors to this visit."))
    visit = _lock_visit(visit)
    now = timezone.now()
    if visit.is_cancelled or visit.end <= now:
        raise InvalidBooking(_("This visit is cancelled or over."), field="visit")
    return _add(visit, clean_visitor(data, building=visit.building), actor=actor, now=now)


@transaction.atomic
def cancel_visit(*, visit: Visit, actor: User | None, reason: str = "") -> Visit:
    """Cancel a visit and tell its expected visitors; repeating it is harmless. Raises NotAllowed."""
    if actor is not None and not may_host(actor, visit):
        raise NotAllowed(_("Only the host can cancel this visit."))
    visit = _lock_visit(visit)
    if visit.is_cancelled:
        return visit
    now = timezone.now()
    visit.cancelled_at = now
    visit.version += 1
    visit.save(update_fields=["cancelled_at", "version"])
    expected = list(visit.visitors.filter(status=Visitor.Status.EXPECTED))
    visit.visitors.filter(pk__in=[v.pk for v in expected]).update(status=Visitor.Status.CANCELLED)
    log(visit, VisitEvent.Kind.CANCELLED, actor=actor, at=now, changes={"reason": reason} if reason else None)
    for visitor in expected:
        if visitor.email:
            announce("visitor.cancelled", visitor=visitor.pk, version=visit.version)
    return visit


@transaction.atomic
def move_visit(
    *, visit: Visit, start: datetime, end: datetime, building: Building, actor: User | None
) -> Visit:
    """New time or place; the expected visitors get an updated invitation. Raises InvalidBooking."""
    start, end = _check_times(start, end)
    visit = _lock_visit(visit)
    if visit.is_cancelled or (visit.start, visit.end, visit.building_id) == (start, end, building.pk):
        return visit
    changes = {
        "start": [visit.start.isoformat(), start.isoformat()],
        "end": [visit.end.isoformat(), end.isoformat()],
        "building": [visit.building_id, building.pk],
    }
    visit.start, visit.end, visit.building = start, end, building
    visit.version += 1
    visit.save(update_fields=["start", "end", "building", "version"])
    log(visit, VisitEvent.Kind.CHANGED, actor=actor, at=timezone.now(), changes=changes)
    for visitor in visit.visitors.filter(status=Visitor.Status.EXPECTED).exclude(email=""):
        announce("visitor.invited", visitor=visitor.pk, version=visit.version)
    return visit


def follow_booking(booking_id: int) -> None:
    """Bring a booking's visits in line with it: moved with it, cancelled with it. Idempotent."""
    booking = Booking.objects.select_related("room__floor__building").filter(pk=booking_id).first()
    if booking is None:
        return
    for visit in Visit.objects.filter(booking=booking, cancelled_at__isnull=True):
        if booking.is_active:
            move_visit(
                visit=visit,
                start=booking.span.lower,
                end=booking.span.upper,
                building=booking.room.floor.building,
                actor=None,
            )
        else:
            cancel_visit(visit=visit, actor=None, reason=booking.status)


def _lock_visitor(visitor: Visitor, actor: User) -> Visitor:
    if not works_reception(actor, visitor.visit.building.site):
        raise NotAllowed(_("Only the reception of this site can check visitors in and out."))
    return (
        Visitor.objects.select_for_update(of=("self",))
        .select_related("visit__building__site", "visit__host")
        .get(pk=visitor.pk)
    )


@transaction.atomic
def check_in_visitor(*, visitor: Visitor, actor: User) -> Visitor:
    """Record the arrival and tell the host; again is harmless. Raises NotAllowed, InvalidBooking."""
    visitor = _lock_visitor(visitor, actor)
    if visitor.status == Visitor.Status.ARRIVED:
        return visitor
    if visitor.status != Visitor.Status.EXPECTED or visitor.visit.is_cancelled:
        raise InvalidBooking(_("This visitor is not expected (cancelled or left already)."), field="visitor")
    return arrive(visitor, actor=actor, now=timezone.now())


def arrive(visitor: Visitor, *, actor: User | None, now: datetime, changes: dict | None = None) -> Visitor:
    """Mark a locked, expected visitor arrived, log it and tell the host; the callers check who may."""
    visitor.status, visitor.arrived_at = Visitor.Status.ARRIVED, now
    visitor.save(update_fields=["status", "arrived_at"])
    log(visitor.visit, VisitEvent.Kind.ARRIVED, actor=actor, at=now, visitor=visitor, changes=changes)
    announce("visitor.arrived", visitor=visitor.pk)
    return visitor


@transaction.atomic
def check_out_visitor(*, visitor: Visitor, actor: User) -> Visitor:
    """Record the departure and tell the host; again is harmless. Raises NotAllowed, InvalidBooking."""
    visitor = _lock_visitor(visitor, actor)
    if visitor.status == Visitor.Status.LEFT:
        return visitor
    if visitor.status != Visitor.Status.ARRIVED:
        raise InvalidBooking(_("Only a visitor who has arrived can leave."), field="visitor")
    now = timezone.now()
    visitor.status, visitor.left_at = Visitor.Status.LEFT, now
    visitor.save(update_fields=["status", "left_at"])
    log(visitor.visit, VisitEvent.Kind.LEFT, actor=actor, at=now, visitor=visitor)
    announce("visitor.left", visitor=visitor.pk)
    return visitor


@transaction.atomic
def register_walk_in(
    *, building: Building, host: User, actor: User, data: dict, minutes: int = 120
) -> Visitor:
    """A walk-in at the desk: arrived at once, the host told. Raises NotAllowed, InvalidBooking."""
    if not works_reception(actor, building.site):
        raise NotAllowed(_("Only the reception of this site can register walk-ins."))
    if not host.is_active:
        raise InvalidBooking(_("Please choose a host who works here."), field="host")
    now = timezone.now()
    clean = clean_visitor(data, building=building, require_email=False)
    visit = Visit.objects.create(
        host=host, building=building, start=now, end=now + timedelta(minutes=minutes)
    )
    log(visit, VisitEvent.Kind.REGISTERED, actor=actor, at=now, changes={"walk_in": True, "visitors": 1})
    visitor = _add(visit, clean, actor=actor, now=now, walk_in=True)
    visitor.status, visitor.arrived_at = Visitor.Status.ARRIVED, now
    visitor.save(update_fields=["status", "arrived_at"])
    log(visit, VisitEvent.Kind.ARRIVED, actor=actor, at=now, visitor=visitor)
    announce("visitor.arrived", visitor=visitor.pk)
    return visitor
