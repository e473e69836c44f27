"""Door display pages: the kiosk page, its status.json, the door actions, the fleet view.

A display has no session and no user: its secret token in the URL is its credential.
"""

from __future__ import annotations

import functools
import logging
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import segno
from csp.decorators import csp_update
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from bookings.errors import BookingConflict, BookingError, NotAllowed
from raumfuerraum import inline
from raumfuerraum.inline import InlineAsset

from . import lookup, services, status
from .models import Display

log = logging.getLogger("rfr.displays")

# Browsers and proxies may reuse a status this long at most: a booking can change it
# at any moment, so the real freshness comes from revalidating with If-None-Match.
MAX_AGE = 5
KIOSK_HEADER = "HTTP_X_RFR_KIOSK"
STATIC = Path(__file__).resolve().parent / "static" / "displays"


def _seen(request) -> lookup.Seen:
    return (
        request.META.get("REMOTE_ADDR") or None,
        request.META.get("HTTP_USER_AGENT", ""),
        request.META.get(KIOSK_HEADER, ""),
    )


def _not_found() -> JsonResponse:
    response = JsonResponse({"detail": _("Not found.")}, status=404)
    response["Cache-Control"] = "no-store"
    return response


def _etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): the gzip middleware sends W/"…"."""
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag.removeprefix("W/") in candidates


@require_safe
def status_json(request, token: str):
    """The room's state now; 304 for an unchanged ETag, in the common case without SQL."""
    info = lookup.display_for_token(token)
    if info is None:
        return _not_found()
    now = timezone.now()
    snap = lookup.snapshot(info, now, seen=_seen(request))
    if _etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), snap.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(status.encode(snap.body), content_type="application/json")
    seconds = int((snap.valid_until - now).total_seconds())
    response["ETag"] = snap.etag
    response["Cache-Control"] = f"private, max-age={max(0, min(seconds, MAX_AGE))}, must-revalidate"
    return response


# Inlined into the page: the kiosk loads one document, with no other request that could
# fail on a flaky network, and needs no collectstatic. The policy allows them by hash.
KIOSK_CSS = InlineAsset.read(STATIC / "kiosk.css")
KIOSK_JS = InlineAsset.read(STATIC / "kiosk.js")


@functools.lru_cache(maxsize=1024)
def qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True, dark="#000", light="#fff")


def booking_url(room_id: int) -> str:
    """Where a phone books the room (the QR code); the staff pages take ?room=."""
    return f"{settings.RFR_PUBLIC_URL}/?room={room_id}"


def js_strings() -> dict:
    """Texts the page's script needs, in the display's language."""
    return {
        "states": status.state_labels(),
        "free_until": _("Free until %(time)s"),
        "free_today": _("Free for the rest of the day"),
        "booked_from": _("Booked from %(time)s"),
        "booked_until": _("Booked until %(time)s"),
        "awaiting": _("Please check in at the door"),
        "change_in": _("Changes in %(duration)s"),
        "minutes": _("%(n)s min"),
        "hours": _("%(h)s h %(m)s min"),
        "offline": _("Offline since %(time)s – showing the last known state"),
        "no_title": _("Occupied"),
        "nothing_more": _("No more bookings today"),
        "check_in": _("Check in"),
        "book_now": _("Book now for %(n)s min"),
        "unreachable": _("The server cannot be reached. Please try again."),
        "pin": _("PIN"),
    }


@csp_update(inline.policy(scripts=(KIOSK_JS,), styles=(KIOSK_CSS,)))
def kiosk(request, token: str):
    """The full-screen page at the door; updates itself from status.json."""
    info = lookup.display_for_token(token)
    if info is None:
        return _not_found()
    now = timezone.now()
    snap = lookup.snapshot(info, now, seen=_seen(request))
    base = request.path.rstrip("/")
    with translation.override(info["language"]):
        config = {
            "status_url": f"{base}/status.json",
            "check_in_url": f"{base}/check-in",
            "book_now_url": f"{base}/book-now",
            "version": settings.VERSION,
            "strings": js_strings(),
            "status": snap.body,
            "etag": snap.etag,
        }
        html = render_to_string(
            "displays/kiosk.html",
            {
                "info": info,
                "status": snap.body,
                "config": config,
                "qr_svg": qr_svg(booking_url(info["room"])),
                "css": KIOSK_CSS.text,
                "js": KIOSK_JS.text,
            },
        )
    response = HttpResponse(html)
    response["Cache-Control"] = "no-cache"
    response["Content-Language"] = info["language"]
    return response


