"""API tokens: shown once, stored as sha256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from raumfuerraum import read_only

from ..models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PREFIX = "rfr_"
# Writing last_used_at on every request would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns it and the secret, which is never stored."""
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], key_hash=hash_secret(raw))
    return token, raw


def revoke_token(*, token: ApiToken) -> None:
    """Revoke; the row stays for the record."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def authenticate_token(raw: str) -> User | None:
    """The active user behind a bearer token, or None."""
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_secret(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    stale = token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION
    # A read-only standby (DR site) serves reads; it cannot note when a token was last used.
    if stale and not read_only.active():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
