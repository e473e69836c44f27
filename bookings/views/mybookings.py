"""My bookings: the list, changing one booking or a series, cancelling."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from .. import hooks, services
from ..errors import BookingConflict, BookingError
from ..forms import ChangeBookingForm, MineFilterForm, RepeatBookingForm
from ..models import Booking, Series
from ..rules.groups import closures
from ..selectors import places
from ..selectors.availability import free_rooms_to_offer
from ..selectors.bookings import attending, my_bookings, my_bookings_list, rooms_booked_by
from ..selectors.noshows import no_show_counts
from ..selectors.series import future_occurrences
from ..selectors.waiting import my_waiting
from ..services.bookings import can_manage
from ..services.checkin import check_in_open
from ..templatetags.rfr import mediumdate
from .errors import DATABASE_UNAVAILABLE, conflict_context, db_unavailable, refuse_form, taken_dates

# How far back My bookings counts the bookings released for a missing check-in.
NO_SHOW_NOTICE = timedelta(days=30)
# Bookings per page of a list, and the past ones the overview shows below the upcoming.
PER_PAGE = 20
PAST_PREVIEW = 10


@login_required
@require_GET
def mine(request):
    """Upcoming and past bookings of the signed-in user, a page at a time, or one list filtered."""
    now = timezone.now()
    form = MineFilterForm(request.GET or None, rooms=rooms_booked_by(request.user))
    show = None  # the one list asked for; None: the overview
    upcoming: list[Booking] = []
    past: list[Booking] = []
    pages = None
    if form.filtered and form.is_valid():
        cd = form.cleaned_data
        show = cd["show"] or MineFilterForm.UPCOMING
        found = my_bookings_list(
            user=request.user,
            now=now,
            show=show,
            room_id=cd["room"],
            day_from=cd["date_from"],
            day_to=cd["date_to"],
        )
        pages = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
        if show == MineFilterForm.UPCOMING:
            upcoming = list(pages)
        else:
            past = list(pages)
    else:
        found = my_bookings_list(user=request.user, now=now, show=MineFilterForm.UPCOMING)
        pages = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
        upcoming = list(pages)
        _all, past = my_bookings(user=request.user, now=now, upcoming_limit=0, past_limit=PAST_PREVIEW)
    # Check-in by web link: offered where the room requires it and the window is open.
    check_in_now = {b.pk for b in upcoming if b.check_in_deadline and check_in_open(b, now=now)}
    # Recent ones only: a notice about releases of years ago would never go away.
    since = now - NO_SHOW_NOTICE
    no_shows = no_show_counts(organizer=request.user, since=since).get(request.user.pk, 0)
    mark_blocked(upcoming, request.user)
    overview = show is None
    return render(
        request,
        "bookings/mine.html",
        {
            "nav": "mine",
            "form": form,
            "show": show,
            "pages": pages,
            "upcoming": upcoming,
            "past": past,
            "now": now,
            "check_in_now": check_in_now,
            "no_shows": no_shows,
            "no_show_days": NO_SHOW_NOTICE.days,
            # Rooms in several time zones: each time says its zone ("10:00–11:30 New York").
            "several_zones": len({b.room.floor.building.site.time_zone for b in [*upcoming, *past]}) > 1,
            "waiting": my_waiting(user=request.user, now=now) if overview else [],
            "attending": attending(user=request.user, now=now) if overview else [],
        },
    )


def mark_blocked(upcoming: list[Booking], user) -> None:
    """Mark the upcoming bookings a blocking meets (``blocked_by``), each with a free room of
    its site to move to in one click (``move``: the change form's values with that room)."""
    if not upcoming:
        return
    start, end = min(b.start for b in upcoming), max(b.end for b in upcoming)
    hits = closures(user, [b.room for b in upcoming], start, end)
    for booking in upcoming:
        meets = [
            c
            for c in hits.get(booking.room_id, ())
            if c.span.lower < booking.end and booking.start < c.span.upper
        ]
        if not meets:
            continue
        site = booking.room.floor.building.site
        rooms, _more = free_rooms_to_offer(
            start=booking.start,
            end=booking.end,
            site_id=site.pk,
            people=booking.room.capacity,
            viewer=user,
            limit=1,
        )
        booking.blocked_by = meets[0]
        booking.move = {**change_initial(booking, site.tz), "room": rooms[0]} if rooms else None


def managed_booking(request, pk: int) -> Booking:
    booking = get_object_or_404(
        Booking.objects.select_related("room__floor__building__site", "organizer", "series"), pk=pk
    )
    if not can_manage(request.user, booking):
        raise PermissionDenied(_("Only the organizer can change this booking."))
    return booking


@login_required
@require_http_methods(["GET", "POST"])
def change(request, pk: int):
    """Move, resize or rename one booking, or several dates of its series; make a booking a series.

    One date: services.update_booking; this and the following or all dates:
    services.update_series; "Repeat…": services.convert_to_series.
    """
    now = timezone.now()
    booking = managed_booking(request, pk)
    tz = booking.room.floor.building.site.tz
    rooms = places.bookable_rooms(site_id=booking.room.floor.building.site_id)
    if booking.room not in rooms:
        rooms.insert(0, booking.room)
    if not booking.is_active or booking.end <= now:
        messages.error(request, _("A cancelled or finished booking cannot be changed."))
        return redirect("bookings:mine")
    start, end = booking.start.astimezone(tz), booking.end.astimezone(tz)
    in_series = booking.series_id is not None and booking.series.cancelled_at is None
    kwargs = {"rooms": rooms, "now": now, "day": start.date(), "in_series": in_series}
    context = {"nav": "mine", "booking": booking, "tz": tz, "in_series": in_series}
    if booking.series_id is None and booking.start > now:
        context["repeat_form"] = RepeatBookingForm(
            initial={"repeat": "weekly", "until": start.date() + timedelta(weeks=4)}, day=start.date()
        )
    if request.method == "POST" and request.POST.get("action") == "repeat" and "repeat_form" in context:
        form = ChangeBookingForm(initial=change_initial(booking, tz), **kwargs)
        return repeat_booking(request, booking, context, form, now)
    if request.method == "GET":
        form = ChangeBookingForm(initial=change_initial(booking, tz), **kwargs)
        return render(request, "bookings/change.html", {**context, "form": form})
    form = ChangeBookingForm(request.POST, **kwargs)
    status = 422
    if form.is_valid():
        cd = form.cleaned_data
        try:
            if cd["scope"] == "this":
                services.update_booking(
                    booking=booking,
                    actor=request.user,
                    title=cd["title"],
                    start=cd["start_at"],
                    end=cd["end_at"],
                    room=cd["room"],
                    private=cd["private"],
                    attendees=cd["attendees"],
                    invite_attendees=cd["invite_attendees"],
                    expected_version=cd["version"],
                    now=now,
                )
                changed = 1
            else:
                edit = services.update_series(
                    series=booking.series,
                    actor=request.user,
                    scope=cd["scope"],
                    from_booking=booking,
                    expected_version=cd["version"],
                    now=now,
                    **series_changes(booking, cd, start, end),
                )
                changed = len(edit.updated)
        except BookingError as exc:
            status = refuse_form(form, exc)
            if isinstance(exc, BookingConflict):
                context.update(conflict_context(exc, request.user))
        except DATABASE_UNAVAILABLE as exc:
            return db_unavailable(request, exc, "bookings/change.html", {**context, "form": form})
        else:
            if cd["scope"] == "this":
                text = _("The booking “%(title)s” was changed.") % {"title": cd["title"]}
            else:
                text = ngettext(
                    "Series “%(title)s”: %(n)d date was changed.",
                    "Series “%(title)s”: %(n)d dates were changed.",
                    changed,
                ) % {"title": cd["title"], "n": changed}
            messages.success(request, text)
            return redirect(reverse("bookings:mine") + f"#booking-{booking.pk}")
    return render(request, "bookings/change.html", {**context, "form": form}, status=status)


def change_initial(booking: Booking, tz) -> dict:
    start, end = booking.start.astimezone(tz), booking.end.astimezone(tz)
    return {
        "title": booking.title,
        "room": booking.room_id,
        "date": start.date(),
        "start": start.time(),
        "end": end.time(),
        "attendees": "\n".join(booking.attendees),
        "private": booking.private,
        "invite_attendees": booking.invite_attendees,
        "version": booking.version,
        "scope": "this",
    }


def series_changes(booking: Booking, cd: dict, start: datetime, end: datetime) -> dict:
    """What the user changed on this date, to apply to the others (the rest they keep)."""
    changes: dict = {}
    if cd["title"] != booking.title:
        changes["title"] = cd["title"]
    if (cd["start"], cd["end"]) != (start.time(), end.time()):
        # The times as the form shows them, both: 09:30 to 10:00 means just that.
        changes["start_time"], changes["end_time"] = cd["start"], cd["end"]
    if cd["room"].pk != booking.room_id:
        changes["room"] = cd["room"]
    if cd["private"] != booking.private:
        changes["private"] = cd["private"]
    if cd["attendees"] != booking.attendees:
        changes["attendees"] = cd["attendees"]
    return changes


def repeat_booking(request, booking: Booking, context: dict, form: ChangeBookingForm, now: datetime):
    """Repeat… on a single booking's change page: it becomes the first date of a series."""
    repeat_form = RepeatBookingForm(request.POST, day=booking.start.astimezone(context["tz"]).date())
    context = {**context, "form": form, "repeat_form": repeat_form, "repeat_open": True}
    if not repeat_form.is_valid():
        return render(request, "bookings/change.html", context, status=422)
    cd = repeat_form.cleaned_data
    try:
        result = services.convert_to_series(
            booking=booking,
            actor=request.user,
            rrule=cd["rrule"],
            skip_conflicts=cd["skip_conflicts"],
            now=now,
        )
    except BookingError as exc:
        # The rule's last date is the one field of this form a refused rule can point at.
        status = refuse_form(repeat_form, exc, fields={"rrule": "until"})
        if isinstance(exc, BookingConflict):
            context["occurrences"] = taken_dates(exc, request.user)
        return render(request, "bookings/change.html", context, status=status)
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/change.html", context)
    text = ngettext(
        "“%(title)s” now repeats: %(n)d date in all.",
        "“%(title)s” now repeats: %(n)d dates in all.",
        len(result.created),
    ) % {"title": booking.title, "n": len(result.created)}
    if result.skipped:
        text += " " + ngettext(
            "%(n)d taken date was left out.", "%(n)d taken dates were left out.", len(result.skipped)
        ) % {"n": len(result.skipped)}
    messages.success(request, text)
    return redirect(reverse("bookings:mine") + f"#booking-{booking.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk: int):
    """Ask, then cancel one booking (services.cancel_booking); repeating it is harmless."""
    booking = managed_booking(request, pk)
    tz = booking.room.floor.building.site.tz
    if request.method == "POST":
        try:
            services.cancel_booking(booking=booking, actor=request.user)
        except BookingError as exc:
            messages.error(request, exc.message)
        except DATABASE_UNAVAILABLE as exc:
            return db_unavailable(request, exc, "bookings/cancel.html", {"booking": booking, "tz": tz})
        else:
            start = booking.start.astimezone(tz)
            messages.success(
                request,
                _("“%(title)s” on %(day)s at %(start)s was cancelled.")
                % {"title": booking.title, "day": mediumdate(start), "start": f"{start:%H:%M}"},
            )
        return redirect("bookings:mine")
    # Told before confirming: what the apps above still charge (services past their cut-off).
    notices = hooks.before_cancelling(bookings=[booking], now=timezone.now()) if booking.is_active else []
    return render(
        request, "bookings/cancel.html", {"nav": "mine", "booking": booking, "tz": tz, "notices": notices}
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancel_series(request, pk: int):
    """Ask, then cancel every occurrence of a series that has not started yet."""
    now = timezone.now()
    series = get_object_or_404(Series.objects.select_related("room__floor__building__site"), pk=pk)
    if not services.may_cancel_series(request.user, series):
        raise PermissionDenied(_("Only the organizer can cancel this series."))
    tz = series.room.floor.building.site.tz
    if request.method == "POST":
        try:
            result = services.cancel_series(series=series, actor=request.user, now=now)
        except BookingError as exc:
            messages.error(request, exc.message)
        except DATABASE_UNAVAILABLE as exc:
            return db_unavailable(request, exc, "bookings/cancel_series.html", {"series": series, "tz": tz})
        else:
            messages.success(
                request,
                ngettext(
                    "Series “%(title)s”: %(n)d date was cancelled.",
                    "Series “%(title)s”: %(n)d dates were cancelled.",
                    len(result.cancelled),
                )
                % {"title": series.title, "n": len(result.cancelled)},
            )
            if result.kept:
                messages.warning(
                    request,
                    ngettext(
                        "%(n)d date stays booked: %(reason)s",
                        "%(n)d dates stay booked: %(reason)s",
                        len(result.kept),
                    )
                    % {"n": len(result.kept), "reason": result.kept[0][1].message},
                )
        return redirect("bookings:mine")
    upcoming = future_occurrences(series_id=series.pk, now=now)
    notices = hooks.before_cancelling(bookings=list(upcoming), now=now)
    return render(
        request,
        "bookings/cancel_series.html",
        {"nav": "mine", "series": series, "tz": tz, "upcoming": upcoming, "notices": notices},
    )
