"""What the displays keep in Redis, so that thousands of panels polling cost PostgreSQL nothing.

Keys (all under ``rfr:d:``):

- ``tok:<sha256>``   the display behind a token (JSON; ``0`` = no such display), 10 minutes
- ``rv:<room>``      the room's status version; bumped after every change of its bookings
- ``st:<display>``   the last status built for a display with the version it was built at
- ``seen``           hash display -> last poll (time, address, user agent), flushed to
                     PostgreSQL once a minute by ``displays.tasks.flush_last_seen``
- ``rl:<display>:<minute>``  door actions in that minute (rate limit)

Redis is an accelerator here, never the truth: every caller has a PostgreSQL path for
when Redis is unreachable (answers stay correct, only slower), and after one failure a
process leaves Redis alone for a few seconds instead of waiting on it at every request.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from raumfuerraum import redis_store

PREFIX = "rfr:d:"
TOKEN_TTL = 600
NEGATIVE_TOKEN_TTL = 30
SEEN_KEY = PREFIX + "seen"


def token_key(token_hash: str) -> str:
    return f"{PREFIX}tok:{token_hash}"


def room_version_key(room_id: int) -> str:
    return f"{PREFIX}rv:{room_id}"


def status_key(display_id: int) -> str:
    return f"{PREFIX}st:{display_id}"


def rate_key(display_id: int, minute: int) -> str:
    return f"{PREFIX}rl:{display_id}:{minute}"


# One client and one failure pause for the whole app (raumfuerraum.redis_store).
_client = redis_store.client
reset = redis_store.reset
run = redis_store.run


def available() -> bool:
    return _client() is not None


def loads(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# --- room versions ------------------------------------------------------------------


def _initial_version() -> int:
    # A version that lost its key (Redis flushed) starts above every earlier one, so an
    # old ETag can never match a new status by accident.
    return time.time_ns() // 1000


def bump_room_versions(room_ids: list[int] | set[int]) -> bool:
    """Raise the versions of these rooms; False if Redis was unreachable."""
    if not room_ids:
        return True

    def action(r: redis.Redis) -> bool:
        pipe = r.pipeline(transaction=True)
        for room_id in sorted(room_ids):
            pipe.set(room_version_key(room_id), _initial_version(), nx=True)
            pipe.incr(room_version_key(room_id))
        pipe.execute()
        return True

    return run(action, default=False)


def room_version(r: redis.Redis, room_id: int) -> int:
    """The room's version, created if missing (inside ``run``)."""
    key = room_version_key(room_id)
    r.set(key, _initial_version(), nx=True)
    return int(r.get(key))


# --- tokens -------------------------------------------------------------------------


def forget_tokens(token_hashes: list[str]) -> None:
    """Drop cached token look-ups (after revoke, rotate or a change of the display)."""
    keys = [token_key(h) for h in token_hashes if h]
    if keys:
        run(lambda r: r.delete(*keys))


def forget_status(display_ids: list[int]) -> None:
    keys = [status_key(i) for i in display_ids]
    if keys:
        run(lambda r: r.delete(*keys))
