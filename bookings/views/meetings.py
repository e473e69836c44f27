"""One meeting in several rooms in the staff UI: find and book rooms together, move or cancel them.

Views are thin: the forms parse, ``selectors.meetings`` reads, ``services.meetings``
writes; booking carries the rendered form's idempotency key, so a double click books once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..errors import BookingConflict, BookingError, PolicyViolation
from ..forms import new_key
from ..meeting_forms import MeetingFinderForm, MeetingMoveForm
from ..models import Booking, Meeting
from ..selectors import places
from ..selectors.meetings import meeting_rooms, rooms_for_meeting
from ..services import meetings
from ..services.idempotency import KeyReused, request_hash, run_once
from .errors import DATABASE_UNAVAILABLE, db_unavailable
from .staff import Offer, finder_defaults, named, with_flags


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    """Search N free rooms for M people each; book the ones ticked, all or none."""
    now = timezone.now()
    buildings = places.buildings()
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "GET" and not data:
        data = {**finder_defaults(request, buildings, now), "count": 2, "approval": Meeting.Approval.WAIT}
    form = MeetingFinderForm(
        data, buildings=buildings, equipment=places.equipment(), language=get_language(), now=now
    )
    context = {"form": form, "nav": "find", "has_rooms": bool(buildings), "key": new_key()}
    if not buildings or not form.is_valid():
        return render(
            request, "bookings/meeting_new.html", context, status=422 if request.method == "POST" else 200
        )
    cd = form.cleaned_data
    site, building = cd["site"], cd["building"]
    found = rooms_for_meeting(
        start=cd["start_at"],
        end=cd["end_at"],
        count=cd["count"],
        site_id=site.pk,
        building_id=building.pk if building else None,
        people=cd["people"],
        codes=cd["equipment"],
        viewer=request.user,
    )
    offers = named([Offer(r, cd["start_at"], cd["end_at"]) for r in found.rooms])
    with_flags(offers)
    context.update(
        searched=True,
        site=site,
        building=building,
        tz=site.tz,
        start=cd["start_at"],
        end=cd["end_at"],
        offers=offers,
        short=found.short,
        chosen={str(o.room.pk) for o in offers},
    )
    if request.method == "GET":
        return render(request, "bookings/meeting_new.html", context)
    return _book(request, form, context, now)


def _book(request, form, context, now):
    cd = form.cleaned_data
    ticked = request.POST.getlist("rooms")
    rooms = {str(r.pk): r for r in places.bookable_rooms(site_id=cd["site"].pk)}
    chosen = [rooms[pk] for pk in dict.fromkeys(ticked) if pk in rooms]
    context["chosen"] = {str(r.pk) for r in chosen}
    if len(chosen) != len(ticked):
        context["error"] = _("A chosen room is not bookable at this site; please search again.")
        return render(request, "bookings/meeting_new.html", context, status=422)
    key = cd.get("key") or new_key()
    payload = {
        "rooms": [r.pk for r in chosen],
        "title": cd["title"] or _("Meeting"),
        "start": cd["start_at"].isoformat(),
        "end": cd["end_at"].isoformat(),
        "approval": cd["approval"],
    }

    def action():
        meeting = meetings.create_meeting(
            rooms=chosen,
            organizer=request.user,
            title=payload["title"],
            start=cd["start_at"],
            end=cd["end_at"],
            approval=cd["approval"],
            source=Booking.Source.WEB,
        )
        return 201, {"meeting": meeting.pk}

    status = 422
    try:
        outcome = run_once(
            user=request.user,
            key=key,
            fingerprint=request_hash("POST", reverse("bookings:new_meeting"), payload),
            action=action,
        )
    except KeyReused:
        context["error"] = _("This form was already sent with other values; please check and send again.")
        status = 409
    except BookingConflict as exc:
        context["error"], status = exc.message, 409
    except PolicyViolation as exc:
        context["error"], status = exc.message, 403
    except BookingError as exc:
        context["error"] = exc.message
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/meeting_new.html", context)
    else:
        meeting = Meeting.objects.get(pk=outcome.body["meeting"])
        messages.success(
            request,
            _("“%(title)s” booked in %(n)d rooms at the same time.")
            % {"title": meeting.title, "n": len(chosen)},
        )
        return redirect("bookings:meeting", meeting.pk)
    return render(request, "bookings/meeting_new.html", context, status=status)


def _managed(request, pk: int) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.select_related("organizer", "booked_by"), pk=pk)
    if not meetings.may_manage(request.user, meeting):
        raise Http404(_("There is no such meeting."))
    return meeting


def _page(request, meeting: Meeting, *, form=None, status: int = 200, error: str = ""):
    now = timezone.now()
    bookings = meeting_rooms(meeting)
    active = [b for b in bookings if b.is_active]
    first = (active or bookings)[0]
    tz = first.room.floor.building.site.tz
    if form is None:
        start, end = first.span.lower.astimezone(tz), first.span.upper.astimezone(tz)
        form = MeetingMoveForm(
            initial={
                "date": start.date(),
                "start": start.time(),
                "end": end.time(),
                "version": sum(b.version for b in bookings),
            },
            tz=tz,
            now=now,
        )
    context = {
        "nav": "mine",
        "meeting": meeting,
        "bookings": bookings,
        "active": active,
        "tz": tz,
        "form": form,
        "error": error,
        "ended": all(b.span.upper <= now for b in bookings),
    }
    return render(request, "bookings/meeting.html", context, status=status)


@login_required
def detail(request, pk: int):
    """A meeting's rooms, each at its own local time, with move and cancel."""
    return _page(request, _managed(request, pk))


