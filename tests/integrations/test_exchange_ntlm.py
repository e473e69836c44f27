"""EWS with NTLM, the default sign-in of an on-premises Exchange service account.

The EWS double takes only NTLM: pyspnego's acceptor runs the three-leg handshake per TCP
connection against an account file (NTLM_USER_FILE) and this server's certificate (the
channel binding). exchangelib (auth_type NTLM, requests-ntlm) syncs through it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from bookings import services
from integrations.exchange.conf import from_env
from integrations.exchange.models import EventLink, RoomSync

from .ews_double import PASSWORD, EwsDouble
from .exchange_fixtures import MAILBOX, both_ways, deliver, inbound, later

ACCOUNT = "FIRMA\\svc-rfr"


@pytest.fixture
def ntlm_ews(pki, tmp_path, settings, monkeypatch):
    """The EWS double taking only NTLM, knowing FIRMA\\svc-rfr and its password."""
    _ca, cert, key = pki
    accounts = tmp_path / "ntlm-users"
    accounts.write_text(f"FIRMA:svc-rfr:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(accounts))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    double = EwsDouble(str(cert), str(key))
    double.ntlm = True
    double.start()
    double.add_mailbox(MAILBOX)
    settings.RFR_OUTBOX_CHANNELS = {"exchange": "integrations.exchange.sinks.exchange_sink"}
    yield double
    double.stop()


def _configure(settings, double, ca, tmp_path, password: str) -> None:
    secret = tmp_path / "ews-password"
    secret.write_text(password)
    settings.RFR_EXCHANGE = from_env(  # no RFR_EWS_AUTH: NTLM is the default
        {
            "RFR_EXCHANGE_BACKEND": "ews",
            "RFR_EWS_URL": double.url,
            "RFR_EWS_USERNAME": ACCOUNT,
            "RFR_EWS_PASSWORD_FILE": str(secret),
            "RFR_EXCHANGE_CA_FILE": str(ca),
        }
    )
    assert settings.RFR_EXCHANGE.ews_auth == "ntlm"


def test_the_double_asks_for_ntlm(ntlm_ews, pki):
    answer = requests.post(ntlm_ews.url, data=b"<x/>", verify=str(pki[0]), timeout=10)
    assert (answer.status_code, answer.headers["WWW-Authenticate"]) == (401, "NTLM")
    assert ntlm_ews.soap == []


def test_it_syncs_both_ways_through_the_ntlm_handshake(ntlm_ews, pki, spree, alice, settings, tmp_path):
    _configure(settings, ntlm_ews, pki[0], tmp_path, PASSWORD)
    both_ways(ntlm_ews, spree, alice)
    assert {"CreateItem", "SyncFolderItems"} <= set(ntlm_ews.soap)
    # The handshake signed in connections, not requests: at least one, at most one per request.
    assert 1 <= len(ntlm_ews.ntlm_clients) <= len(ntlm_ews.soap)
    assert set(ntlm_ews.ntlm_clients) == {ACCOUNT}


def test_a_wrong_password_is_refused_permanently_and_changes_nothing(
    ntlm_ews, pki, spree, alice, settings, tmp_path
):
    _configure(settings, ntlm_ews, pki[0], tmp_path, "falsch")
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]  # recorded, not retried for ever (that would lock the account)
    link = EventLink.objects.get(booking=booking)
    assert link.failed_permanently
    assert link.last_error == "Exchange hat Benutzername oder Kennwort des Dienstkontos abgelehnt."
    ntlm_ews.book(MAILBOX, "Vertrieb", start + timedelta(hours=2), start + timedelta(hours=3))
    report = inbound(spree)
    assert report.error == "Exchange hat Benutzername oder Kennwort des Dienstkontos abgelehnt."
    assert RoomSync.objects.get(room=spree).last_error == report.error
    assert ntlm_ews.soap == [] and ntlm_ews.ntlm_clients == []
    assert [e["subject"] for e in ntlm_ews.events(MAILBOX)] == ["Vertrieb"]
    assert spree.bookings.count() == 1  # ours only: the Outlook meeting was not read


def test_the_refusal_reads_in_english(ntlm_ews, pki, spree, settings, tmp_path):
    from django.utils import translation

    _configure(settings, ntlm_ews, pki[0], tmp_path, "falsch")
    with translation.override("en"):
        report = inbound(spree)
    assert report.error == "Exchange refused the service account's user name or password."
