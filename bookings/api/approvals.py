"""Approvals through the API: room managers approve or reject pending bookings."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Query

from .. import services
from ..models import Booking
from ..services.approvals import MAX_REASON, pending_requests
from . import api
from .schemas import BookingOut, Error, Id, Offset, Strict, Text
from .serialize import booking_dict

MAX_PAGE = 500


class RejectIn(Strict):
    reason: Text(max_length=MAX_REASON) = ""


def managed_dict(booking: Booking, viewer) -> dict:
    """booking_dict for a room manager: they see private titles and organizers of their rooms."""
    return {**booking_dict(booking, viewer), "title": booking.title, "organizer": booking.organizer.username}


def _booking(booking_id: Id) -> Booking:
    return get_object_or_404(
        Booking.objects.select_related("organizer", "room__floor__building__site"), pk=booking_id
    )


@api.get("/approvals", response=list[BookingOut], tags=["approvals"])
def pending_approvals(request, limit: int = Query(100, ge=1, le=MAX_PAGE), offset: Offset = Query(0)):
    """Pending requests in the rooms the caller manages, by start (empty for everyone else)."""
    qs = pending_requests(request.auth)[offset : offset + limit]
    return JsonResponse([managed_dict(b, request.auth) for b in qs], safe=False)


@api.post(
    "/bookings/{booking_id}/approve",
    response={200: BookingOut, 403: Error, 404: Error, 422: Error},
    tags=["approvals"],
)
def approve(request, booking_id: Id):
    """Approve a pending request of a room you manage; 422 when it was decided already."""
    booking = services.approve_booking(booking=_booking(booking_id), actor=request.auth)
    return JsonResponse(managed_dict(booking, request.auth))


@api.post(
    "/bookings/{booking_id}/reject",
    response={200: BookingOut, 403: Error, 404: Error, 422: Error},
    tags=["approvals"],
)
def reject(request, booking_id: Id, payload: RejectIn):
    """Reject a pending request ({"reason": ...}, may be empty); the slot is free again."""
    booking = services.reject_booking(booking=_booking(booking_id), actor=request.auth, reason=payload.reason)
    return JsonResponse(managed_dict(booking, request.auth))
