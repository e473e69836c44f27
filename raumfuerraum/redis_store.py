"""The app's Redis as an accelerator: one client per URL, short timeouts, a pause after a failure.

Callers keep a path for when Redis is unreachable (the displays read PostgreSQL, rate
limits count per process); after one failure a process leaves Redis alone for a few
seconds instead of waiting on it at every request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.conf import settings

from . import instruments

log = logging.getLogger("rfr.redis")

# After a failure, how long this process goes without Redis before trying it again.
RETRY_AFTER = 5.0

T = TypeVar("T")

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()
_down_until = 0.0


def client() -> redis.Redis | None:
    """The client for settings.REDIS_URL, or None while this process pauses after a failure."""
    if time.monotonic() < _down_until:
        return None
    url = settings.REDIS_URL
    found = _clients.get(url)
    if found is None:
        with _lock:
            found = _clients.get(url)
            if found is None:
                # Short timeouts: a slow Redis must not hold a request longer than the
                # fallback path would take.
                found = redis.Redis.from_url(
                    url, socket_connect_timeout=0.3, socket_timeout=0.5, health_check_interval=30
                )
                _clients[url] = found
    return found


def reset() -> None:
    """Forget failures and connections (tests switch Redis on and off)."""
    global _down_until
    _down_until = 0.0
    with _lock:
        for found in _clients.values():
            found.close()
        _clients.clear()


def run(action: Callable[[redis.Redis], T], default: Any = None) -> T | Any:
    """``action(redis)``, or ``default`` when Redis is unreachable (then skipped for a while)."""
    global _down_until
    found = client()
    if found is None:
        return default
    try:
        return action(found)
    except (redis.RedisError, OSError) as exc:
        instruments.redis_errors.inc()
        _down_until = time.monotonic() + RETRY_AFTER
        log.warning("Redis unavailable (%s); using the fallback for %ss", exc, RETRY_AFTER)
        return default
