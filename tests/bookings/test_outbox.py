"""The outbox: written with the change, delivered by a real Celery worker, never lost.

The sinks below are plugged in through RFR_OUTBOX_CHANNELS, the extension point real
sinks (displays, Exchange, mail) use; a worker process gets them through a settings
module of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from bookings import outbox, services, tasks
from bookings.models import Booking, OutboxMessage
from bookings.outbox import DeliveryError
from tests import factories
from tests.conftest import ROOT, free_port, server_env, wait_until_ready

SINK_LOG = "RFR_TEST_SINK_LOG"
SINK_DELAY = "RFR_TEST_SINK_DELAY"
THIS = "tests.bookings.test_outbox"
DELIVERY_TIMEOUT = 30


def recording_sink(message: OutboxMessage) -> None:
    """Delivers by appending the message id to a file: the worker is another process."""
    time.sleep(float(os.environ.get(SINK_DELAY) or 0))
    with open(os.environ[SINK_LOG], "a") as handle:
        handle.write(f"{message.pk}\n")


def temporary_failure_sink(message: OutboxMessage) -> None:
    raise DeliveryError("Exchange answered 503 Service Unavailable")


def permanent_failure_sink(message: OutboxMessage) -> None:
    raise DeliveryError("mailbox raum-spree@example.com does not exist", permanent=True)


def crashing_sink(message: OutboxMessage) -> None:
    raise ConnectionResetError("connection reset by peer")


@dataclass
class Recording:
    log: Path
    env: dict  # for a worker or gunicorn process: the same single channel

    def calls(self) -> list[int]:
        return [int(line) for line in self.log.read_text().split()]


@pytest.fixture
def recording(tmp_path, monkeypatch, settings) -> Recording:
    """The recording sink as the only channel, here and in every process the test starts."""
    channels = {"log": f"{THIS}.recording_sink"}
    log = tmp_path / "delivered.txt"
    log.touch()
    monkeypatch.setenv(SINK_LOG, str(log))
    settings.RFR_OUTBOX_CHANNELS = channels
    (tmp_path / "outbox_test_settings.py").write_text(
        f"from tests.settings import *  # noqa: F403\n\nRFR_OUTBOX_CHANNELS = {channels!r}\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "outbox_test_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
        SINK_LOG: str(log),
    }
    return Recording(log, env)


def wait_for(predicate, worker, timeout: float = DELIVERY_TIMEOUT) -> bool:
    """Poll until the predicate holds; a worker that died fails at once, not after the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if worker.process.poll() is not None:
            pytest.fail(f"the Celery worker exited with {worker.process.returncode}")
        time.sleep(0.05)
    return predicate()


def undelivered() -> int:
    return OutboxMessage.objects.filter(delivered_at__isnull=True).count()


def book(client, headers, room, hour: int, minute: int = 0) -> tuple[int, float]:
    """POST a booking; returns its id and how long the request took."""
    start = factories.tomorrow_at(hour, minute)
    began = time.monotonic()
    response = client.post(
        "/api/v1/bookings",
        {
            "room": room.pk,
            "title": f"Termin {hour}:{minute:02d}",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=5)).isoformat(),
        },
        content_type="application/json",
        headers=headers,
    )
    took = time.monotonic() - began
    assert response.status_code == 201, response.content
    return response.json()["id"], took


def make_booking(alice, room, hour: int = 10) -> Booking:
    start = factories.tomorrow_at(hour)
    return services.create_booking(
        room=room, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )


# --- writing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_writes_an_outbox_message_per_channel_with_each_change(client, alice, room, token_for, settings):
    # Every channel that takes booking topics: provider mail only takes order topics.
    channels = set(settings.RFR_OUTBOX_CHANNELS) - {"provider_mail"}
    assert outbox.takes("visitors", "booking.created")
    assert not outbox.takes("provider_mail", "booking.created")

    booking_id, _took = book(client, token_for(alice), room, 9)
    client.delete(f"/api/v1/bookings/{booking_id}", headers=token_for(alice))

    created = OutboxMessage.objects.filter(topic="booking.created")
    cancelled = OutboxMessage.objects.filter(topic="booking.cancelled")
    assert {m.channel for m in created} == {m.channel for m in cancelled} == channels
    assert OutboxMessage.objects.count() == 2 * len(channels)
    assert {m.payload["id"] for m in OutboxMessage.objects.all()} == {booking_id}
    assert {m.payload["status"] for m in cancelled} == {"cancelled"}
    assert all(m.delivered_at is None and m.attempts == 0 for m in OutboxMessage.objects.all())
    assert sorted(outbox.due_ids()) == sorted(OutboxMessage.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_it_writes_no_outbox_message_for_a_refused_booking(client, alice, bob, room, token_for, recording):
    book(client, token_for(alice), room, 9)
    start = factories.tomorrow_at(9)

    refused = client.post(
        "/api/v1/bookings",
        {
            "room": room.pk,
            "title": "Auch",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=15)).isoformat(),
        },
        content_type="application/json",
        headers=token_for(bob),
    )

    assert refused.status_code == 409
    assert OutboxMessage.objects.count() == 1


