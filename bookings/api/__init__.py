"""The JSON API under /api/v1/: session or bearer-token auth, one error contract.

Errors are always ``{"detail": ...}`` in the caller's language with the right status;
bad input never reaches a 500 and a refused write changes nothing.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from raumfuerraum import read_only
from raumfuerraum.middleware import too_large

from ..errors import (
    BookingConflict,
    BookingError,
    InvalidBooking,
    NotAllowed,
    PolicyViolation,
    StaleBooking,
)
from . import openapi
from .auth import BearerToken, CsrfRefused, Session, TooManyFailures, csrf_message, too_many_message
from .parsing import NotJson, PlainTextParser
from .serialize import booking_dict, occurrence_dict
from .validation import describe_validation_errors

log = logging.getLogger("rfr.api")

# Deadlock and serialization failure: PostgreSQL rolled the transaction back; a retry works.
RETRYABLE = {"40P01", "40001"}


class Api(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return openapi.complete(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = Api(
    title="raum]für[raum API",
    version="1",
    urls_namespace="api-v1",
    auth=[BearerToken(), Session()],
    docs_url="/docs",
    parser=PlainTextParser(),
)


def error(detail: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    detail, errors = describe_validation_errors(exc.errors)
    # "field" names the first problem, as for every other 422; "errors" lists them all.
    return error(detail, 422, field=errors[0]["field"] if errors else None, errors=errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    response = error(_("Authentication required: sign in or send a valid bearer token."), 401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(CsrfRefused)
def on_csrf_refused(request, exc):
    return error(csrf_message(), 403)


@api.exception_handler(TooManyFailures)
def on_too_many_failures(request, exc):
    response = error(too_many_message(), 429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestDataTooBig)
def on_too_large(request, exc):
    # A body without Content-Length (chunked) is only measured as it is read.
    return too_large()


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    if exc.status_code == 400 and isinstance(exc.__cause__, NotJson):
        return error(_("The request body must be JSON, sent with Content-Type: application/json."), 415)
    if exc.status_code == 400:
        return error(_("The request body is not valid JSON."), 400)
    return error(str(exc), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error(_("Not found."), 404)


@api.exception_handler(BookingConflict)
def on_conflict(request, exc):
    viewer = request.auth
    return error(
        exc.message,
        409,
        conflicts=[booking_dict(b, viewer) for b in exc.conflicts],
        occurrences=[occurrence_dict(o, viewer) for o in exc.occurrences],
    )


@api.exception_handler(BookingError)
def on_booking_error(request, exc):
    if isinstance(exc, StaleBooking):
        return error(exc.message, 412, field=exc.field)
    if isinstance(exc, InvalidBooking):
        return error(exc.message, 422, field=exc.field)
    if isinstance(exc, PolicyViolation):
        # Every rule the request breaks, so a client can show them all at once.
        return error(exc.message, 403, reasons=[r.as_dict() for r in exc.reasons])
    if isinstance(exc, NotAllowed):
        return error(exc.message, 403)
    return error(exc.message, 403)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    if getattr(exc.__cause__, "sqlstate", None) in RETRYABLE:
        # Nothing was written; with its Idempotency-Key the same request is safe to send again.
        log.warning("write rolled back, retry: %s", exc)
        response = error(
            _("Too many changes at the same moment; nothing was saved. Please send it again."), 503
        )
        response["Retry-After"] = "1"
        return response
    log.warning("database unavailable: %s", exc)
    response = error(_("The database is not reachable right now; please try again shortly."), 503)
    response["Retry-After"] = "5"
    return response


@api.exception_handler(DatabaseError)
@api.exception_handler(Exception)
def on_unexpected(request, exc):
    if read_only.is_read_only_error(exc):
        # A standby (DR site) refused the write: 503 with the reason, as the middleware says it.
        read_only.remember_read_only()
        return read_only.json_refusal()
    log.exception("unexpected error in %s %s", request.method, request.path)
    return error(_("Internal error; it has been logged."), 500)


from . import approvals, bookings, checkin, meetings, rooms, waiting  # noqa: E402,F401  (registers the routes)
