"""Talks OData (V2, as SAP Gateway serves it) through pyodata over a requests session.

Gateway wants a CSRF token for every write: fetched with a GET carrying
``X-CSRF-Token: Fetch`` and sent back with the session's cookies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyodata
import requests
from pyodata.exceptions import PyODataException

from ..base import IntegrationError

TIMEOUT = 30


@dataclass(frozen=True)
class ODataSettings:
    url: str  # the service root, e.g. https://gateway.firma.de/sap/opu/odata/sap/ZRFR_CO_SRV/
    username: str = ""
    password: str = ""
    ca_file: str = ""


class TimeoutSession(requests.Session):
    """Every request with a timeout: a hanging Gateway must not hang the export."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


def connect(config: ODataSettings) -> pyodata.Client:
    """A pyodata client with the service's metadata read; raises IntegrationError."""
    session = TimeoutSession()
    if config.username:
        session.auth = (config.username, config.password)
    if config.ca_file:
        session.verify = config.ca_file
    try:
        token = session.get(config.url, headers={"X-CSRF-Token": "Fetch"})
        if token.status_code in (401, 403):
            raise IntegrationError(f"SAP Gateway refused the sign-in ({token.status_code})", permanent=True)
        if token.headers.get("X-CSRF-Token"):
            session.headers["X-CSRF-Token"] = token.headers["X-CSRF-Token"]
        return pyodata.Client(config.url, session)
    except (requests.RequestException, PyODataException) as exc:
        raise IntegrationError(f"SAP Gateway at {config.url}: {exc}") from exc