# --- delivery by the real worker --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_delivers_what_was_booked_while_the_worker_was_down(
    client, alice, room, token_for, celery_worker, recording
):
    celery_worker.env.update(recording.env)
    headers = token_for(alice)

    timings = [book(client, headers, room, 8, minute)[1] for minute in (0, 15, 30)]

    assert max(timings) < 2, timings
    assert undelivered() == 3
    time.sleep(0.5)
    assert undelivered() == 3  # nobody delivers without a worker

    celery_worker.start()

    # The kicks waited in Redis for the worker; no sweep needed.
    assert wait_for(lambda: undelivered() == 0, celery_worker), "outbox not delivered in time"
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert sorted(recording.calls()) == [m.pk for m in messages]
    assert {m.attempts for m in messages} == {1}
    assert all(m.given_up_at is None and m.last_error == "" for m in messages)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_loses_nothing_when_the_worker_restarts_mid_way(
    client, alice, room, token_for, celery_worker, recording
):
    # A slow sink, so the restart lands while messages are still queued.
    celery_worker.env.update(recording.env, **{SINK_DELAY: "0.2"})
    headers = token_for(alice)
    for minute in range(0, 60, 6):
        book(client, headers, room, 14, minute)

    celery_worker.start()
    assert wait_for(lambda: len(recording.calls()) >= 2, celery_worker), "the worker delivered nothing"
    celery_worker.stop()
    undelivered_at_restart = undelivered()
    # Booked while the worker is down: their kicks wait in Redis as well.
    for minute in (0, 30):
        book(client, headers, room, 16, minute)
    celery_worker.start()
    tasks.sweep_outbox.delay()

    assert 0 < undelivered_at_restart < 10
    assert wait_for(lambda: undelivered() == 0, celery_worker), "outbox not delivered after the restart"
    ids = sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert len(ids) == 12
    # Each message reached its sink exactly once and was recorded once.
    assert sorted(recording.calls()) == ids
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


@pytest.fixture
def gunicorn_without_redis(request, transactional_db, recording):
    """The app under gunicorn on the test database, its Redis unreachable."""
    from django.db import connection

    redis_url = {
        # Picked now, so nothing has started listening there since.
        "closed-port": f"redis://127.0.0.1:{free_port()}/0",
        "missing-socket": "unix:///nonexistent/rfr/redis.sock?db=0",
    }[request.param]
    env = {**server_env(connection.settings_dict), **recording.env, "REDIS_URL": redis_url}
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "raumfuerraum.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--worker-class", "gthread", "--workers", "1", "--threads", "4", "--log-level", "error"),
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/healthz", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "gunicorn_without_redis",
    ["closed-port", "missing-socket"],
    indirect=True,
)
def test_it_books_quickly_without_redis_and_the_sweep_delivers_later(
    gunicorn_without_redis, alice, room, token_for, celery_worker, recording
):
    headers = token_for(alice)
    answers = []
    for minute in (0, 20, 40):
        start = factories.tomorrow_at(12, minute)
        began = time.monotonic()
        response = httpx.post(
            f"{gunicorn_without_redis}/api/v1/bookings",
            headers=headers,
            json={
                "room": room.pk,
                "title": "Ohne Redis",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=20)).isoformat(),
            },
            timeout=30,
        )
        answers.append((response.status_code, time.monotonic() - began))

    assert [status for status, _took in answers] == [201, 201, 201]
    assert max(took for _status, took in answers) < 2, answers
    assert Booking.objects.filter(title="Ohne Redis").count() == 3
    time.sleep(0.5)
    assert undelivered() == 3

    # The worker (on the real Redis) starts with no kick queued: only the sweep finds them.
    celery_worker.env.update(recording.env)
    celery_worker.start()
    tasks.sweep_outbox.delay()

    assert wait_for(lambda: undelivered() == 0, celery_worker), "the sweep did not deliver"
    assert sorted(recording.calls()) == sorted(OutboxMessage.objects.values_list("pk", flat=True))


# --- delivery semantics (in process) ----------------------------------------------------


@pytest.mark.django_db
def test_it_delivers_a_message_once_however_often_it_is_asked(alice, room, recording):
    make_booking(alice, room)
    message = OutboxMessage.objects.get()

    first = outbox.deliver(message.pk)
    message.refresh_from_db()
    delivered_at = message.delivered_at
    again = outbox.deliver(message.pk)
    by_task = tasks.deliver_outbox([message.pk, message.pk])
    by_sweep = tasks.sweep_outbox()

    assert (first, again, by_task, by_sweep) == (True, False, 0, 0)
    message.refresh_from_db()
    assert message.delivered_at == delivered_at is not None
    assert message.attempts == 1
    assert recording.calls() == [message.pk]
    assert outbox.deliver(999_999_999) is False


