"""The Graph double and the app pointed at it, for the Exchange tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings import outbox
from integrations.exchange.adapter import calendar
from integrations.exchange.conf import from_env
from integrations.exchange.sync import sync_room
from tests import factories

from .graph_double import CLIENT_ID, SECRET, TENANT, GraphDouble
from .test_ca import make_ca

MAILBOX = "raum-spree@firma.de"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def graph(pki, tmp_path, settings, monkeypatch):
    """A fresh double per test, and the app pointed at it."""
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
