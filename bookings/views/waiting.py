"""The waiting list in the staff UI: join from a taken slot, leave or answer an offer from My bookings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..errors import BookingError, InvalidBooking, NotAllowed
from ..forms import WaitingForm
from ..models import WaitingEntry
from ..selectors import places
from ..services.waiting import accept_offer, decline_offer, join_waiting_list, leave_waiting_list
from ..templatetags.rfr import mediumdate
from .errors import DATABASE_UNAVAILABLE, db_unavailable


@login_required
@require_POST
def join(request):
    """Queue for the slot the booking dialog found taken (services.join_waiting_list)."""
    now = timezone.now()
    form = WaitingForm(request.POST, rooms=places.bookable_rooms(), now=now)
    if not form.is_valid():
        messages.error(request, _("The waiting list could not be joined: please check the room and times."))
        return redirect("bookings:book")
    cd = form.cleaned_data
    try:
        entry = join_waiting_list(
            person=request.user,
            room=cd["room"],
            title=cd["title"],
            start=cd["start_at"],
            end=cd["end_at"],
            any_room=cd["any_room"],
            now=now,
        )
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect("bookings:book")
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/mine.html", {"nav": "mine", "upcoming": [], "past": []})
    tz = entry.room.floor.building.site.tz
    start, end = entry.start.astimezone(tz), entry.end.astimezone(tz)
    messages.success(
        request,
        _(
            "You are on the waiting list for %(room)s, %(day)s, %(start)s–%(end)s. If it becomes free, "
            "it is booked for you and you get a mail."
        )
        % {
            "room": entry.room.name,
            "day": mediumdate(start),
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
        },
    )
    return redirect(reverse("bookings:mine") + "#waiting-heading")


@login_required
@require_POST
def leave(request, pk: int):
    """Leave the line (services.leave_waiting_list); repeating it is harmless."""
    entry = get_object_or_404(WaitingEntry, pk=pk)
    try:
        leave_waiting_list(entry=entry, actor=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/mine.html", {"nav": "mine", "upcoming": [], "past": []})
    messages.success(request, _("You have left the waiting list."))
    return redirect(reverse("bookings:mine") + "#waiting-heading")


@login_required
@require_POST
def answer_offer(request, pk: int):
    """Accept a slot held from the waiting list, or give it back (services.accept_offer, decline_offer)."""
    entry = get_object_or_404(WaitingEntry, pk=pk)
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        messages.error(request, _("Please choose whether to accept the offer or give it back."))
        return redirect(reverse("bookings:mine") + f"#waiting-{entry.pk}")
    try:
        if answer == "accept":
            accept_offer(entry=entry, actor=request.user)
        else:
            decline_offer(entry=entry, actor=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except InvalidBooking as exc:
        messages.error(request, exc.message)
        return redirect(reverse("bookings:mine") + "#waiting-heading")
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/mine.html", {"nav": "mine", "upcoming": [], "past": []})
    if answer == "accept":
        messages.success(request, _("The room is booked for you."))
        return redirect(reverse("bookings:mine") + f"#booking-{entry.booking_id}")
    messages.success(request, _("You have given the slot back; the next person in line gets it."))
    return redirect(reverse("bookings:mine") + "#waiting-heading")
