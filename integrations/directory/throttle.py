"""Brute-force protection for every sign-in (django-axes), shaped to this app.

- Failures count per login name and client address; the three spellings of a
  directory login count as one name.
- A sign-in that failed because the directory could not be asked does not count: an
  outage must not lock the whole company out.
- Bearer tokens never pass through authenticate(), so the API is not throttled here.
- A locked-out person sees the sign-in page again with the reason, status 429.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from .login import directory_unreachable, normalize_login


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses sign-ins of a locked-out name and address; first in AUTHENTICATION_BACKENDS."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        # Without a request there is no client to throttle: code that calls
        # authenticate() itself (test clients, scripts) is not reachable from outside.
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request, credentials) -> str | None:
    """AXES_USERNAME_CALLABLE: one name for ``mmuster``, ``mmuster@firma.de`` and ``FIRMA\\mmuster``."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    return normalize_login(raw) if raw else None


def failure_not_counted(request, credentials) -> bool:
    """AXES_WHITELIST_CALLABLE: a directory outage is nobody's wrong password."""
    return directory_unreachable(request)


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed sign-in attempts. Please wait %(minutes)d minute and try again.",
        "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again, saying why, with status 429."""
    context = getattr(original_response, "context_data", None)
    form = context.get("form") if context else None
    if form is not None and getattr(original_response, "template_name", None):
        if not form.has_error("__all__", "locked_out"):
            form.errors.pop("__all__", None)
            form.add_error(None, ValidationError(lockout_message(), code="locked_out"))
        response = TemplateResponse(request, original_response.template_name, context, status=429)
        return response.render()
    return HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")
