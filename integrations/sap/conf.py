"""The live SAP adapter's configuration from RFR_SAP_* (the file export needs none).

RFR_SAP_TARGET chooses where the CO lines go: ``file`` (the default), ``odata`` (the
Gateway at RFR_SAP_ODATA_URL) or ``rfc`` (BAPIs over RFC, where pyrfc and SAP's SDK are
installed). With ``file``, RFR_SAP_ODATA_URL still lets the cost centres be read live.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..base import Sap
from .adapter import ODataSap
from .client import ODataSettings
from .rfc import RfcSap, RfcSettings

TARGETS = ("file", "odata", "rfc")


def target(env: Mapping[str, str]) -> str:
    return env.get("RFR_SAP_TARGET", "file").strip().lower() or "file"


def _password(env: Mapping[str, str]) -> str:
    password_file = env.get("RFR_SAP_PASSWORD_FILE", "")
    return Path(password_file).read_text().strip("\r\n") if password_file else ""


def rfc_settings(env: Mapping[str, str]) -> RfcSettings:
    return RfcSettings(
        dest=env.get("RFR_SAP_RFC_DEST", "").strip(),
        ashost=env.get("RFR_SAP_RFC_ASHOST", "").strip(),
        sysnr=env.get("RFR_SAP_RFC_SYSNR", "00").strip() or "00",
        client=env.get("RFR_SAP_RFC_CLIENT", "").strip(),
        user=env.get("RFR_SAP_USERNAME", "").strip(),
        passwd=_password(env),
        lang=env.get("RFR_SAP_RFC_LANG", "DE").strip() or "DE",
    )


def adapter_from_env(env: Mapping[str, str] | None = None) -> Sap | None:
    """The live adapter RFR_SAP_TARGET names, or None when there is none.

    With ``rfc`` the connection is opened now, so a missing pyrfc or SDK says so at once:
    raises RfcUnavailable (and IntegrationError when SAP cannot be reached).
    """
    env = os.environ if env is None else env
    if target(env) == "rfc":
        sap = RfcSap(rfc_settings(env))
        sap.connection  # noqa: B018  (opens it: a missing pyrfc is named here, not mid-posting)
        return sap
    url = env.get("RFR_SAP_ODATA_URL", "").strip()
    if not url:
        return None
    return ODataSap(
        ODataSettings(
            url=url if url.endswith("/") else url + "/",
            username=env.get("RFR_SAP_USERNAME", ""),
            password=_password(env),
            ca_file=env.get("RFR_SAP_CA_FILE", ""),
        )
    )
