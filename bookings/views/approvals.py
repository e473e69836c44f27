"""Approvals for room managers: the queue of requests and the page a mail's signed link opens.

Deciding is always a POST (with CSRF token): mail scanners follow links in mails, and a
GET that decided would approve or reject whatever they touch.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..errors import BookingError
from ..models import Booking, Policy
from ..services import approvals
from ..services.approvals import pending_requests, recent_decisions
from ..templatetags.rfr import mediumdate
from .errors import DATABASE_UNAVAILABLE, db_unavailable, decision_status

QUEUE_LIMIT = 200
HISTORY_LIMIT = 200


def manages_rooms(user) -> bool:
    """Whether the user manages any room (one EXISTS query, remembered on the user)."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_rfr_manages_rooms", None)
    if cached is None:
        cached = user.is_superuser or Policy.managers.through.objects.filter(group__user=user).exists()
        user._rfr_manages_rooms = cached
    return cached


def describe(booking: Booking) -> dict:
    tz = booking.room.floor.building.site.tz
    start = booking.start.astimezone(tz)
    return {"title": booking.title, "day": mediumdate(start), "start": f"{start:%H:%M}"}


def queue_context(request) -> dict:
    now = timezone.now()
    return {
        "nav": "approvals",
        "pending": list(pending_requests(request.user)[:QUEUE_LIMIT]),
        "history": list(recent_decisions(request.user, now=now)[:HISTORY_LIMIT]),
        "history_days": approvals.HISTORY_DAYS,
        "now": now,
        "max_reason": approvals.MAX_REASON,
    }


@login_required
@require_GET
def queue(request):
    """Pending requests of the rooms the user manages, and what was decided in the last 30 days."""
    if not manages_rooms(request.user):
        raise PermissionDenied(_("Only room managers can see approval requests."))
    return render(request, "bookings/approvals.html", queue_context(request))


def decide_and_say(request, booking: Booking, *, action: str, actor, reason: str) -> int | None:
    """Run the decision and leave a message saying what happened; None if made, else the status."""
    now = timezone.now()
    try:
        if action == "approve":
            services.approve_booking(booking=booking, actor=actor, now=now)
            text = _("“%(title)s” on %(day)s at %(start)s was approved.") % describe(booking)
        elif action == "reject":
            services.reject_booking(booking=booking, actor=actor, reason=reason, now=now)
            text = _("“%(title)s” on %(day)s at %(start)s was rejected; the room is free again.") % describe(
                booking
            )
        elif action == "approve_series" and booking.series_id:
            done = services.approve_series(series=booking.series, actor=actor, now=now)
            text = ngettext(
                "Series “%(title)s”: %(n)d date was approved.",
                "Series “%(title)s”: %(n)d dates were approved.",
                len(done),
            ) % {"title": booking.title, "n": len(done)}
        elif action == "reject_series" and booking.series_id:
            done = services.reject_series(series=booking.series, actor=actor, reason=reason, now=now)
            text = ngettext(
                "Series “%(title)s”: %(n)d date was rejected.",
                "Series “%(title)s”: %(n)d dates were rejected.",
                len(done),
            ) % {"title": booking.title, "n": len(done)}
        else:
            messages.error(request, _("Please choose whether to approve or reject the request."))
            return 422
    except BookingError as exc:
        messages.error(request, exc.message)
        return decision_status(exc)
    messages.success(request, text)
    return None


@login_required
@require_POST
def decide_in_queue(request, pk: int):
    """Approve or reject one request (or its series) from the queue; back to the queue."""
    if not manages_rooms(request.user):
        raise PermissionDenied(_("Only room managers can see approval requests."))
    booking = get_object_or_404(
        Booking.objects.select_related("room__floor__building__site", "series"), pk=pk
    )
    try:
        refused = decide_and_say(
            request,
            booking,
            action=request.POST.get("action", ""),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/approvals.html", queue_context(request))
    if refused:
        return render(request, "bookings/approvals.html", queue_context(request), status=refused)
    return redirect("bookings:approvals")


def link_refused(request, message: str, status: int):
    return render(request, "bookings/approvals_decide.html", {"refusal": message}, status=status)


@require_http_methods(["GET", "POST"])
def decide_by_link(request, token: str):
    """The page a mail's signed link opens: GET shows the request, POST decides as the named manager."""
    try:
        booking_id, manager_id = approvals.read_decision_token(token)
    except signing.SignatureExpired:
        return link_refused(
            request,
            _("This link has expired. Please open the approval requests in raum]für[raum instead."),
            400,
        )
    except signing.BadSignature:
        return link_refused(
            request, _("This link is not valid. Please copy it completely from the mail."), 400
        )
    booking = (
        Booking.objects.select_related("room__floor__building__site", "organizer", "series")
        .filter(pk=booking_id)
        .first()
    )
    manager = get_user_model().objects.filter(pk=manager_id).first()
    if booking is None or manager is None:
        return link_refused(request, _("This request no longer exists."), 404)
    if not approvals.may_decide(manager, booking):
        return link_refused(
            request, _("You no longer manage this room, so you cannot decide this request."), 403
        )
    decided, status = False, 200
    if request.method == "POST":
        try:
            refused = decide_and_say(
                request,
                booking,
                action=request.POST.get("action", ""),
                actor=manager,
                reason=request.POST.get("reason", ""),
            )
        except DATABASE_UNAVAILABLE as exc:
            return db_unavailable(
                request, exc, "bookings/approvals_decide.html", {"booking": booking, "manager": manager}
            )
        booking.refresh_from_db()
        decided, status = refused is None, refused or 200
    context = {
        "booking": booking,
        "manager": manager,
        "decided": decided,
        "max_reason": approvals.MAX_REASON,
        "tz": booking.room.floor.building.site.tz,
        # The mail has an approve and a reject link to the same page: focus the one chosen.
        "suggested": request.GET.get("decision") if request.method == "GET" else None,
    }
    if request.method == "GET" and booking.status != Booking.Status.PENDING:
        context["closed"] = approvals.decided_message(booking)
    return render(request, "bookings/approvals_decide.html", context, status=status)
