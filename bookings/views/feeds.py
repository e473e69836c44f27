"""Calendar subscriptions: the .ics feed behind a secret URL, and the page that manages them.

The feed needs no sign-in (calendar clients cannot sign in): the secret in the URL is
the credential, so an unknown and a revoked secret get the same 404.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, get_conditional_response
from django.utils.http import quote_etag
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import ical
from ..errors import NotAllowed
from ..models import Booking, CalendarFeed, Room
from ..selectors import places
from ..services.feeds import create_feed, feed_for_token, revoke_feed
from ..spans import make_span
from .errors import DATABASE_UNAVAILABLE, db_unavailable

log = logging.getLogger("rfr.feeds")

# What a subscription shows: the last month (for looking back) and the coming year.
PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
# Calendar clients poll; between polls nothing needs to be computed twice.
CACHE_CONTROL = "private, max-age=300"


def feed_bookings(feed: CalendarFeed, now) -> list[Booking]:
    """The active bookings a feed shows, with their place: one query, however many."""
    qs = Booking.objects.filter(
        status__in=Booking.ACTIVE, span__overlap=make_span(now - PAST, now + AHEAD)
    ).select_related("room__floor__building")
    qs = qs.filter(room=feed.room_id) if feed.room_id else qs.filter(organizer=feed.user_id)
    return list(qs.order_by("span", "pk"))


def feed_etag(feed: CalendarFeed, bookings: list[Booking]) -> str:
    """Changes whenever a VEVENT would: a booking changed, came or went, a room was renamed."""
    digest = hashlib.sha256(f"{feed.pk}:{get_language()}".encode())
    for b in bookings:
        place = f"{b.room.name}\x1f{b.room.floor.building.name}"
        digest.update(f"\n{b.pk}:{b.version}:{b.status}:{b.updated_at.isoformat()}:{place}".encode())
    return quote_etag(digest.hexdigest()[:32])


def feed_name(feed: CalendarFeed) -> str:
    if feed.room_id:
        return f"{feed.room.name}, {feed.room.floor.building.name}"
    return _("My bookings")


def feed_url(raw: str) -> str:
    return settings.RFR_PUBLIC_URL + reverse("bookings:feed", args=[raw])


def not_found(token: str) -> HttpResponse:
    """The same short 404 for every unknown or revoked secret, which it never echoes."""
    response = HttpResponseNotFound(_("There is no such calendar."), content_type="text/plain; charset=utf-8")
    # Django would log the full path, and so the secret; the prefix is enough to trace it.
    response._has_been_logged = True
    log.info("calendar feed not found: %s…", token[:12])
    return response


@require_safe
def feed(request, token: str):
    """The iCalendar of a feed; 404 for an unknown or revoked secret alike."""
    calendar_feed = feed_for_token(token)
    if calendar_feed is None:
        return not_found(token)
    bookings = feed_bookings(calendar_feed, timezone.now())
    etag = feed_etag(calendar_feed, bookings)
    response = get_conditional_response(request, etag=etag)
    if response is None:
        viewer = calendar_feed.user
        body = ical.calendar(
            (ical.booking_event(b, viewer=viewer) for b in bookings), name=feed_name(calendar_feed)
        )
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def page(request, *, created=None, status: int = 200):
    feeds = (
        CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True)
        .select_related("room__floor__building")
        .order_by("-created_at", "-pk")
    )
    context = {
        "nav": "mine",
        "feeds": list(feeds),
        "rooms": places.bookable_rooms(),
        "created": created,
    }
    return render(request, "bookings/feeds.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def feeds(request):
    """Kalender-Abos: the user's feeds; a POST creates one and shows its URL this once."""
    if request.method == "GET":
        return page(request)
    room = None
    room_id = request.POST.get("room", "").strip()
    if room_id:
        room = Room.objects.filter(pk=room_id).first() if room_id.isdigit() else None
        if room is None:
            messages.error(request, _("There is no such room."))
            return page(request, status=400)
    try:
        new_feed, raw = create_feed(user=request.user, room=room)
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/feeds.html", {"nav": "mine", "feeds": []})
    # The secret is not stored anywhere: this response is the only place it appears.
    url = feed_url(raw)
    created = {"feed": new_feed, "url": url, "webcal": "webcal://" + url.split("://", 1)[-1]}
    response = page(request, created=created, status=201)
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def revoke(request, pk: int):
    """Revoke one of the user's feeds (services.revoke_feed); repeating it is harmless."""
    calendar_feed = get_object_or_404(CalendarFeed.objects.select_related("room"), pk=pk)
    try:
        revoke_feed(feed=calendar_feed, actor=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/feeds.html", {"nav": "mine", "feeds": []})
    messages.success(request, _("The calendar subscription was revoked; its address no longer works."))
    return redirect("bookings:feeds")
