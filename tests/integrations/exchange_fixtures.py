"""The Graph and EWS doubles and the app pointed at them, for the Exchange tests.

``exchange`` runs a test once per back end (the doubles keep the same calendars and
take the same "book in Outlook" calls); ``graph`` and ``ews`` are one back end each.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings import outbox, services
from integrations.exchange.adapter import calendar
from integrations.exchange.conf import from_env
from integrations.exchange.sync import sync_room
from tests import factories

from .ews_double import PASSWORD, USERNAME, EwsDouble
from .graph_double import CLIENT_ID, SECRET, TENANT, GraphDouble
from .test_ca import make_ca

MAILBOX = "raum-spree@firma.de"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("pki"))


def _graph(pki, tmp_path, settings, monkeypatch):
    ca, cert, key = pki
    double = GraphDouble(str(cert), str(key))
    double.start()
    double.add_mailbox(MAILBOX)
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    # The CA goes with each request: an environment bundle must not override it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    settings.RFR_EXCHANGE = from_env(
        {
            "RFR_EXCHANGE_BACKEND": "graph",
            "RFR_GRAPH_TENANT_ID": TENANT,
            "RFR_GRAPH_CLIENT_ID": CLIENT_ID,
            "RFR_GRAPH_CLIENT_SECRET_FILE": str(secret),
            "RFR_GRAPH_LOGIN_URL": double.base,
            "RFR_GRAPH_API_URL": f"{double.base}/v1.0",
            "RFR_EXCHANGE_CA_FILE": str(ca),
        }
    )
    settings.RFR_OUTBOX_CHANNELS = {"exchange": "integrations.exchange.sinks.exchange_sink"}
    return double


def _ews(pki, tmp_path, settings, monkeypatch):
    ca, cert, key = pki
    double = EwsDouble(str(cert), str(key))
    double.start()
    double.add_mailbox(MAILBOX)
    password = tmp_path / "ews-password"
    password.write_text(PASSWORD)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    settings.RFR_EXCHANGE = from_env(
        {
            "RFR_EXCHANGE_BACKEND": "ews",
            "RFR_EWS_URL": double.url,
            "RFR_EWS_USERNAME": USERNAME,
            "RFR_EWS_PASSWORD_FILE": str(password),
            "RFR_EWS_ACCESS": "impersonation",
            "RFR_EWS_AUTH": "basic",
            "RFR_EXCHANGE_CA_FILE": str(ca),
        }
    )
    settings.RFR_OUTBOX_CHANNELS = {"exchange": "integrations.exchange.sinks.exchange_sink"}
    return double


BACKENDS = {"graph": _graph, "ews": _ews}


@pytest.fixture(params=sorted(BACKENDS))
def exchange(request, pki, tmp_path, settings, monkeypatch):
    """A fresh double per test (Graph, then EWS), and the app pointed at it."""
    double = BACKENDS[request.param](pki, tmp_path, settings, monkeypatch)
    yield double
    double.stop()


@pytest.fixture
def graph(pki, tmp_path, settings, monkeypatch):
    """The Graph double alone (what only Graph has: tokens, certificates)."""
    double = _graph(pki, tmp_path, settings, monkeypatch)
    yield double
    double.stop()


@pytest.fixture
def ews(pki, tmp_path, settings, monkeypatch):
    """The EWS double alone."""
    double = _ews(pki, tmp_path, settings, monkeypatch)
    yield double
    double.stop()


@pytest.fixture
def maria(db):
    """A room manager (group "Raumverwaltung")."""
    user = factories.user("maria")
    user.groups.add(Group.objects.create(name="Raumverwaltung"))
    return user


@pytest.fixture
def spree(room):
    room.exchange_mailbox = MAILBOX
    room.save()
    return room


def deliver() -> list[bool]:
    """What the worker does: deliver every due message of the channel, oldest first."""
    return [outbox.deliver(pk) for pk in outbox.due_ids()]


def later(minutes: int = 0):
    return timezone.now().replace(microsecond=0) + timedelta(days=2, minutes=minutes)


def inbound(room, **kw):
    return sync_room(calendar(), room, **kw)


def both_ways(double, room, organizer) -> None:
    """A booking made here reaches the room's calendar, and one made in Outlook becomes ours."""
    start = later()
    services.create_booking(
        room=room, organizer=organizer, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]
    event_id = double.book(MAILBOX, "Vertrieb", start + timedelta(hours=2), start + timedelta(hours=3))
    report = inbound(room)
    assert report.error == ""
    assert report.applied == {"echo": 1, "booked": 1}
    assert double.answer(event_id) == "accept"
    assert sorted(e["subject"] for e in double.events(MAILBOX)) == ["Planung", "Vertrieb"]