@login_required
@require_POST
def move(request, pk: int):
    """Move every room to a new time, or none (the refusal names the room that is not free)."""
    meeting = _managed(request, pk)
    first = meeting_rooms(meeting)[0]
    form = MeetingMoveForm(request.POST, tz=first.room.floor.building.site.tz, now=timezone.now())
    if not form.is_valid():
        return _page(request, meeting, form=form, status=422)
    cd = form.cleaned_data
    try:
        meetings.move_meeting(
            meeting=meeting,
            actor=request.user,
            start=cd["start_at"],
            end=cd["end_at"],
            expected_version=cd["version"],
        )
    except BookingConflict as exc:
        return _page(request, meeting, form=form, status=409, error=exc.message)
    except PolicyViolation as exc:
        return _page(request, meeting, form=form, status=403, error=exc.message)
    except BookingError as exc:
        return _page(request, meeting, form=form, status=422, error=exc.message)
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/meeting.html", {"meeting": meeting, "bookings": []})
    messages.success(request, _("The meeting has moved; all its rooms are booked at the new time."))
    return redirect("bookings:meeting", meeting.pk)


@login_required
@require_POST
def cancel(request, pk: int):
    """Cancel every room of the meeting."""
    meeting = _managed(request, pk)
    try:
        meetings.cancel_meeting(meeting=meeting, actor=request.user)
    except BookingError as exc:
        return _page(
            request, meeting, status=403 if isinstance(exc, PolicyViolation) else 422, error=exc.message
        )
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/meeting.html", {"meeting": meeting, "bookings": []})
    messages.success(request, _("The meeting has been cancelled in all its rooms."))
    return redirect("bookings:meeting", meeting.pk)


@login_required
@require_POST
def cancel_room(request, pk: int, booking_pk: int):
    """Give one room back; the other rooms stay booked."""
    meeting = _managed(request, pk)
    booking = get_object_or_404(
        Booking.objects.select_related("room"), pk=booking_pk, meeting_room__meeting=meeting
    )
    try:
        services.cancel_booking(booking=booking, actor=request.user)
    except BookingError as exc:
        return _page(
            request, meeting, status=403 if isinstance(exc, PolicyViolation) else 422, error=exc.message
        )
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/meeting.html", {"meeting": meeting, "bookings": []})
    messages.success(
        request, _("%(room)s has been given back; the other rooms stay booked.") % {"room": booking.room.name}
    )
    return redirect("bookings:meeting", meeting.pk)
