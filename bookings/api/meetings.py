"""One meeting in several rooms: find rooms together, book, move and cancel them as one."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query

from ..errors import InvalidBooking, NotAllowed
from ..models import Booking, Building, Meeting, Room
from ..selectors.meetings import meeting_rooms, rooms_for_meeting
from ..services import meetings
from . import api
from .bookings import IdempotencyKey, IfMatch, _idempotent, _principal
from .rooms import _check_range
from .schemas import (
    ConflictOut,
    Error,
    Id,
    IsoDatetime,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    MeetingRoomsOut,
    Text,
)
from .serialize import booking_dict, room_dict


def meeting_dict(meeting: Meeting, viewer) -> dict:
    bookings = meeting_rooms(meeting)
    return {
        "id": meeting.pk,
        "approval": meeting.approval,
        "cancelled": meeting.cancelled_at is not None,
        "version": sum(b.version for b in bookings),
        "rooms": [
            {
                "room": room_dict(b.room),
                "waits": b.meeting_room.waits,
                # The time on the clocks where the room is.
                "local_start": b.span.lower.astimezone(b.room.floor.building.site.tz).isoformat(),
                "local_end": b.span.upper.astimezone(b.room.floor.building.site.tz).isoformat(),
                "booking": booking_dict(b, viewer),
            }
            for b in bookings
        ],
    }


def _rooms(ids: list[int]) -> list[Room]:
    found = Room.objects.select_related("floor__building__site").in_bulk(ids)
    for room_id in ids:
        if room_id not in found:
            raise InvalidBooking(_("There is no room with the id %(id)d.") % {"id": room_id}, field="rooms")
    return [found[i] for i in ids]


def _meeting(meeting_id: int, viewer) -> Meeting:
    """The meeting, 404 for whoever may not manage it (someone else's meeting is not shown)."""
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    if not meetings.may_manage(viewer, meeting):
        raise NotAllowed(_("Only the organizer can see and change this meeting."))
    return meeting


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    try:
        return int(if_match.strip().strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        raise InvalidBooking(_("If-Match must be the meeting's version number."), field="If-Match") from None


@api.get("/meetings/rooms", response={200: MeetingRoomsOut, 422: Error}, tags=["meetings"])
def find_rooms(
    request,
    start: IsoDatetime,
    end: IsoDatetime,
    count: int = Query(..., ge=2, le=meetings.MAX_ROOMS),
    site: Id | None = None,
    building: Id | None = None,
    people: int | None = Query(None, ge=1, le=10_000),
    equipment: list[Text(max_length=50)] = Query([]),
):
    """Free rooms for one meeting: ``count`` rooms for ``people`` each, smallest fitting first, in a
    building or a site ("3 rooms for 8 people each in Haus A"). ``enough`` is false when fewer
    are free; ``rooms`` then lists those that are."""
    _check_range(start, end, start_name="start", end_name="end")
    site_id = site
    if building is not None:
        site_id = Building.objects.filter(pk=building).values_list("site_id", flat=True).first()
        if site_id is None:
            raise InvalidBooking(_("There is no building with this id."), field="building")
    if site_id is None:
        raise InvalidBooking(_("Name a site or a building to search in."), field="site")
    found = rooms_for_meeting(
        start=start,
        end=end,
        count=count,
        site_id=site_id,
        building_id=building,
        people=people,
        codes=equipment,
        viewer=request.auth,
    )
    rooms = Room.objects.select_related("floor__building__site").prefetch_related("equipment", "part_links")
    by_pk = rooms.in_bulk([r.pk for r in found.rooms])
    return JsonResponse({"enough": not found.short, "rooms": [room_dict(by_pk[r.pk]) for r in found.rooms]})


@api.post(
    "/meetings", response={201: MeetingOut, 403: Error, 409: ConflictOut, 422: Error}, tags=["meetings"]
)
def create_meeting(request, payload: MeetingIn, idempotency_key: IdempotencyKey = None):
    """Book several rooms for one meeting at the same time: all of them or none (409 naming the
    room that is taken, 403 naming the room whose rules refuse). Where a room needs approval,
    ``approval`` says whether the others wait for the decision ("wait") or are booked at once
    ("go_ahead")."""
    user = request.auth

    def action():
        meeting = meetings.create_meeting(
            rooms=_rooms(payload.rooms),
            organizer=_principal(payload.on_behalf_of) if payload.on_behalf_of else user,
            actor=user,
            title=payload.title,
            start=payload.start,
            end=payload.end,
            approval=payload.approval,
            private=payload.private,
            attendees=payload.attendees,
            invite_attendees=payload.invite_attendees,
            source=Booking.Source.API,
        )
        return 201, meeting_dict(meeting, user)

    return _idempotent(request, idempotency_key, payload.model_dump(mode="json"), action)


@api.get("/meetings/{meeting_id}", response={200: MeetingOut, 403: Error, 404: Error}, tags=["meetings"])
def get_meeting(request, meeting_id: Id):
    return JsonResponse(meeting_dict(_meeting(meeting_id, request.auth), request.auth))


@api.patch(
    "/meetings/{meeting_id}",
    response={200: MeetingOut, 403: Error, 404: Error, 409: ConflictOut, 412: Error, 422: Error},
    tags=["meetings"],
)
def move_meeting(request, meeting_id: Id, payload: MeetingPatch, if_match: IfMatch = None):
    """Move every room still booked to a new time, or none (409 naming the room that is not free).
    If-Match: the meeting's version you read."""
    meeting = _meeting(meeting_id, request.auth)
    meetings.move_meeting(
        meeting=meeting,
        actor=request.auth,
        start=payload.start,
        end=payload.end,
        expected_version=_version(if_match),
    )
    return JsonResponse(meeting_dict(meeting, request.auth))


@api.delete(
    "/meetings/{meeting_id}",
    response={200: MeetingOut, 403: Error, 404: Error, 422: Error},
    tags=["meetings"],
)
def cancel_meeting(request, meeting_id: Id):
    """Cancel every room of the meeting (the bookings stay on record). One room alone is
    cancelled with DELETE /bookings/{id}; the others stay booked."""
    meeting = _meeting(meeting_id, request.auth)
    meetings.cancel_meeting(meeting=meeting, actor=request.auth)
    meeting.refresh_from_db()
    return JsonResponse(meeting_dict(meeting, request.auth))
