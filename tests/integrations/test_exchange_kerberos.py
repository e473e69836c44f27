"""EWS with Kerberos (Negotiate/SPNEGO), as on-premises Exchange customers sign in.

A real MIT KDC (Debian's krb5kdc) runs a throwaway realm; the EWS double accepts only
``Authorization: Negotiate`` and verifies each token with python-gssapi's acceptor
against the HTTP/localhost keytab. exchangelib (auth_type GSSAPI, requests-gssapi) syncs
through it with the service account's ticket from a ticket cache, or from its keytab.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings import services
from integrations.exchange.conf import from_env
from integrations.exchange.models import EventLink, RoomSync

from . import kdc as kdc_module
from .ews_double import EwsDouble
from .exchange_fixtures import MAILBOX, both_ways, deliver, inbound, later

pytestmark = pytest.mark.skipif(
    bool(kdc_module.available()), reason=f"Kerberos cannot run here: {kdc_module.available()}"
)


@pytest.fixture(scope="module")
def kdc(tmp_path_factory):
    server = kdc_module.Kdc(tmp_path_factory.mktemp("kdc")).start()
    yield server
    server.cleanup()


@pytest.fixture
def kerberos_ews(kdc, pki, tmp_path, settings, monkeypatch):
    """The EWS double taking only Kerberos, at https://localhost (the name in HTTP/localhost)."""
    _ca, cert, key = pki
    for name, value in kdc.env.items():
        monkeypatch.setenv(name, value)
    # This test's own (empty) ticket cache; KRB5_CLIENT_KTNAME is restored after the test.
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'ccache'}")
    monkeypatch.delenv("KRB5_CLIENT_KTNAME", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    double = EwsDouble(str(cert), str(key))
    double.negotiate_keytab = str(kdc.service_keytab)
    double.start()
    double.add_mailbox(MAILBOX)
    settings.RFR_OUTBOX_CHANNELS = {"exchange": "integrations.exchange.sinks.exchange_sink"}
    yield double
    double.stop()


def _configure(settings, double, **extra):
    settings.RFR_EXCHANGE = from_env(
        {
            "RFR_EXCHANGE_BACKEND": "ews",
            "RFR_EWS_URL": double.url.replace("127.0.0.1", "localhost"),
            "RFR_EWS_AUTH": "kerberos",
            "RFR_EXCHANGE_CA_FILE": str(extra.pop("ca")),
            **extra,
        }
    )


def test_it_syncs_both_ways_with_the_ticket_of_the_service_account(
    kdc, kerberos_ews, pki, spree, alice, settings, tmp_path
):
    kdc.ticket(tmp_path / "ccache")  # what the admin's kinit -k or k5start job leaves
    _configure(settings, kerberos_ews, ca=pki[0])
    both_ways(kerberos_ews, spree, alice)
    assert {"CreateItem", "SyncFolderItems"} <= set(kerberos_ews.soap)
    # Every SOAP request the double answered came with a ticket the KDC gave svc-rfr.
    assert len(kerberos_ews.kerberos_clients) == len(kerberos_ews.soap)
    assert set(kerberos_ews.kerberos_clients) == {f"{kdc_module.CLIENT}@{kdc_module.REALM}"}


def test_it_signs_in_from_the_keytab_alone(kdc, kerberos_ews, pki, spree, alice, settings, tmp_path):
    cache = tmp_path / "ccache"
    assert not cache.exists()  # no kinit ran: the keytab is all there is
    _configure(settings, kerberos_ews, ca=pki[0], RFR_EWS_KEYTAB=str(kdc.client_keytab))
    both_ways(kerberos_ews, spree, alice)
    assert set(kerberos_ews.kerberos_clients) == {f"{kdc_module.CLIENT}@{kdc_module.REALM}"}
    assert cache.stat().st_size > 0  # MIT Kerberos kept the ticket it got from the keytab


def test_without_a_ticket_it_says_so_and_changes_nothing(kerberos_ews, pki, spree, alice, settings):
    _configure(settings, kerberos_ews, ca=pki[0])
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]  # recorded as permanent, not retried for ever
    link = EventLink.objects.get(booking=booking)
    assert link.failed_permanently
    assert link.last_error.startswith("Kerberos-Anmeldung fehlgeschlagen: ")
    assert "No Kerberos credentials available" in link.last_error  # GSSAPI's own words: no ticket
    kerberos_ews.book(MAILBOX, "Vertrieb", start + timedelta(hours=2), start + timedelta(hours=3))
    report = inbound(spree)
    assert report.error.startswith("Kerberos-Anmeldung fehlgeschlagen")
    assert RoomSync.objects.get(room=spree).last_error == report.error
    assert kerberos_ews.soap == []  # the double answered nothing but its 401
    assert kerberos_ews.kerberos_clients == []
    assert [e["subject"] for e in kerberos_ews.events(MAILBOX)] == ["Vertrieb"]


def test_a_ticket_the_server_cannot_decrypt_is_refused(
    kdc, kerberos_ews, pki, spree, alice, settings, tmp_path
):
    """The server's keytab is another realm's (same names, other keys): its 401 is told apart
    from a missing ticket."""
    other = kdc_module.Kdc(tmp_path / "other-realm")
    other.folder.mkdir()
    other.start()
    try:
        kerberos_ews.negotiate_keytab = str(other.service_keytab)  # same name, other key
        kdc.ticket(tmp_path / "ccache")
        _configure(settings, kerberos_ews, ca=pki[0])
        report = inbound(spree)
    finally:
        other.cleanup()
    assert report.error == (
        "Kerberos-Anmeldung fehlgeschlagen: Exchange hat das Ticket nicht angenommen "
        "(steht HTTP/<Server> in seiner Keytab?)"
    )
    assert kerberos_ews.soap == []
    assert kerberos_ews.kerberos_clients == []
