"""Visits in the JSON API: hosts register and cancel, reception lists and checks in and out.

Refusals come from the services as the booking core's domain errors, which the API's one
error table answers (403 NotAllowed, 422 InvalidBooking naming the field, 404 unknown ids
and other people's visits).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import AwareDatetime

from bookings.api.schemas import Day, Error, Id, IsoDatetime, Strict, Text
from bookings.errors import NotAllowed
from bookings.models import Booking, Building, Site

from . import selectors, services
from .access import visible_visitors, visible_visits, works_reception
from .models import Visit, Visitor

router = Router(tags=["visitors"])


class VisitorIn(Strict):
    name: Text(min_length=1, max_length=200)
    company: Text(max_length=200) = ""
    email: Text(max_length=254) = ""
    phone: Text(max_length=50) = ""
    licence_plate: Text(max_length=20) = Field("", description="only where the site offers visitor parking")
    notes: Text(max_length=500) = Field("", examples=["needs an escort"])
    language: Text(max_length=2) = Field("de", description="de or en: the invitation's language")


class VisitIn(Strict):
    booking: Id | None = Field(
        None, description="the booking the visitors come to; or building, start and end"
    )
    building: Id | None = None
    start: IsoDatetime | None = None
    end: IsoDatetime | None = None
    visitors: list[VisitorIn] = Field(min_length=1, max_length=50)


class WalkInIn(Strict):
    building: Id
    host: Text(min_length=1, max_length=150) = Field(description="the host's user name")
    visitor: VisitorIn


class VisitorOut(Schema):
    id: int
    visit: int
    name: str
    company: str
    host: str
    building: int
    start: AwareDatetime
    end: AwareDatetime
    state: str = Field(description="expected, overdue, arrived, left or cancelled")
    arrived_at: AwareDatetime | None
    left_at: AwareDatetime | None
    notes: str
    licence_plate: str


class VisitOut(Schema):
    id: int
    host: str
    booking: int | None
    building: int
    start: AwareDatetime
    end: AwareDatetime
    cancelled: bool
    visitors: list[VisitorOut]


def visitor_dict(visitor: Visitor, now) -> dict:
    visit = visitor.visit
    return {
        "id": visitor.pk,
        "visit": visit.pk,
        "name": visitor.name,
        "company": visitor.company,
        "host": visit.host.get_username(),
        "building": visit.building_id,
        "start": visit.start,
        "end": visit.end,
        "state": visitor.state(now),
        "arrived_at": visitor.arrived_at,
        "left_at": visitor.left_at,
        "notes": visitor.notes,
        "licence_plate": visitor.licence_plate,
    }


def visit_dict(visit: Visit) -> dict:
    now = timezone.now()
    return {
        "id": visit.pk,
        "host": visit.host.get_username(),
        "booking": visit.booking_id,
        "building": visit.building_id,
        "start": visit.start,
        "end": visit.end,
        "cancelled": visit.is_cancelled,
        "visitors": [visitor_dict(v, now) for v in visit.visitors.order_by("pk")],
    }


def _visit(request, visit_id: int) -> Visit:
    # Someone else's visit is 404 like a missing one: its existence is the host's business.
    visits = visible_visits(request.auth).select_related("building__site", "host")
    return get_object_or_404(visits, pk=visit_id)


def _visitor(request, visitor_id: int) -> Visitor:
    return get_object_or_404(
        visible_visitors(request.auth).select_related("visit__building__site", "visit__host"), pk=visitor_id
    )


@router.post("/visits", response={201: VisitOut, 403: Error, 404: Error, 422: Error})
def register_visit(request, body: VisitIn):
    """Register visitors for one of your bookings, or for a visit without a room (building, start, end).

    Each visitor with an e-mail address gets an invitation in their language with an iCalendar entry.
    """
    booking = (
        get_object_or_404(Booking.objects.select_related("room__floor__building"), pk=body.booking)
        if body.booking
        else None
    )
    building = get_object_or_404(Building, pk=body.building) if body.building and not booking else None
    visit = services.register_visit(
        host=request.auth,
        booking=booking,
        building=building,
        start=body.start,
        end=body.end,
        visitors=[v.dict() for v in body.visitors],
    )
    return JsonResponse(visit_dict(visit), status=201)


@router.get("/visits", response=list[VisitOut])
def my_visits(request):
    """Your own visits that are not over yet."""
    visits = selectors.hosted_visits(request.auth, since=timezone.now()).select_related("host")
    return JsonResponse([visit_dict(v) for v in visits], safe=False)


@router.get("/visits/{visit_id}", response={200: VisitOut, 403: Error, 404: Error})
def get_visit(request, visit_id: Id):
    """One visit: for its host, the reception of its site and facility admins."""
    return JsonResponse(visit_dict(_visit(request, visit_id)))


@router.post("/visits/{visit_id}/visitors", response={201: VisitorOut, 403: Error, 404: Error, 422: Error})
def add_visitor(request, visit_id: Id, body: VisitorIn):
    """One more visitor to your visit; they get an invitation."""
    visitor = services.add_visitor(visit=_visit(request, visit_id), actor=request.auth, data=body.dict())
    return JsonResponse(visitor_dict(visitor, timezone.now()), status=201)


@router.post("/visits/{visit_id}/cancel", response={200: VisitOut, 403: Error, 404: Error})
def cancel_visit(request, visit_id: Id):
    """Cancel your visit; expected visitors get a cancellation. Repeating it is harmless."""
    visit = services.cancel_visit(visit=_visit(request, visit_id), actor=request.auth)
    return JsonResponse(visit_dict(visit))


@router.get("/reception/{site_id}/visitors", response={200: list[VisitorOut], 403: Error, 404: Error})
def reception_day(
    request,
    site_id: Id,
    day: Day | None = Query(None, description="default: today at the site"),
    building: Id | None = None,
    q: Text(max_length=100) = Query("", description="part of a name or company"),
    present: bool = Query(False, description="only who is in the building now (the fire-safety list)"),
):
    """A reception's day: every visitor expected, arrived or left, overdue ones marked."""
    site = get_object_or_404(Site, pk=site_id)
    if not works_reception(request.auth, site):
        raise NotAllowed(_("Only the reception of this site sees its visitors."))
    place = get_object_or_404(Building, pk=building, site=site) if building else None
    now = timezone.now()
    if present:
        visitors = selectors.in_building(site=site, building=place)
    else:
        visitors = selectors.day_visitors(
            site=site, day=day or now.astimezone(site.tz).date(), building=place, query=q
        )
    return JsonResponse([visitor_dict(v, now) for v in visitors], safe=False)


