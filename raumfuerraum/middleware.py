"""Cross-cutting HTTP behaviour: the version header, JSON errors under /api/, fail-over, read-only mode."""

import contextlib
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import inline, instruments, read_only


class RequestMetricsMiddleware:
    """Counts each request and its time by view name and status class (instruments.py).

    Outermost, so the 503 pages and JSON errors of the others are counted as they left.
    The view is the URL's name, never the path: ids in paths would make a series per room.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "none"
        instruments.requests.labels(view, f"{response.status_code // 100}xx").inc()
        instruments.latency.labels(view).observe(time.perf_counter() - started)
        return response


class VersionHeaderMiddleware:
    """Every response names the release that served it (upgrades are verified by it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-RFR-Version"] = settings.VERSION
        return response


class ApiErrorsAsJsonMiddleware:
    """Whatever Django answers under /api/ before or around the API answers in JSON like the rest.

    The API's own handlers already speak JSON; this covers the URL resolver and method
    dispatch (404, 405) and Django's own refusals (a 400 for a bad Host, say), so a
    client never meets an HTML page there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            replacement = JsonResponse({"detail": _api_message(status)}, status=status)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response


def _api_message(status: int) -> str:
    messages = {
        400: lambda: _("The request is malformed."),
        403: lambda: _("You may not do this."),
        404: lambda: _("Not found."),
        405: lambda: _("This method is not allowed here."),
        413: lambda: too_large_message(),
        503: lambda: _("The service is unavailable right now; please try again shortly."),
    }
    if status in messages:
        return messages[status]()
    if status >= 500:
        return _("Internal error; it has been logged.")
    return _("The request was refused.")


def too_large_message() -> str:
    return _("The request body is too large: at most %(n)d bytes.") % {
        "n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def too_large() -> JsonResponse:
    return JsonResponse({"detail": too_large_message()}, status=413)


class ApiBodyGuardMiddleware:
    """The API refuses a body larger than Django takes (413) before anything reads it.

    Sits after the locale middleware, so the answer is in the caller's language. A body
    that comes without Content-Length (chunked) is measured as it is read; the API's
    error table answers that one, and a body that is not JSON (415).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def _refusal(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # gunicorn refuses a malformed Content-Length before we see it
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return too_large()
        return None


# --- database fail-over and read-only mode: a standby answers, writes are refused ---

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Views that write nothing to the database, so they work in read-only mode as well
# (signing out only clears the cookie then, see raumfuerraum.sessions).
WORKS_READ_ONLY = frozenset({"set_language", "logout", "admin:logout"})
SIGN_IN_VIEWS = frozenset({"login", "admin:login"})
# Door displays read JSON with "ok" and "detail" (displays/static/displays/kiosk.js).
DOOR_JSON_VIEWS = frozenset({"displays:status", "displays:check_in", "displays:book_now"})
DATABASE_RETRY_AFTER_SECONDS = 5
UNAVAILABLE_CSS = inline.InlineAsset.read(
    Path(__file__).resolve().parent / "static" / "raumfuerraum" / "unavailable.css"
)


def is_connection_error(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def discard_database_connections() -> None:
    """Close this thread's connections: the next query connects afresh, to the new primary."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # only a test wraps requests in a transaction; closing would end it
        with contextlib.suppress(DatabaseError):
            conn.close()
        conn.errors_occurred = False


@receiver(got_request_exception, dispatch_uid="rfr-remember-database-error")
def _remember_database_error(sender, request=None, **kwargs):
    # Errors raised outside a view (a session saved on the way out, say) become a 500
    # page before DatabaseAvailabilityMiddleware sees the response; note why it failed.
    exc = sys.exc_info()[1]
    if request is not None and (is_connection_error(exc) or read_only.is_read_only_error(exc)):
        instruments.database_errors.inc()
        request.rfr_database_error = exc


class DatabaseAvailabilityMiddleware:
    """A lost database or a read-only standby answers 503 with the reason, never a 500 page.

    - The database goes away (a fail-over): the broken connection is closed so the next
      query reconnects, and with a multi-host DATABASE_URL (target_session_attrs=read-write)
      it finds the promoted standby without a restart. A GET or HEAD is retried once at
      once; anything else answers 503 with Retry-After, and booking writes are safe to
      repeat with their Idempotency-Key.
    - Read-only mode (the DR site's standby, or RFR_READ_ONLY=1): writes are refused
      before they reach a view; reads carry on.

    JSON ({"detail": ...}) under /api/ and for door displays; a small translated page
    otherwise. Sits outside the session middleware so its failures are caught too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.rfr_database_error = None
        response = self.get_response(request)
        if request.method in SAFE_METHODS and self._failed(request, response):
            # Once more at once: a read that met a broken connection reconnects; one that
            # wrote on a standby unnoticed (a session, say) now knows it is read-only.
            self._start_afresh(request.rfr_database_error)
            request.rfr_database_error = None
            response = self.get_response(request)
        error = request.rfr_database_error
        if error is not None:
            self._start_afresh(error)
            if read_only.is_read_only_error(error):
                return self._refuse_write(request)
            return self._database_unavailable(request)
        if self._database_failed(response):
            # A view answered the failure itself (the API's 503): still start afresh.
            discard_database_connections()
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in SAFE_METHODS:
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if name in WORKS_READ_ONLY or not read_only.active():
            return None
        return self._refuse_write(request)

    def process_exception(self, request, exception):
        if is_connection_error(exception) or read_only.is_read_only_error(exception):
            # Answered in __call__ (after a retry for reads), without a 500 in the log.
            instruments.database_errors.inc()
            request.rfr_database_error = exception
            return HttpResponse(status=503)
        return None

    @staticmethod
    def _database_failed(response) -> bool:
        return response.status_code in (500, 503) and any(
            conn.errors_occurred for conn in connections.all(initialized_only=True)
        )

    def _failed(self, request, response) -> bool:
        return request.rfr_database_error is not None or self._database_failed(response)

    @staticmethod
    def _start_afresh(error: BaseException | None) -> None:
        if read_only.is_read_only_error(error):
            read_only.remember_read_only()
        discard_database_connections()

    def _database_unavailable(self, request):
        message = _("The database is not reachable right now; please try again shortly.")
        response = self._answer(
            request,
            heading=_("Temporarily unavailable"),
            message=message,
            retry=request.method in SAFE_METHODS,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    def _refuse_write(self, request):
        name = request.resolver_match.view_name if request.resolver_match else ""
        message = read_only.sign_in_message() if name in SIGN_IN_VIEWS else read_only.message()
        response = self._answer(request, heading=_("Read-only mode"), message=message, retry=False)
        response["Retry-After"] = str(read_only.RETRY_AFTER_SECONDS)
        return response

    def _answer(self, request, *, heading: str, message: str, retry: bool):
        name = request.resolver_match.view_name if request.resolver_match else ""
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503)
        elif name in DOOR_JSON_VIEWS:
            response = JsonResponse({"ok": False, "detail": message}, status=503)
        else:
            back = request.META.get("HTTP_REFERER", "")
            if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
                back = ""
            html = render_to_string(
                "service_unavailable.html",
                {
                    "heading": heading,
                    "message": message,
                    "retry_url": request.get_full_path() if retry else "",
                    "back_url": back,
                    "home_url": "/",
                    "refresh": DATABASE_RETRY_AFTER_SECONDS * 2 if retry else None,
                    "css": UNAVAILABLE_CSS.text,
                },
            )
            response = inline.allow(HttpResponse(html, status=503), styles=(UNAVAILABLE_CSS,))
        add_never_cache_headers(response)
        return response
