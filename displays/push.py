"""Push: the display's status, POSTed to its own endpoint when its room's bookings change.

Each request carries

    X-RFR-Timestamp: <unix seconds>
    X-RFR-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the push secret>

A receiver recomputes the HMAC over the raw body, compares in constant time, and
rejects a timestamp more than ``REPLAY_WINDOW`` (5 minutes) away from its own clock, so a
captured request cannot be replayed later. Within the window a replay only repeats a
status the display already had; a receiver that wants more remembers the signatures it
saw in the last 5 minutes. Pushes are at least once and not ordered: a receiver keeps
the one with the newest timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from bookings.outbox import DeliveryError

from . import status
from .models import Display

log = logging.getLogger("rfr.displays.push")

REPLAY_WINDOW = 300
TIMEOUT = 5


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None) -> bool:
    """What a receiver does: signature right and timestamp within the replay window."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > REPLAY_WINDOW:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


def push(display: Display, *, topic: str, now: datetime | None = None) -> None:
    """POST the display's current status to its push URL; raises DeliveryError on failure.

    4xx answers (other than 408 and 429) are permanent: the receiver refuses this request
    and would refuse it again.
    """
    now = now or timezone.now()
    # Built fresh, not from Redis: this sink may run before the one that bumps the version.
    snap = status.build(status.display_info(display), now)
    body = status.encode(snap.body)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - admins configure http(s) URLs only (URLField)
        display.push_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"raumfuerraum/{settings.VERSION}",
            "X-RFR-Timestamp": str(timestamp),
            "X-RFR-Signature": sign(display.push_secret, timestamp, body),
            "X-RFR-Event": topic,
            "X-RFR-Display": str(display.pk),
            "ETag": snap.etag,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        raise DeliveryError(f"{display.push_url} answered {exc.code}", permanent=permanent) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{display.push_url}: {getattr(exc, 'reason', exc)}") from None
