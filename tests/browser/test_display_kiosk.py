"""The kiosk page in real Chromium: shows the state, goes offline with the server, recovers.

The test runs its own gunicorn (same set-up as the shared one) so it can stop and start
it; the page polls every second here instead of every 15.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking
from displays.services import create_display
from tests import factories
from tests.conftest import ROOT, free_port, server_env, wait_until_ready
from tests.displays.conftest import clear_display_keys


class Server:
    """gunicorn on a fixed port that can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**server_env(connection.settings_dict), "RFR_DISPLAY_POLL_SECONDS": "1"}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "raumfuerraum.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "4",
                "--graceful-timeout",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        wait_until_ready(f"{self.base}/healthz", self.process)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture
def kiosk_server(transactional_db):
    clear_display_keys()
    server = Server()
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_shows_the_state_goes_offline_and_recovers(kiosk_server, page, alice):
    room = factories.room(name="Atlas")
    now = timezone.now()
    booking = factories.booking(room, alice, now - timedelta(minutes=5), minutes=30, title="Sprint-Planung")
    factories.booking(room, alice, now - timedelta(minutes=35), minutes=30, title="Geheim", private=True)
    _display, token = create_display(room=room, name="Atlas Tür")

    page.goto(f"{kiosk_server.base}/d/{token}")

    assert page.locator("#room").inner_text() == "Atlas"
    assert page.locator("#state").inner_text() == "Wartet auf Check-in"
    assert page.locator("body").get_attribute("class") == "state-awaiting_check_in"
    assert page.locator("#current").inner_text() == "Sprint-Planung"
    assert "Geheim" not in page.content()
    assert "Sprint-Planung" in page.locator("#bookings").inner_text()
    assert page.locator("#offline").is_hidden()

    kiosk_server.stop()
    offline = page.locator("#offline")
    offline.wait_for(state="visible", timeout=10_000)
    assert offline.inner_text().startswith("Offline seit ")
    # The last known state stays on screen.
    assert page.locator("#state").inner_text() == "Wartet auf Check-in"
    assert page.locator("#current").inner_text() == "Sprint-Planung"

    kiosk_server.start()
    offline.wait_for(state="hidden", timeout=15_000)
    assert page.locator("#state").inner_text() == "Wartet auf Check-in"
    assert page.locator("#checked-in").is_hidden()

    page.get_by_role("button", name="Einchecken").click()
    page.locator("#message").wait_for(state="visible")
    assert page.locator("#message").inner_text() == "Eingecheckt. Gutes Meeting!"
    assert page.locator("#state").inner_text() == "Belegt"
    # The panel keeps saying so after the message is gone.
    expect(page.locator("#checked-in")).to_be_visible()
    assert page.locator("#checked-in").inner_text() == "Eingecheckt"
    assert Booking.objects.get(pk=booking.pk).checked_in_at is not None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_follows_a_booking_made_elsewhere_without_reloading(kiosk_server, page, alice):
    room = factories.room(name="Birke")
    _display, token = create_display(room=room, language="en")
    page.goto(f"{kiosk_server.base}/d/{token}")
    assert page.locator("#state").inner_text() == "Free"

    # Booked in another way; the outbox (no worker here) is stood in for by the sink itself.
    from bookings.models import OutboxMessage
    from bookings.services import create_booking
    from displays.sinks import bump_room_version

    create_booking(
        room=room,
        organizer=alice,
        title="Ad hoc",
        start=timezone.now(),
        end=timezone.now() + timedelta(minutes=30),
    )
    bump_room_version(OutboxMessage.objects.filter(channel="displays").latest("pk"))

    # A locator, not wait_for_function: its string predicate is eval'd in the page, which the CSP forbids.
    expect(page.locator("#state")).to_have_text("Awaiting check-in", timeout=10_000)
    assert page.locator("#current").inner_text() == "Ad hoc"
    assert page.get_by_role("button", name="Check in").is_visible()
