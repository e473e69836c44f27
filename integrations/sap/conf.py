"""The live SAP adapter's configuration from RFR_SAP_* (off without a URL; the file export needs none)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .adapter import ODataSap
from .client import ODataSettings


def adapter_from_env(env: Mapping[str, str] | None = None) -> ODataSap | None:
    """The OData adapter, or None when RFR_SAP_ODATA_URL is unset."""
    env = os.environ if env is None else env
    url = env.get("RFR_SAP_ODATA_URL", "").strip()
    if not url:
        return None
    password_file = env.get("RFR_SAP_PASSWORD_FILE", "")
    return ODataSap(
        ODataSettings(
            url=url if url.endswith("/") else url + "/",
            username=env.get("RFR_SAP_USERNAME", ""),
            password=Path(password_file).read_text().strip("\r\n") if password_file else "",
            ca_file=env.get("RFR_SAP_CA_FILE", ""),
        )
    )
