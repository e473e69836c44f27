"""The Exchange configuration, read once from the environment as Django starts.

``from_env()`` returns None when RFR_EXCHANGE_BACKEND is ``off`` (the default); apps.py
keeps the result as ``settings.RFR_EXCHANGE``. Secrets are read from files, so they are
never in the environment or a process listing. Nothing here imports models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from raumfuerraum import env as env_config
from raumfuerraum.env import ConfigError

BACKENDS = ("off", "ews", "graph")


@dataclass(frozen=True)
class ExchangeSettings:
    backend: str  # "ews" or "graph"
    ca_file: str = ""  # a PEM bundle trusted for every request; "" means the system's
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: str = ""
    graph_certificate: str = ""  # PEM with the private key and the certificate
    graph_login_url: str = "https://login.microsoftonline.com"
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    graph_notification_url: str = ""  # our webhook, public over https; "" polls only
    ews_url: str = ""  # the EWS endpoint: no autodiscover
    ews_username: str = ""
    ews_password: str = ""
    ews_access: str = "impersonation"  # or "delegate"
    ews_auth: str = "ntlm"  # or "basic", or "kerberos" (Negotiate/SPNEGO through requests-gssapi)
    ews_keytab: str = ""  # kerberos: the service account's client keytab; "" uses the ticket cache
    sync_seconds: int = 60
    reconcile_hours: int = 24
    days_back: int = 30
    days_ahead: int = 365
    timeout: float = 20.0

    @property
    def verify(self) -> str | bool:
        """What requests gets as ``verify`` on each request (never on the session)."""
        return self.ca_file or True


def _read_file(name: str, env: Mapping[str, str]) -> str:
    path = env.get(name, "").strip()
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {path!r} ({exc.strerror})") from None


def from_env(env: Mapping[str, str] | None = None) -> ExchangeSettings | None:
    """The settings, or None when the sync is off; ConfigError names a malformed variable."""
    import os

    source = os.environ if env is None else env
    backend = source.get("RFR_EXCHANGE_BACKEND", "off").strip().lower() or "off"
    if backend not in BACKENDS:
        raise ConfigError(f"RFR_EXCHANGE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "off":
        return None
    ca_file = source.get("RFR_EXCHANGE_CA_FILE", "").strip()
    if ca_file and not Path(ca_file).is_file():
        raise ConfigError(f"RFR_EXCHANGE_CA_FILE: no such file {ca_file!r}")
    common = {
        "backend": backend,
        "ca_file": ca_file,
        "sync_seconds": env_config.integer("RFR_EXCHANGE_SYNC_SECONDS", 60, source, minimum=5),
        "reconcile_hours": env_config.integer("RFR_EXCHANGE_RECONCILE_HOURS", 24, source, minimum=1),
        "days_back": env_config.integer("RFR_EXCHANGE_DAYS_BACK", 30, source),
        "days_ahead": env_config.integer("RFR_EXCHANGE_DAYS_AHEAD", 365, source, minimum=1),
    }
    if backend == "ews":
        return _ews(common, source)
    conf = ExchangeSettings(
        **common,
        graph_tenant_id=source.get("RFR_GRAPH_TENANT_ID", "").strip(),
        graph_client_id=source.get("RFR_GRAPH_CLIENT_ID", "").strip(),
        graph_client_secret=_read_file("RFR_GRAPH_CLIENT_SECRET_FILE", source),
        graph_certificate=_read_file("RFR_GRAPH_CERTIFICATE_FILE", source),
        graph_login_url=(
            source.get("RFR_GRAPH_LOGIN_URL", "").strip() or ExchangeSettings.graph_login_url
        ).rstrip("/"),
        graph_api_url=(source.get("RFR_GRAPH_API_URL", "").strip() or ExchangeSettings.graph_api_url).rstrip(
            "/"
        ),
        graph_notification_url=source.get("RFR_GRAPH_NOTIFICATION_URL", "").strip(),
    )
    for name, value in (
        ("RFR_GRAPH_TENANT_ID", conf.graph_tenant_id),
        ("RFR_GRAPH_CLIENT_ID", conf.graph_client_id),
    ):
        if not value:
            raise ConfigError(f"RFR_EXCHANGE_BACKEND=graph needs {name}")
    if not (conf.graph_client_secret or conf.graph_certificate):
        raise ConfigError(
            "RFR_EXCHANGE_BACKEND=graph needs RFR_GRAPH_CLIENT_SECRET_FILE or RFR_GRAPH_CERTIFICATE_FILE"
        )
    if conf.graph_notification_url and not conf.graph_notification_url.startswith("https://"):
        raise ConfigError("RFR_GRAPH_NOTIFICATION_URL must start with https:// (Graph notifies no other)")
    if not conf.graph_login_url.startswith("https://"):
        raise ConfigError("RFR_GRAPH_LOGIN_URL must start with https:// (msal accepts no other authority)")
    return conf


def kerberos_missing() -> str:
    """'' when requests-gssapi (the ``kerberos`` extra) imports; else why not."""
    try:
        import gssapi  # noqa: F401
        import requests_gssapi  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return ""


def _ews(common: dict, source: Mapping[str, str]) -> ExchangeSettings:
    auth = source.get("RFR_EWS_AUTH", "ntlm").strip().lower() or "ntlm"
    keytab = source.get("RFR_EWS_KEYTAB", "").strip()
    conf = ExchangeSettings(
        **common,
        ews_url=source.get("RFR_EWS_URL", "").strip(),
        ews_username=source.get("RFR_EWS_USERNAME", "").strip(),
        # Kerberos signs in with a ticket or a keytab: no password is read for it.
        ews_password="" if auth == "kerberos" else _read_file("RFR_EWS_PASSWORD_FILE", source),
        ews_access=source.get("RFR_EWS_ACCESS", "impersonation").strip().lower() or "impersonation",
        ews_auth=auth,
        ews_keytab=keytab,
    )
    needed = [("RFR_EWS_URL", conf.ews_url)]
    if auth != "kerberos":
        needed += [("RFR_EWS_USERNAME", conf.ews_username), ("RFR_EWS_PASSWORD_FILE", conf.ews_password)]
    for name, value in needed:
        if not value:
            raise ConfigError(f"RFR_EXCHANGE_BACKEND=ews needs {name}")
    if not conf.ews_url.startswith(("https://", "http://")):
        raise ConfigError(
            "RFR_EWS_URL must be an http(s) address such as https://mail.firma.de/EWS/Exchange.asmx"
        )
    if conf.ews_access not in ("impersonation", "delegate"):
        raise ConfigError(f"RFR_EWS_ACCESS must be impersonation or delegate, not {conf.ews_access!r}")
    if conf.ews_auth not in ("ntlm", "basic", "kerberos"):
        raise ConfigError(f"RFR_EWS_AUTH must be ntlm, basic or kerberos, not {conf.ews_auth!r}")
    if keytab and conf.ews_auth != "kerberos":
        raise ConfigError("RFR_EWS_KEYTAB is only read with RFR_EWS_AUTH=kerberos")
    if keytab:
        try:
            Path(keytab).open("rb").close()
        except OSError as exc:
            raise ConfigError(f"RFR_EWS_KEYTAB: cannot read {keytab!r} ({exc.strerror})") from None
    if conf.ews_auth == "kerberos" and (why := kerberos_missing()):
        raise ConfigError(
            "RFR_EWS_AUTH=kerberos needs the kerberos extra (pip install '.[kerberos]', which builds "
            f"python-gssapi against Debian's libkrb5-dev): {why}"
        )
    return conf
