"""Calendar feeds: a secret subscription URL per person or room, shown once, stored as sha256.

Calendar clients cannot sign in, so the URL itself is the credential. It is made and
hashed like an API token (services.tokens); the prefixes differ, so neither secret
works in the other's place.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from raumfuerraum import read_only

from ..errors import NotAllowed
from ..models import CalendarFeed, Room
from .tokens import LAST_USED_RESOLUTION, hash_secret

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PREFIX = "cal_"
# token_urlsafe(32) gives 43 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 100


def create_feed(*, user: User, room: Room | None = None) -> tuple[CalendarFeed, str]:
    """A new feed of the user's own bookings, or of a room's; returns it and the secret, never stored."""
    raw = PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=user, room=room, prefix=raw[:12], key_hash=hash_secret(raw))
    return feed, raw


def revoke_feed(*, feed: CalendarFeed, actor: User) -> None:
    """Revoke; the row stays for the record. Raises NotAllowed unless the actor owns it or is staff."""
    if actor.pk != feed.user_id and not actor.is_staff:
        raise NotAllowed(_("Only its owner can revoke this calendar subscription."))
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        # Only where it is still active: a concurrent second revocation keeps the first time.
        CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=feed.revoked_at)


def feed_for_token(raw: str) -> CalendarFeed | None:
    """The active feed behind a secret (with its owner and room), or None when unknown or revoked."""
    if not raw.startswith(PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    feed = (
        CalendarFeed.objects.select_related("user", "room__floor__building")
        .filter(key_hash=hash_secret(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    now = timezone.now()
    stale = feed.last_used_at is None or now - feed.last_used_at > LAST_USED_RESOLUTION
    # Calendar clients poll every few minutes: writing on every poll would turn reads into
    # writes. A read-only standby (DR site) serves feeds but cannot note their use.
    if stale and not read_only.active():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        feed.last_used_at = now
    return feed
