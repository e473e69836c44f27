"""Visitors' personas and places: alice hosts, bob is a colleague, rita works the reception
of alice's site, and a real SMTP server (the booking tests' one) receives every mail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group

from bookings import outbox
from bookings.models import OutboxMessage
from tests import factories
from tests.bookings.test_notifications import Inbox, smtp_server  # noqa: F401  (fixtures)
from visitors.models import Reception

# Monday 23 November 2026, 09:00 in Berlin.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def thursday(hour: int, minute: int = 0) -> datetime:
    return factories.on(datetime(2026, 11, 26).date(), hour, minute)


@pytest.fixture
def reception(room):
    site = room.floor.building.site
    return Reception.objects.create(
        site=site,
        group=Group.objects.create(name="Empfang Berlin"),
        offers_parking=True,
        directions="Haupteingang, Empfang im Erdgeschoss",
    )


@pytest.fixture
def rita(reception):
    user = factories.user("rita")
    user.groups.add(reception.group)
    return user


@pytest.fixture
def building(room):
    return room.floor.building


@pytest.fixture
def inbox(smtp_server, settings) -> Inbox:  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = '"raum]für[raum" <raum@firma.example>'
    settings.RFR_MAIL_LANGUAGE = "de"
    smtp_server.handler.envelopes.clear()
    return smtp_server.handler


def deliver(channel: str = "visitors") -> list[bool]:
    """What the worker does for one channel, until nothing of it is left (a sink may enqueue more)."""
    results: list[bool] = []
    while True:
        ids = list(
            OutboxMessage.objects.filter(channel=channel, delivered_at__isnull=True, given_up_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return results
        round_ = [outbox.deliver(pk) for pk in ids]
        results += round_
        if not any(round_):
            # A failure waits for its backoff: show it rather than spin.
            return results


GUEST = {"name": "Dr. Eva Gast", "company": "Kunde GmbH", "email": "eva@kunde.example", "language": "de"}
GUEST_EN = {"name": "John Guest", "company": "Client Ltd", "email": "john@client.example", "language": "en"}
