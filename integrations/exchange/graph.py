"""Microsoft Graph for room calendars: app-only tokens through msal, events over HTTPS.

Every request passes the configured CA as ``verify`` itself: requests lets
REQUESTS_CA_BUNDLE from the environment override a session's ``verify``. 429 and 503
answers are retried after their Retry-After (bounded); at most four requests per
mailbox run at once, which is what Exchange Online allows an application.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import msal
import requests
from django.utils.translation import gettext as _

from ..base import IntegrationError, ItemGone, SyncStateExpired
from .conf import ExchangeSettings

# Our booking reference on each event we write: a named string property in our own set.
PROPERTY_ID = "String {6f1c5d0e-3b7a-4c52-9a64-72a9d7f3e0b1} Name rfrBooking"
MAX_RETRIES = 5
MAX_WAIT = 30.0  # longer Retry-After: give up now, the outbox or the next cycle retries
PER_MAILBOX = 4
_limits: dict[str, threading.BoundedSemaphore] = {}
_limits_lock = threading.Lock()


def _limit(mailbox: str) -> threading.BoundedSemaphore:
    with _limits_lock:
        return _limits.setdefault(mailbox.lower(), threading.BoundedSemaphore(PER_MAILBOX))


def _credential(conf: ExchangeSettings) -> str | dict:
    if conf.graph_client_secret:
        return conf.graph_client_secret
    # msal takes the SHA-256 thumbprint from the certificate and signs with PS256.
    return {"private_key": conf.graph_certificate, "public_certificate": conf.graph_certificate}


class TrustingSession(requests.Session):
    """Passes the configured CA with every request (msal's too): a session's own ``verify``
    would lose to REQUESTS_CA_BUNDLE from the environment."""

    def __init__(self, verify: str | bool):
        super().__init__()
        self.ca = verify

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("verify", self.ca)
        return super().request(method, url, *args, **kwargs)


class GraphClient:
    """Speaks Graph; raises IntegrationError (permanent for access, mailbox and payload faults)."""

    def __init__(self, conf: ExchangeSettings):
        self.conf = conf
        self.session = TrustingSession(conf.verify)
        api = urlsplit(conf.graph_api_url)
        self.scope = f"{api.scheme}://{api.netloc}/.default"
        self._app: msal.ConfidentialClientApplication | None = None
        self._token_lock = threading.Lock()

    def _token(self, *, fresh: bool = False) -> str:
        with self._token_lock:
            try:
                if self._app is None:
                    self._app = msal.ConfidentialClientApplication(
                        self.conf.graph_client_id,
                        client_credential=_credential(self.conf),
                        authority=f"{self.conf.graph_login_url}/{self.conf.graph_tenant_id}",
                        http_client=self.session,
                        instance_discovery=False,
                        timeout=self.conf.timeout,
                    )
                result = self._app.acquire_token_for_client(scopes=[self.scope], force_refresh=fresh)
            except (requests.RequestException, ValueError) as exc:
                raise IntegrationError(
                    _("The sign-in service is not reachable: %s") % type(exc).__name__
                ) from exc
        if "access_token" not in result:
            detail = result.get("error_description") or result.get("error") or "?"
            permanent = result.get("error") in {"invalid_client", "unauthorized_client", "invalid_request"}
            raise IntegrationError(_("Sign-in to Microsoft Graph failed: %s") % detail, permanent=permanent)
        return result["access_token"]

    def url(self, mailbox: str, path: str) -> str:
        return f"{self.conf.graph_api_url}/users/{quote(mailbox)}/{path}"

    def call(self, method: str, url: str, *, json: dict | None = None, params: dict | None = None) -> dict:
        """One request with retries for throttling; the JSON answer ({} when empty)."""
        fresh = False
        for _attempt in range(MAX_RETRIES):
            headers = {
                "Authorization": f"Bearer {self._token(fresh=fresh)}",
                "Prefer": 'outlook.timezone="UTC"',
            }
            try:
                with _limit(urlsplit(url).path):
                    response = self.session.request(
                        method,
                        url,
                        json=json,
                        params=params,
                        headers=headers,
                        timeout=self.conf.timeout,
                        verify=self.conf.verify,
                    )
            except requests.RequestException as exc:
                raise IntegrationError(_("Exchange is not reachable: %s") % type(exc).__name__) from exc
            if response.status_code in (429, 503, 504):
                wait = _retry_after(response)
                if wait is None or wait > MAX_WAIT:
                    raise IntegrationError(
                        _("Exchange is busy (HTTP %s); retrying later.") % response.status_code
                    )
                time.sleep(wait)
                continue
            if response.status_code == 401 and not fresh:
                fresh = True
                continue
            if response.status_code >= 400:
                raise _error(response)
            return response.json() if response.content else {}
        raise IntegrationError(_("Exchange kept throttling; retrying later."))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _error(response: requests.Response) -> IntegrationError:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code", "")
    status = response.status_code
    if status == 410 or code in {"syncStateNotFound", "SyncStateNotFound", "resyncRequired"}:
        return SyncStateExpired(_("The sync state expired; reading everything again."))
    if status == 403 or code in {"ErrorAccessDenied", "AccessDenied"}:
        return IntegrationError(_("The service account may not open this mailbox."), permanent=True)
    if code in {"MailboxNotEnabledForRESTAPI", "ResourceNotFound", "ErrorInvalidUser"}:
        return IntegrationError(_("The mailbox was not found."), permanent=True)
    if status == 404 or code == "ErrorItemNotFound":
        return ItemGone(_("The event is gone from the calendar."), permanent=True)
    if status in (400, 422):
        return IntegrationError(
            _("Exchange refused the change: %s") % (error.get("message") or code), permanent=True
        )
    return IntegrationError(
        _("Exchange answered HTTP %(status)s %(code)s") % {"status": status, "code": code}
    )


def utc(value: dict | None) -> datetime | None:
    """A Graph dateTimeTimeZone asked for in UTC ('2026-12-04T09:00:00.0000000')."""
    if not value or not value.get("dateTime"):
        return None
    text = value["dateTime"].rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def graph_time(moment: datetime) -> dict:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
