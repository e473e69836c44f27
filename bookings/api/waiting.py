"""The waiting list through the API: queue for a taken slot, see your places, leave the line."""

from __future__ import annotations

from datetime import timedelta

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from pydantic import AwareDatetime

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


class WaitingOut(Schema):
    id: int
    room: int
    title: str
    start: AwareDatetime
    end: AwareDatetime
    status: str
    booking: int | None
    reason: str


def waiting_dict(entry: WaitingEntry) -> dict:
    return {
        "id": entry.pk,
        "room": entry.room_id,
        "title": entry.title,
        "start": entry.span.lower.isoformat(),
        "end": entry.span.upper.isoformat(),
        "status": entry.status,
        "booking": entry.booking_id,
        "reason": entry.reason,
    }


@api.post("/waiting-list", response={201: WaitingOut, 422: Error}, tags=["waiting list"])
def join_waiting_list(request, payload: WaitingIn):
    """Queue for a taken room and time; when it frees up you get it booked and a mail.

    422 when the slot is free (book it instead); joining again for the same slot answers
    the same entry.
    """
    room: Room = _room(payload.room)
    entry = waiting.join_waiting_list(
        person=request.auth, room=room, title=payload.title, start=payload.start, end=payload.end
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
