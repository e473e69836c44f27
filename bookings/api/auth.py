"""Who is calling the API: a bearer token, or a signed-in browser session (then with CSRF).

Without valid credentials every method answers 401 with ``WWW-Authenticate: Bearer``;
CSRF is checked only for a request that a session authenticates, since only a browser
sends that cookie on its own. Failed bearer attempts are counted per client address in
the app's Redis, so every worker and app server shares the limit.
"""

from __future__ import annotations

import threading
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from raumfuerraum import redis_store

from ..services.tokens import authenticate_token

WINDOW = 60
PREFIX = "rfr:api:authfail:"

_UNREACHABLE = object()
_local_lock = threading.Lock()
# Used only while Redis is unreachable; per process, so the limit is per worker then.
_local_counts: dict[tuple[str, int], int] = {}


class CsrfRefused(Exception):
    """A session-authenticated write without a valid CSRF token."""


class TooManyFailures(Exception):
    """The client address sent too many bad credentials this minute."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _address(request) -> str:
    # The address the sign-in lock-out counts (django-axes), so both agree behind a proxy.
    return get_client_ip_address(request) or "unknown"


def _window() -> tuple[int, int]:
    """(this minute's number, seconds until the next one)."""
    now = time.time()
    return int(now // WINDOW), WINDOW - int(now % WINDOW)


def _failures(address: str, minute: int) -> int:
    raw = redis_store.run(lambda r: r.get(f"{PREFIX}{address}:{minute}"), default=_UNREACHABLE)
    if raw is _UNREACHABLE:
        with _local_lock:
            return _local_counts.get((address, minute), 0)
    return int(raw or 0)


def _count_failure(address: str, minute: int) -> None:
    key = f"{PREFIX}{address}:{minute}"

    def count(r) -> int:
        pipe = r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 2 * WINDOW)
        return pipe.execute()[0]

    if redis_store.run(count) is None:
        with _local_lock:
            for stale in [k for k in _local_counts if k[1] < minute]:
                del _local_counts[stale]
            _local_counts[address, minute] = _local_counts.get((address, minute), 0) + 1


class BearerToken(HttpBearer):
    def __call__(self, request):
        if not request.headers.get(self.header):
            return None
        address = _address(request)
        minute, retry_after = _window()
        if _failures(address, minute) >= settings.RFR_API_AUTH_FAILURES_PER_MINUTE:
            raise TooManyFailures(retry_after)
        user = super().__call__(request)
        if user is None:
            _count_failure(address, minute)
        return user

    def authenticate(self, request, token):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class Session(SessionAuth):
    def _get_key(self, request):
        if not request.user.is_authenticated:
            # No session: nothing a browser sends by itself, so no CSRF check; the answer is 401.
            return None
        if check_csrf(request) is not None:
            raise CsrfRefused
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


def csrf_message() -> str:
    return _("The security check (CSRF) failed: reload the page and try again, or use a bearer token.")


def too_many_message() -> str:
    return _("Too many failed sign-in attempts from your address; please wait a minute.")


def forget_failures() -> None:
    """Clear every count of failed attempts (tests start from none)."""

    def clear(r) -> None:
        keys = list(r.scan_iter(match=f"{PREFIX}*", count=1000))
        if keys:
            r.delete(*keys)

    redis_store.run(clear)
    with _local_lock:
        _local_counts.clear()
