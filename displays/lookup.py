"""Reads on the hot path: token to display, the display's status, its last poll, its rate limit.

In the common case (Redis up, nothing changed) a poll costs two Redis round trips and no
SQL. When Redis is unreachable every answer comes from PostgreSQL instead: the same
bytes, the same ETag, only slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError

from . import cache, status
from .models import Display
from .status import Snapshot

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
SEEN_EVERY = timedelta(minutes=1)
USER_AGENT_LENGTH = 300
VERSION_LENGTH = 40
# (address, user agent, kiosk page version) of a poll
Seen = tuple[str | None, str, str]

_MISS = object()
_local_lock = threading.Lock()
# Used only while Redis is unreachable; per process, so limits are per app server then.
_seen_written: dict[int, float] = {}
_local_counts: dict[tuple[int, int], int] = {}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def display_for_token(token: str) -> dict | None:
    """The active display behind a token as a dict (see status.display_info), or None."""
    if not TOKEN_RE.fullmatch(token):
        return None
    token_hash = hash_token(token)
    key = cache.token_key(token_hash)
    cached = cache.run(lambda r: r.get(key), default=_MISS)
    if cached not in (_MISS, None):
        return None if cached == b"0" else cache.loads(cached)
    display = (
        Display.objects.select_related("room__floor__building__site")
        .filter(token_hash=token_hash, revoked_at__isnull=True)
        .first()
    )
    info = status.display_info(display) if display else None
    if cached is not _MISS:
        # Unknown tokens are remembered briefly too, so guessing costs PostgreSQL little.
        value, ttl = (cache.dumps(info), cache.TOKEN_TTL) if info else ("0", cache.NEGATIVE_TOKEN_TTL)
        cache.run(lambda r: r.set(key, value, ex=ttl))
    return info


def snapshot(info: dict, now: datetime, *, seen: Seen | None = None) -> Snapshot:
    """The display's status now: from Redis if still valid there, else built (one query) and kept.

    ``seen`` records the poll: in Redis (flushed to PostgreSQL once a minute by
    ``flush_seen``), or without Redis straight in PostgreSQL at most once a minute.
    """
    rv_key, st_key = cache.room_version_key(info["room"]), cache.status_key(info["id"])

    def read(r):
        pipe = r.pipeline(transaction=False)
        pipe.get(rv_key)
        pipe.get(st_key)
        if seen is not None:
            pipe.hset(cache.SEEN_KEY, str(info["id"]), _seen_value(now, seen))
        return pipe.execute()[:2]

    got = cache.run(read)
    if got is None:
        if seen is not None:
            _record_seen_in_database(info["id"], now, seen)
        return status.build(info, now)
    version, stored = got[0], cache.loads(got[1])
    if (
        version is not None
        and stored is not None
        and stored["rv"] == int(version)
        and stored["cfg"] == info["cfg"]
        and now.timestamp() < stored["until"]
    ):
        return Snapshot(stored["body"], stored["etag"], datetime.fromtimestamp(stored["until"], UTC))
    # Read the version before the bookings: a change committed after this read bumps
    # the version again, so what we store below can only be too old, never wrongly fresh.
    version = (
        int(version) if version is not None else cache.run(lambda r: cache.room_version(r, info["room"]))
    )
    snap = status.build(info, now)
    if version is not None:
        entry = {
            "rv": version,
            "cfg": info["cfg"],
            "until": snap.valid_until.timestamp(),
            "etag": snap.etag,
            "body": snap.body,
        }
        ttl = int(min(max(snap.valid_until.timestamp() - now.timestamp(), 0), 86400)) + 5
        cache.run(lambda r: r.set(st_key, cache.dumps(entry), ex=ttl))
    return snap


def _seen_value(now: datetime, seen: Seen) -> str:
    address, agent, version = seen
    return cache.dumps([now.timestamp(), address, agent[:USER_AGENT_LENGTH], version[:VERSION_LENGTH]])


def _record_seen_in_database(display_id: int, now: datetime, seen: Seen) -> None:
    """Without Redis: write the poll, at most once a minute per display and process."""
    with _local_lock:
        last = _seen_written.get(display_id)
        if last is not None and time.monotonic() - last < SEEN_EVERY.total_seconds():
            return
        _seen_written[display_id] = time.monotonic()
    address, agent, version = seen
    # A read-only standby still serves displays; their last poll waits for the primary.
    with contextlib.suppress(DatabaseError):
        Display.objects.filter(pk=display_id).update(
            last_seen_at=now,
            last_seen_address=address,
            last_seen_user_agent=agent[:USER_AGENT_LENGTH],
            last_seen_version=version[:VERSION_LENGTH],
        )


def pending_seen() -> dict[int, tuple[datetime, str | None, str, str]]:
    """Polls recorded in Redis and not yet written to PostgreSQL."""
    raw = cache.run(lambda r: r.hgetall(cache.SEEN_KEY), default={}) or {}
    return {int(k): _parse_seen(v) for k, v in raw.items()}


def _parse_seen(raw: bytes) -> tuple[datetime, str | None, str, str]:
    at, address, agent, version = cache.loads(raw)
    return datetime.fromtimestamp(at, UTC), address, agent, version


def flush_seen() -> int:
    """Write the polls recorded in Redis to PostgreSQL in one batch; returns how many."""

    def take(r) -> dict:
        # Rename first, so polls arriving meanwhile land in a fresh hash and are not lost.
        parking = f"{cache.SEEN_KEY}:flushing"
        if not r.exists(cache.SEEN_KEY):
            return {}
        r.rename(cache.SEEN_KEY, parking)
        data = r.hgetall(parking)
        r.delete(parking)
        return data

    raw = cache.run(take, default={}) or {}
    rows = []
    for key, value in raw.items():
        at, address, agent, version = _parse_seen(value)
        rows.append(
            Display(
                pk=int(key),
                last_seen_at=at,
                last_seen_address=address,
                last_seen_user_agent=agent,
                last_seen_version=version,
            )
        )
    existing = set(Display.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", flat=True))
    rows = [r for r in rows if r.pk in existing]
    Display.objects.bulk_update(
        rows,
        ["last_seen_at", "last_seen_address", "last_seen_user_agent", "last_seen_version"],
        batch_size=500,
    )
    return len(rows)


def allow_action(display_id: int, now: datetime) -> bool:
    """Count a door action; False once the display sent too many this minute."""
    minute = int(now.timestamp() // 60)
    key = cache.rate_key(display_id, minute)

    def count(r) -> int:
        pipe = r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 120)
        return pipe.execute()[0]

    used = cache.run(count)
    if used is None:
        with _local_lock:
            for stale in [k for k in _local_counts if k[1] < minute]:
                del _local_counts[stale]
            used = _local_counts[display_id, minute] = _local_counts.get((display_id, minute), 0) + 1
    return used <= settings.RFR_DISPLAY_ACTIONS_PER_MINUTE
