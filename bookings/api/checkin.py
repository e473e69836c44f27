"""Check-in through the API."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from ..models import Booking
from ..services.checkin import check_in_own_booking
from . import api
from .schemas import BookingOut, Error, Id
from .serialize import booking_dict


@api.post(
    "/bookings/{booking_id}/check-in",
    response={200: BookingOut, 403: Error, 404: Error, 422: Error},
    tags=["bookings"],
)
def check_in(request, booking_id: Id):
    """Check in to your booking (from 15 minutes before the start until the check-in deadline).

    Repeating it is harmless; 403 for someone else's booking, 422 outside the window.
    """
    booking = get_object_or_404(Booking.objects.select_related("organizer"), pk=booking_id)
    booking = check_in_own_booking(booking=booking, user=request.auth, source="api")
    return JsonResponse(booking_dict(booking, request.auth))