def _door_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "detail": message}, status=status)


def _door_action(request, token: str, action: str) -> JsonResponse:
    info = lookup.display_for_token(token)
    if info is None:
        return _not_found()
    with translation.override(info["language"]):
        now = timezone.now()
        if not lookup.allow_action(info["id"], now):
            return _door_error(_("Too many attempts at this display. Please wait a minute."), 429)
        display = (
            Display.objects.select_related("room").filter(pk=info["id"], revoked_at__isnull=True).first()
        )
        if display is None:
            return _not_found()
        if not services.pin_matches(display, request.POST.get("pin", "")):
            return _door_error(_("The PIN is not correct."), 403)
        try:
            if action == "check_in":
                booking = services.check_in_at_door(
                    display=display, booking_id=_int(request.POST.get("booking")), now=now
                )
                message = _("Checked in. Have a good meeting!")
            else:
                booking = services.book_now_at_door(
                    display=display, minutes=_int(request.POST.get("minutes")), now=now
                )
                message = _("Booked for you until %(time)s.") % {"time": _local_time(booking.end, info)}
        except NotAllowed as exc:
            return _door_error(exc.message, 403)
        except BookingConflict:
            return _door_error(_("The room is no longer free for that long."), 409)
        except BookingError as exc:
            return _door_error(exc.message, 400)
        except DatabaseError:
            # Read-only standby or database away: say so at the door instead of a 500.
            log.exception("door action %s failed on the database", action)
            return _door_error(
                _("Booking is not possible right now. Please use your computer or phone."), 503
            )
        snap = lookup.snapshot(info, timezone.now())
    return JsonResponse({"ok": True, "message": message, "booking": booking.pk, "status": snap.body})


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _local_time(moment: datetime, info: dict) -> str:
    return f"{moment.astimezone(zoneinfo.ZoneInfo(info['tz'])):%H:%M}"


# The door actions are csrf_exempt on purpose. CSRF defends credentials a browser sends
# by itself (the session cookie); these views use no cookie and no session: the secret
# token in the URL is the only credential. A forged cross-site POST would have to know
# the token, and whoever knows it can act directly anyway. A per-page nonce would add
# nothing but a way for a long-running kiosk page to break after a restart.
@csrf_exempt
@require_POST
def check_in(request, token: str):
    """Check in the running (or soon starting) booking at the door."""
    return _door_action(request, token, "check_in")


@csrf_exempt
@require_POST
def book_now(request, token: str):
    """Book the free room from now for 15, 30 or 60 minutes."""
    return _door_action(request, token, "book_now")


@staff_member_required
def fleet(request):
    """Every display with online/offline, last seen and page version; offline ones first."""
    now = timezone.now()
    offline_after = timedelta(minutes=settings.RFR_DISPLAY_OFFLINE_MINUTES)
    pending = lookup.pending_seen()
    rows = []
    for display in Display.objects.select_related("room__floor__building"):
        seen_at, address, agent, version = pending.get(display.pk) or (
            display.last_seen_at,
            display.last_seen_address,
            display.last_seen_user_agent,
            display.last_seen_version,
        )
        online = seen_at is not None and now - seen_at <= offline_after and not display.is_revoked
        rows.append(
            {
                "display": display,
                "online": online,
                "seen_at": seen_at,
                "address": address,
                "agent": agent,
                "version": version,
            }
        )
    rows.sort(
        key=lambda r: (
            r["display"].is_revoked,
            r["online"],
            r["display"].room.name,
            r["display"].name,
            r["display"].pk,
        )
    )
    offline = sum(1 for r in rows if not r["online"] and not r["display"].is_revoked)
    return render(
        request,
        "displays/fleet.html",
        {"rows": rows, "offline": offline, "offline_minutes": settings.RFR_DISPLAY_OFFLINE_MINUTES},
    )
