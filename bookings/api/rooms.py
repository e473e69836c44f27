"""Rooms, their bookings, and a building's day at a glance."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query

from ..errors import InvalidBooking
from ..models import Room
from ..rules.catalogue import obstacles
from ..rules.groups import is_manager, may_override
from ..rules.resolve import rules_for
from ..selectors.availability import free_room_rows
from ..selectors.bookings import bookings_in_range
from ..selectors.catalogue import catalogue, room_rows
from ..selectors.dayplan import day_plan_dict, day_plan_rows
from ..services.bookings import check_on_behalf
from . import api
from .schemas import (
    INT_MAX,
    AvailabilityOut,
    BookingOut,
    CheckOut,
    Day,
    Error,
    Id,
    IsoDatetime,
    RoomOut,
    Text,
)
from .serialize import booking_dict

MAX_RANGE = timedelta(days=93)


def _check_range(start, end, *, start_name: str, end_name: str) -> None:
    if end <= start:
        raise InvalidBooking(
            _("%(end)s must be after %(start)s.") % {"end": end_name, "start": start_name}, field=end_name
        )
    if end - start > MAX_RANGE:
        raise InvalidBooking(
            _("The range can span at most %(days)d days.") % {"days": MAX_RANGE.days}, field=end_name
        )


@api.get("/rooms", response={200: list[RoomOut], 422: Error}, tags=["rooms"])
def list_rooms(
    request,
    building: Id | None = None,
    site: Id | None = None,
    min_capacity: int | None = Query(None, ge=1, le=INT_MAX),
    equipment: list[Text(max_length=50)] = Query([]),
    free_from: IsoDatetime | None = None,
    free_to: IsoDatetime | None = None,
):
    """Rooms, smallest first; with free_from and free_to only those free for the whole span."""
    filters = {"building": building, "site": site, "min_capacity": min_capacity, "equipment": equipment}
    if (free_from is None) != (free_to is None):
        missing = "free_to" if free_to is None else "free_from"
        raise InvalidBooking(_("free_from and free_to go together."), field=missing)
    if free_from is not None:
        _check_range(free_from, free_to, start_name="free_from", end_name="free_to")
        current, rows = free_room_rows(start=free_from, end=free_to, **filters)
    else:
        current, rows = room_rows(**filters)
    return HttpResponse(current.rooms_json(rows), content_type="application/json")


@api.get("/rooms/{room_id}", response={200: RoomOut, 404: Error}, tags=["rooms"])
def get_room(request, room_id: Id):
    current = catalogue()
    row = current.by_id.get(room_id)
    if row is None:
        raise Http404
    return HttpResponse(current.room_json(row), content_type="application/json")


@api.get(
    "/rooms/{room_id}/check", response={200: CheckOut, 403: Error, 404: Error, 422: Error}, tags=["rooms"]
)
def check_room(
    request,
    room_id: Id,
    start: IsoDatetime,
    end: IsoDatetime,
    on_behalf_of: Text(min_length=1, max_length=150) | None = Query(  # type: ignore[valid-type]
        None,
        description="the user name of the person you would book for (a delegate's principal, or anyone "
        "for room managers and facility admins): their quotas count; 403 with the reason if you may not",
    ),
):
    """May the caller book the room for [start, end)? Every reason why not, as a refusal would say."""
    room = get_object_or_404(Room.objects.select_related("floor__building__site"), pk=room_id)
    rules = rules_for(room)
    user = request.auth
    organizer_id = None
    if on_behalf_of:
        principal = get_user_model().objects.filter(username=on_behalf_of).first()
        if principal is None:
            raise InvalidBooking(_("There is no person with this user name."), field="on_behalf_of")
        if principal.pk != user.pk:
            # The same refusal a booking in their name gets (403 with the reason).
            check_on_behalf(user, principal, rules)
            organizer_id = principal.pk
    reasons = obstacles(
        user=user, rules=rules, start=start, end=end, now=timezone.now(), organizer_id=organizer_id
    )
    needs_approval = rules.requires_approval and not (may_override(user, rules) or is_manager(user, rules))
    return JsonResponse(
        {
            "allowed": not reasons,
            "reasons": [r.as_dict() for r in reasons],
            "needs_approval": needs_approval,
            "requires_check_in": rules.requires_check_in,
        }
    )


@api.get(
    "/rooms/{room_id}/bookings", response={200: list[BookingOut], 404: Error, 422: Error}, tags=["rooms"]
)
def room_bookings(
    request, room_id: Id, from_: IsoDatetime = Query(..., alias="from"), to: IsoDatetime = Query(...)
):
    """The room's active bookings overlapping [from, to); others' private titles hidden."""
    room = get_object_or_404(Room, pk=room_id)
    _check_range(from_, to, start_name="from", end_name="to")
    bookings = bookings_in_range(room_id=room.pk, start=from_, end=to)
    return JsonResponse([booking_dict(b, request.auth) for b in bookings], safe=False)


@api.get("/availability", response={200: AvailabilityOut, 422: Error}, tags=["rooms"])
def availability(request, date: Day, building: Id | None = None, site: Id | None = None):
    """Every room (of a building or site, or all) with its busy intervals that day."""
    plans = day_plan_rows(day=date, building=building, site=site)
    return JsonResponse(day_plan_dict(date, plans, request.auth))
