"""Read-only mode: the DR site's standby database, or RFR_READ_ONLY=1.

Reads and door displays keep working; writes are refused with a clear 503 instead of a
500 from PostgreSQL. A standby is recognised by ``pg_is_in_recovery()``, asked at most
every few seconds per process, and by the error a write gets there (SQLSTATE 25006),
which also covers the seconds before the next check.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils.translation import gettext as _

# How long one answer from the database is trusted; a switch to or from the standby
# shows within this many seconds (or at the first refused write).
CHECK_SECONDS = 5.0
# Read-only can last for hours: clients should not hammer the server with their writes.
RETRY_AFTER_SECONDS = 300
READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction

_lock = threading.Lock()
_checked_at = float("-inf")
_in_recovery = False


def database_is_read_only() -> bool:
    """Whether the database is a standby (or refuses writes); cached for CHECK_SECONDS.

    Never raises: when the database cannot be asked, the last answer stands.
    """
    global _checked_at, _in_recovery
    now = time.monotonic()
    if now - _checked_at < CHECK_SECONDS:
        return _in_recovery
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")
            (value,) = cursor.fetchone()
    except DatabaseError:
        return _in_recovery
    with _lock:
        _checked_at, _in_recovery = now, bool(value)
    return _in_recovery


def remember_read_only() -> None:
    """A write was refused as read-only: believe it until the next check is due."""
    global _checked_at, _in_recovery
    with _lock:
        _checked_at, _in_recovery = time.monotonic(), True


def forget() -> None:
    """Ask the database again at the next opportunity (tests, and after a promotion)."""
    global _checked_at
    with _lock:
        _checked_at = float("-inf")


def active() -> bool:
    """Read-only mode: set by the operator, or the database is a standby."""
    return bool(getattr(settings, "RFR_READ_ONLY", False)) or database_is_read_only()


def is_read_only_error(exc: BaseException | None) -> bool:
    """Whether ``exc`` (a Django or psycopg error) is PostgreSQL refusing a write."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "sqlstate", None) == READ_ONLY_SQLSTATE:
            return True
        exc = exc.__cause__
    return False


def message() -> str:
    return _(
        "raum]für[raum is in read-only mode (for example during emergency operation at the standby "
        "site). You can look up rooms and bookings, but booking, changing and cancelling are not "
        "possible right now. Please try again later."
    )


def sign_in_message() -> str:
    return _(
        "Signing in is not possible right now: raum]für[raum is in read-only mode (for example during "
        "emergency operation at the standby site). If you are already signed in, you can keep looking "
        "up rooms and bookings."
    )


def json_refusal(**extra) -> JsonResponse:
    """The API's answer to a write in read-only mode (the middleware and the API use it)."""
    response = JsonResponse({"detail": message(), "read_only": True, **extra}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def context(request) -> dict:
    """Template context processor: ``rfr_read_only`` shows the banner in base.html."""
    return {"rfr_read_only": active()}