@router.post(
    "/visitors/{visitor_id}/check-in", response={200: VisitorOut, 403: Error, 404: Error, 422: Error}
)
def check_in(request, visitor_id: Id):
    """Reception: the visitor has arrived (the host is told). Repeating it is harmless."""
    visitor = services.check_in_visitor(visitor=_visitor(request, visitor_id), actor=request.auth)
    return JsonResponse(visitor_dict(visitor, timezone.now()))


@router.post(
    "/visitors/{visitor_id}/check-out", response={200: VisitorOut, 403: Error, 404: Error, 422: Error}
)
def check_out(request, visitor_id: Id):
    """Reception: the visitor has left (the host is told). Repeating it is harmless."""
    visitor = services.check_out_visitor(visitor=_visitor(request, visitor_id), actor=request.auth)
    return JsonResponse(visitor_dict(visitor, timezone.now()))


@router.post("/reception/walk-ins", response={201: VisitorOut, 403: Error, 404: Error, 422: Error})
def walk_in(request, body: WalkInIn):
    """Reception: a visitor nobody registered, arrived now; the host is told."""
    building = get_object_or_404(Building.objects.select_related("site"), pk=body.building)
    host = get_object_or_404(get_user_model(), username=body.host)
    visitor = services.register_walk_in(
        building=building, host=host, actor=request.auth, data=body.visitor.dict()
    )
    return JsonResponse(visitor_dict(visitor, timezone.now()), status=201)
