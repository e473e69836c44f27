"""Check-in by web link: the organizer says "we are in the room" from My bookings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..errors import BookingError, NotAllowed
from ..models import Booking
from ..services.checkin import check_in_own_booking


@login_required
@require_POST
def check_in(request, pk: int):
    """Check in to one's own booking; outside the window the message says why."""
    booking = get_object_or_404(Booking.objects.select_related("room"), pk=pk)
    try:
        check_in_own_booking(booking=booking, user=request.user, source="web")
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("You are checked in to “%(title)s” in %(room)s.")
            % {"title": booking.title, "room": booking.room.name},
        )
    return redirect("bookings:mine")
