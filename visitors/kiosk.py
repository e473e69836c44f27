"""The self check-in kiosk: registry (tokens) and the one thing a visitor can do there.

Tokens follow the door displays' pattern (a secret in the URL, only its sha256 stored,
shown once, rotated or revoked in the admin) and use the API tokens' hashing. From the
kiosk a visitor can only check themselves in with the code from their invitation, at
this site, around the time of their visit. Every failure answers the same sentence, and
attempts are counted per kiosk and minute, so nothing can be looked up or guessed there.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.errors import InvalidBooking
from bookings.services.tokens import hash_secret
from raumfuerraum import redis_store

from . import services
from .models import CODE_ALPHABET, CODE_LENGTH, Kiosk, Visitor

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
# A visitor may check in this long before their visit starts (an early train).
EARLY = timedelta(hours=2)

_local_lock = threading.Lock()
# Used only while Redis is unreachable; per process then.
_local_counts: dict[tuple[int, int], int] = {}


class TooManyAttempts(Exception):
    """The kiosk sent too many codes this minute."""


def kiosk_url(raw: str) -> str:
    """Where the tablet's browser points; shown once, since only the hash is stored."""
    return f"{settings.RFR_PUBLIC_URL}/kiosk/{raw}/"


def assign_token(kiosk: Kiosk) -> str:
    """Give a kiosk a new token (an unsaved one in the admin's add form); returns the secret."""
    raw = secrets.token_urlsafe(24)
    kiosk.token_hash, kiosk.token_prefix = hash_secret(raw), raw[:6]
    return raw


@transaction.atomic
def create_kiosk(*, site, name: str = "", language: str = Kiosk.Language.GERMAN) -> tuple[Kiosk, str]:
    """Register a kiosk; returns it and its secret token (never stored, shown once)."""
    kiosk = Kiosk(site=site, name=name, language=language)
    raw = assign_token(kiosk)
    kiosk.save()
    return kiosk, raw


@transaction.atomic
def rotate_token(*, kiosk: Kiosk) -> str:
    """A new token: the old URL stops working at once; returns the new secret."""
    kiosk = Kiosk.objects.select_for_update().get(pk=kiosk.pk)
    raw = assign_token(kiosk)
    kiosk.revoked_at = None
    kiosk.save(update_fields=["token_hash", "token_prefix", "revoked_at"])
    return raw


def revoke_kiosk(*, kiosk: Kiosk) -> None:
    """Revoke the token: its URL answers 404 from now on; rotating gives a new one."""
    Kiosk.objects.filter(pk=kiosk.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def kiosk_for_token(raw: str) -> Kiosk | None:
    """The active kiosk behind a token, or None."""
    if not TOKEN_RE.fullmatch(raw):
        return None
    return Kiosk.objects.select_related("site").filter(token_hash=hash_secret(raw), revoked_at=None).first()


def allow_attempt(kiosk: Kiosk, now: datetime) -> bool:
    """Count one code typed at the kiosk; False once it sent too many this minute."""
    minute = int(now.timestamp() // 60)
    key = f"rfr:kiosk:{kiosk.pk}:{minute}"

    def count(r) -> int:
        pipe = r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 120)
        return pipe.execute()[0]

    used = redis_store.run(count)
    if used is None:
        with _local_lock:
            for stale in [k for k in _local_counts if k[1] < minute]:
                del _local_counts[stale]
            used = _local_counts[kiosk.pk, minute] = _local_counts.get((kiosk.pk, minute), 0) + 1
    return used <= settings.RFR_KIOSK_ATTEMPTS_PER_MINUTE


def normalise(code: str) -> str:
    """What the visitor typed, as stored: capitals, without spaces or dashes."""
    return re.sub(r"[\s-]", "", code).upper()[:20]


def not_found() -> InvalidBooking:
    # One sentence for every failure: a wrong code, another site, another day, cancelled.
    return InvalidBooking(
        _("We could not find this code for today. Please check it or ask at the reception desk."),
        field="code",
    )


@transaction.atomic
def check_in_by_code(*, kiosk: Kiosk, code: str, now: datetime) -> Visitor:
    """Check a visitor in by their invitation code; raises TooManyAttempts, InvalidBooking."""
    if not allow_attempt(kiosk, now):
        raise TooManyAttempts
    code = normalise(code)
    if len(code) != CODE_LENGTH or set(code) - set(CODE_ALPHABET):
        raise not_found()
    visitor = (
        Visitor.objects.select_for_update(of=("self",))
        .select_related("visit__building__site", "visit__host")
        .filter(
            code=code,
            anonymised_at__isnull=True,
            visit__building__site=kiosk.site_id,
            visit__cancelled_at__isnull=True,
            visit__start__lte=now + EARLY,
            visit__end__gt=now,
        )
        .first()
    )
    if visitor is None or visitor.status not in (Visitor.Status.EXPECTED, Visitor.Status.ARRIVED):
        raise not_found()
    if visitor.status == Visitor.Status.ARRIVED:
        return visitor  # pressed twice: welcome again, the host was told once
    return services.arrive(visitor, actor=None, now=now, changes={"kiosk": kiosk.pk})
