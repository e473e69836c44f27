"""The waiting list through the API: queue for a taken slot, see your places, leave the line."""

from __future__ import annotations

from datetime import timedelta

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from pydantic import AwareDatetime, Field

from ..models import Room, WaitingEntry
from ..services import waiting
from . import api
from .bookings import _room
from .schemas import Error, Id, IsoDatetime, Schema, Strict, Title


class WaitingIn(Strict):
    room: Id
    title: Title
    start: IsoDatetime
    end: IsoDatetime
    any_room: bool = Field(
        False,
        description="or any bookable room of the same building with at least this room's seats and equipment "
        "(the first one free)",
    )


class WaitingOut(Schema):
    id: int
    room: int
    title: str
    start: AwareDatetime
    end: AwareDatetime
    status: str = Field(description="waiting, offered, booked, refused, expired or withdrawn")
    any_room: bool
    booking: int | None = Field(description="the booking made (or held, while offered)")
    offer_until: AwareDatetime | None = Field(
        description="while offered: accept by then (POST …/accept), or the slot goes to the next in line"
    )
    reason: str


def waiting_dict(entry: WaitingEntry) -> dict:
    return {
        "id": entry.pk,
        "room": entry.room_id,
        "title": entry.title,
        "start": entry.span.lower.isoformat(),
        "end": entry.span.upper.isoformat(),
        "status": entry.status,
        "any_room": entry.any_room,
        "booking": entry.booking_id,
        "offer_until": entry.offer_until.isoformat() if entry.offer_until else None,
        "reason": entry.reason,
    }


@api.post("/waiting-list", response={201: WaitingOut, 422: Error}, tags=["waiting list"])
def join_waiting_list(request, payload: WaitingIn):
    """Queue for a taken room and time; when it frees up you get it booked and a mail.

    Where the room's policy sets an offer time, the freed slot is held for you instead
    (status ``offered``) until ``offer_until``: accept it, or it goes to the next in line.
    With ``any_room`` the first free room like it in the building will do. 422 when the
    slot is free (book it instead); joining again for the same slot answers the same entry.
    """
    room: Room = _room(payload.room)
    entry = waiting.join_waiting_list(
        person=request.auth,
        room=room,
        title=payload.title,
        start=payload.start,
        end=payload.end,
        any_room=payload.any_room,
    )
    return JsonResponse(waiting_dict(entry), status=201)


@api.get("/waiting-list", response=list[WaitingOut], tags=["waiting list"])
def my_waiting_list(request):
    """Your places in line still waiting, and those decided in the last week (booked, refused, expired)."""
    since = timezone.now() - timedelta(days=7)
    entries = (
        WaitingEntry.objects.filter(person=request.auth)
        .exclude(decided_at__lt=since)
        .order_by("span", "pk")[:200]
    )
    return JsonResponse([waiting_dict(e) for e in entries], safe=False)


@api.delete(
    "/waiting-list/{entry_id}", response={200: WaitingOut, 403: Error, 404: Error}, tags=["waiting list"]
)
def leave_waiting_list(request, entry_id: Id):
    """Leave the line; repeating it is harmless."""
    entry = get_object_or_404(WaitingEntry, pk=entry_id)
    waiting.leave_waiting_list(entry=entry, actor=request.auth)
    entry.refresh_from_db()
    return JsonResponse(waiting_dict(entry))


@api.post(
    "/waiting-list/{entry_id}/accept",
    response={200: WaitingOut, 403: Error, 404: Error, 422: Error},
    tags=["waiting list"],
)
def accept_offer(request, entry_id: Id):
    """Keep the slot held for you (status ``offered``): the booking stays yours.

    422 once the offer has ended (expired, given back).
    """
    entry = get_object_or_404(WaitingEntry, pk=entry_id)
    entry = waiting.accept_offer(entry=entry, actor=request.auth)
    return JsonResponse(waiting_dict(entry))


@api.post(
    "/waiting-list/{entry_id}/decline",
    response={200: WaitingOut, 403: Error, 404: Error, 422: Error},
    tags=["waiting list"],
)
def decline_offer(request, entry_id: Id):
    """Give a held slot back: its booking is cancelled and the next in line gets it.

    422 once the offer has ended.
    """
    entry = get_object_or_404(WaitingEntry, pk=entry_id)
    entry = waiting.decline_offer(entry=entry, actor=request.auth)
    return JsonResponse(waiting_dict(entry))
