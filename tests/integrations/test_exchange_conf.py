"""The Exchange settings: off by default, a malformed or missing variable named at start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from integrations.exchange.conf import from_env
from raumfuerraum.env import ConfigError


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret"
    path.write_text("s3cret\n")
    return str(path)


def graph_env(secret, **extra) -> dict:
    return {
        "RFR_EXCHANGE_BACKEND": "graph",
        "RFR_GRAPH_TENANT_ID": "t",
        "RFR_GRAPH_CLIENT_ID": "c",
        "RFR_GRAPH_CLIENT_SECRET_FILE": secret,
        **extra,
    }


def test_it_is_off_unless_a_backend_is_chosen():
    assert from_env({}) is None
    assert from_env({"RFR_EXCHANGE_BACKEND": "off"}) is None


def test_it_reads_graph_with_microsofts_addresses_by_default(secret):
    conf = from_env(graph_env(secret))
    assert (conf.graph_login_url, conf.graph_api_url) == (
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com/v1.0",
    )
    assert conf.graph_client_secret == "s3cret"
    assert conf.verify is True


def test_kerberos_reads_no_password_and_takes_a_keytab(tmp_path):
    keytab = tmp_path / "svc.keytab"
    keytab.write_bytes(b"\x05\x02")
    conf = from_env(
        {
            "RFR_EXCHANGE_BACKEND": "ews",
            "RFR_EWS_URL": "https://mail.firma.de/EWS/Exchange.asmx",
            "RFR_EWS_AUTH": "kerberos",
            "RFR_EWS_KEYTAB": str(keytab),
            "RFR_EWS_PASSWORD_FILE": "/nonexistent/pw",  # not read: the ticket is the credential
        }
    )
    assert (conf.ews_auth, conf.ews_keytab, conf.ews_username, conf.ews_password) == (
        "kerberos",
        str(keytab),
        "",
        "",
    )


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"RFR_EXCHANGE_BACKEND": "exchange"}, "RFR_EXCHANGE_BACKEND"),
        ({"RFR_GRAPH_TENANT_ID": ""}, "RFR_GRAPH_TENANT_ID"),
        ({"RFR_GRAPH_CLIENT_SECRET_FILE": ""}, "RFR_GRAPH_CERTIFICATE_FILE"),
        ({"RFR_GRAPH_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "RFR_GRAPH_CLIENT_SECRET_FILE"),
        ({"RFR_GRAPH_LOGIN_URL": "http://login.example"}, "RFR_GRAPH_LOGIN_URL"),
        ({"RFR_EXCHANGE_CA_FILE": "/nonexistent/ca.pem"}, "RFR_EXCHANGE_CA_FILE"),
        ({"RFR_EXCHANGE_SYNC_SECONDS": "soon"}, "RFR_EXCHANGE_SYNC_SECONDS"),
        (
            {"RFR_GRAPH_NOTIFICATION_URL": "http://raum.firma.de/exchange/graph/notify"},
            "RFR_GRAPH_NOTIFICATION_URL",
        ),
    ],
)
def test_it_names_the_variable_that_is_wrong(secret, extra, named):
    with pytest.raises(ConfigError, match=named):
        from_env(graph_env(secret, **extra))


def ews_env(password, **extra) -> dict[str, str]:
    return {
        "RFR_EXCHANGE_BACKEND": "ews",
        "RFR_EWS_URL": "https://mail.firma.de/EWS/Exchange.asmx",
        "RFR_EWS_USERNAME": "FIRMA\\svc-rfr",
        "RFR_EWS_PASSWORD_FILE": str(password),
        **extra,
    }


@pytest.fixture
def password(tmp_path):
    path = tmp_path / "ews-password"
    path.write_text("geheim\n")
    return path


def test_it_reads_the_ews_settings_with_the_password_from_a_file(password):
    conf = from_env(ews_env(password))
    assert (conf.backend, conf.ews_username, conf.ews_password) == ("ews", "FIRMA\\svc-rfr", "geheim")
    assert (conf.ews_access, conf.ews_auth) == ("impersonation", "ntlm")  # the defaults


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"RFR_EWS_URL": ""}, "RFR_EWS_URL"),
        ({"RFR_EWS_URL": "mail.firma.de"}, "RFR_EWS_URL"),
        ({"RFR_EWS_USERNAME": ""}, "RFR_EWS_USERNAME"),
        ({"RFR_EWS_PASSWORD_FILE": "/nonexistent/pw"}, "RFR_EWS_PASSWORD_FILE"),
        ({"RFR_EWS_ACCESS": "owner"}, "RFR_EWS_ACCESS"),
        ({"RFR_EWS_AUTH": "spnego"}, "RFR_EWS_AUTH"),
        ({"RFR_EWS_KEYTAB": "/etc/hostname"}, "RFR_EWS_KEYTAB"),  # only with kerberos
        ({"RFR_EWS_AUTH": "kerberos", "RFR_EWS_KEYTAB": "/nonexistent/svc.keytab"}, "RFR_EWS_KEYTAB"),
    ],
)
def test_it_names_the_ews_variable_that_is_wrong(password, extra, named):
    with pytest.raises(ConfigError, match=named):
        from_env(ews_env(password, **extra))


def test_it_adds_the_outbox_channel_and_the_schedule_only_when_switched_on(secret, password):
    """The real start, in a child process: the channel and the beat entry follow the setting."""
    show = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print('exchange' in s.RFR_OUTBOX_CHANNELS, "
        "s.CELERY_BEAT_SCHEDULE.get('exchange-sync', {}).get('schedule'))"
    )

    def start(extra: dict) -> subprocess.CompletedProcess:
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("RFR_EXCHANGE", "RFR_GRAPH", "RFR_EWS"))
        }
        return subprocess.run(
            [sys.executable, "-c", show],
            env={**base, "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings", **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert start({}).stdout.split() == ["False", "None"]
    on = start({**graph_env(secret), "RFR_EXCHANGE_SYNC_SECONDS": "30"})
    assert on.stdout.split() == ["True", "30.0"], on.stderr
    assert start(ews_env(password)).stdout.split() == ["True", "60.0"]
    refused = start({"RFR_EXCHANGE_BACKEND": "ews"})
    assert refused.returncode != 0
    assert "RFR_EWS_URL" in refused.stderr
