"""What only the Graph back end has: signing in with a certificate instead of a secret."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bookings import services
from integrations.exchange.models import EventLink

from .exchange_fixtures import MAILBOX, deliver, later
from .test_ca import make_client_certificate


def test_it_signs_in_with_a_certificate_instead_of_a_secret(graph, spree, alice, settings, tmp_path):
    pem, cert = make_client_certificate(tmp_path)
    graph.client_certificate = cert
    settings.RFR_EXCHANGE = replace(
        settings.RFR_EXCHANGE, graph_client_secret="", graph_certificate=pem.read_text()
    )
    start = later()
    services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]
    assert [e["subject"] for e in graph.events(MAILBOX)] == ["Planung"]


def test_it_is_refused_with_a_certificate_the_app_was_not_registered_with(
    graph, spree, alice, settings, tmp_path
):
    pem, _cert = make_client_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    graph.client_certificate = make_client_certificate(tmp_path / "other")[1]  # another key
    settings.RFR_EXCHANGE = replace(
        settings.RFR_EXCHANGE, graph_client_secret="", graph_certificate=pem.read_text()
    )
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]  # recorded, not retried
    assert graph.events(MAILBOX) == []
    assert "Anmeldung bei Microsoft Graph" in EventLink.objects.get(booking=booking).last_error