@pytest.mark.django_db
def test_it_retries_a_temporary_failure_with_growing_backoff(alice, room, recording):
    with override_settings(RFR_OUTBOX_CHANNELS={"log": f"{THIS}.temporary_failure_sink"}):
        make_booking(alice, room)
        message = OutboxMessage.objects.get()
        before = timezone.now()
        assert outbox.deliver(message.pk) is False
        after = timezone.now()
        message.refresh_from_db()

        assert message.attempts == 1
        assert message.last_error == "Exchange answered 503 Service Unavailable"
        assert message.delivered_at is None and message.given_up_at is None
        assert before + timedelta(seconds=15) <= message.available_at <= after + timedelta(seconds=15)
        assert outbox.due_ids() == []
        assert tasks.sweep_outbox() == 0

        with time_machine.travel(message.available_at + timedelta(seconds=1), tick=False):
            assert outbox.due_ids() == [message.pk]
            assert tasks.sweep_outbox() == 0
            message.refresh_from_db()
            assert message.attempts == 2
            assert message.available_at == timezone.now() + timedelta(seconds=30)

    # The sink recovers: the next sweep after the backoff delivers.
    with time_machine.travel(message.available_at + timedelta(seconds=1), tick=False):
        assert tasks.sweep_outbox() == 1

    message.refresh_from_db()
    assert message.delivered_at is not None
    assert (message.attempts, message.last_error) == (3, "")
    assert recording.calls() == [message.pk]


@pytest.mark.django_db
def test_it_caps_the_backoff_at_an_hour(alice, room, settings):
    settings.RFR_OUTBOX_CHANNELS = {"log": f"{THIS}.temporary_failure_sink"}
    make_booking(alice, room)
    message = OutboxMessage.objects.get()

    # Each attempt when it is due: a delivery before then does nothing.
    for _attempt in range(12):
        message.refresh_from_db()
        last_attempt = max(message.available_at, timezone.now())
        with time_machine.travel(last_attempt, tick=False):
            outbox.deliver(message.pk)

    message.refresh_from_db()
    assert message.attempts == 12
    assert message.given_up_at is None
    assert message.available_at == last_attempt + timedelta(hours=1)


@pytest.mark.django_db
def test_it_does_not_retry_before_the_backoff_has_passed(alice, room, settings):
    settings.RFR_OUTBOX_CHANNELS = {"log": f"{THIS}.temporary_failure_sink"}
    make_booking(alice, room)
    message = OutboxMessage.objects.get()
    outbox.deliver(message.pk)

    # A redelivered kick right after the failure leaves the message alone.
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.django_db
def test_it_gives_up_on_a_permanent_failure_and_says_why(alice, room, settings):
    settings.RFR_OUTBOX_CHANNELS = {"log": f"{THIS}.permanent_failure_sink"}
    make_booking(alice, room)
    message = OutboxMessage.objects.get()

    assert outbox.deliver(message.pk) is False
    assert outbox.deliver(message.pk) is False
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        assert outbox.due_ids() == []
        assert tasks.sweep_outbox() == 0

    message.refresh_from_db()
    assert message.given_up_at is not None
    assert message.delivered_at is None
    assert message.last_error == "mailbox raum-spree@example.com does not exist"
    assert message.attempts == 1


@pytest.mark.django_db
def test_it_gives_up_on_a_channel_nobody_delivers(alice, room, recording, settings):
    make_booking(alice, room)
    message = OutboxMessage.objects.get()

    settings.RFR_OUTBOX_CHANNELS = {}
    assert outbox.deliver(message.pk) is False

    message.refresh_from_db()
    assert message.given_up_at is not None
    assert "no sink configured for channel 'log'" in message.last_error
    assert recording.calls() == []


@pytest.mark.django_db
def test_it_keeps_sweeping_past_a_sink_that_crashes(alice, room, recording, settings):
    settings.RFR_OUTBOX_CHANNELS = {"exchange": f"{THIS}.crashing_sink", "log": f"{THIS}.recording_sink"}
    make_booking(alice, room, hour=9)
    make_booking(alice, room, hour=11)

    delivered = tasks.sweep_outbox()

    assert delivered == 2
    log_ids = list(OutboxMessage.objects.filter(channel="log").order_by("id").values_list("pk", flat=True))
    assert sorted(recording.calls()) == log_ids
    crashed = list(OutboxMessage.objects.filter(channel="exchange"))
    assert len(crashed) == 2
    for message in crashed:
        # Not lost and not given up: retried later, with the reason on record.
        assert message.delivered_at is None and message.given_up_at is None
        assert message.attempts == 1
        assert message.last_error == "ConnectionResetError: connection reset by peer"
        assert message.available_at > timezone.now()
