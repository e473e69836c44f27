"""GET /metrics: the Prometheus text format for the loopback address, figures from the database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

import raumfuerraum
from bookings import outbox
from bookings.models import Booking, OutboxMessage
from displays.services import create_display
from integrations.directory.models import SyncState
from raumfuerraum import redis_store
from tests import factories
from tests.displays.conftest import clear_display_keys

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"


@pytest.fixture(autouse=True)
def _no_display_polls_in_redis():
    clear_display_keys()
    yield
    clear_display_keys()


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def families(text: str) -> set[str]:
    """The metric names a scrape answers, as a query names them (counters with _total)."""
    return {
        f"{family.name}_total" if family.type == "counter" else family.name
        for family in text_string_to_metric_families(text)
    }


def outbox_message(channel: str, *, age: timedelta = timedelta(0), **fields) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        channel=channel,
        topic="booking.created",
        payload={},
        available_at=timezone.now() + timedelta(hours=1),
        **fields,
    )
    # created_at is auto_now_add: set the age afterwards.
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - age)
    return message


@pytest.mark.django_db
def test_it_answers_the_text_format_with_the_version_and_both_servers_up(client):
    samples = scrape(client)

    assert samples["rfr_info", (("version", raumfuerraum.__version__),)] == 1
    assert samples["rfr_database_up", ()] == 1
    assert samples["rfr_redis_up", ()] == 1
    assert samples["rfr_read_only", ()] == 0


@pytest.mark.django_db
def test_it_counts_the_outbox_backlog_and_its_oldest_message_per_channel(client):
    before = scrape(client)
    assert before["rfr_outbox_pending_messages", (("channel", "mail"),)] == 0
    assert before["rfr_outbox_oldest_pending_age_seconds", (("channel", "mail"),)] == 0

    with time_machine.travel(timezone.now(), tick=False):
        outbox_message("mail", age=timedelta(minutes=30))
        outbox_message("mail", age=timedelta(minutes=5), attempts=2, last_error="SMTP 451")
        outbox_message("mail", age=timedelta(hours=2), delivered_at=timezone.now())
        outbox_message("displays", age=timedelta(seconds=40))
        outbox_message("log", given_up_at=timezone.now(), last_error="no sink")
        after = scrape(client)

    assert after["rfr_outbox_pending_messages", (("channel", "mail"),)] == 2
    assert after["rfr_outbox_retrying_messages", (("channel", "mail"),)] == 1
    assert after["rfr_outbox_oldest_pending_age_seconds", (("channel", "mail"),)] == 1800
    assert after["rfr_outbox_pending_messages", (("channel", "displays"),)] == 1
    assert after["rfr_outbox_oldest_pending_age_seconds", (("channel", "displays"),)] == 40
    assert after["rfr_outbox_given_up_messages", (("channel", "log"),)] == 1
    assert after["rfr_outbox_pending_messages", (("channel", "log"),)] == 0


@pytest.mark.django_db
def test_it_shows_the_backlog_shrink_once_messages_are_delivered(client, room, alice):
    with time_machine.travel(timezone.now(), tick=False):
        outbox.enqueue(topic="booking.created", payload={"booking": 1})
        assert scrape(client)["rfr_outbox_pending_messages", (("channel", "log"),)] == 1
        outbox.deliver(OutboxMessage.objects.get(channel="log").pk)

        assert scrape(client)["rfr_outbox_pending_messages", (("channel", "log"),)] == 0


@pytest.mark.django_db
def test_it_tells_when_the_directory_sync_last_succeeded(client):
    assert not any(name.startswith("rfr_directory_sync_age") for name, _ in scrape(client))

    finished = timezone.now() - timedelta(minutes=20)
    SyncState.objects.create(name="default", last_run_at=finished, last_result={"mode": "full", "seen": 12})
    with time_machine.travel(finished + timedelta(minutes=20), tick=False):
        samples = scrape(client)

    assert samples["rfr_directory_sync_last_success_timestamp_seconds", ()] == pytest.approx(
        finished.timestamp()
    )
    assert samples["rfr_directory_sync_age_seconds", ()] == pytest.approx(1200)
    assert samples["rfr_directory_sync_configured", ()] == 0


@pytest.mark.django_db
def test_it_counts_door_displays_online_offline_and_revoked(client, room):
    quiet, _raw = create_display(room=room, name="quiet")
    _polled, polled_raw = create_display(room=room, name="polled")
    flushed, _raw = create_display(room=room, name="flushed")
    gone, _raw = create_display(room=room, name="gone")
    type(flushed).objects.filter(pk=flushed.pk).update(last_seen_at=timezone.now() - timedelta(minutes=1))
    type(quiet).objects.filter(pk=quiet.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    type(gone).objects.filter(pk=gone.pk).update(revoked_at=timezone.now())

    # A poll lands in Redis first; PostgreSQL learns of it a minute later.
    assert client.get(f"/d/{polled_raw}/status.json").status_code == 200
    samples = scrape(client)

    assert samples["rfr_displays", (("state", "online"),)] == 2
    assert samples["rfr_displays", (("state", "offline"),)] == 1
    assert samples["rfr_displays", (("state", "revoked"),)] == 1


@pytest.mark.django_db
def test_it_counts_pending_approvals_overdue_ones_and_upcoming_bookings(client, room, alice):
    start = factories.tomorrow_at(10)
    factories.booking(room, alice, start, status=Booking.Status.CONFIRMED)
    factories.booking(
        room,
        alice,
        start + timedelta(hours=2),
        status=Booking.Status.PENDING,
        decision_due_at=timezone.now() + timedelta(hours=4),
    )
    factories.booking(
        room,
        alice,
        start + timedelta(hours=4),
        status=Booking.Status.PENDING,
        decision_due_at=timezone.now() - timedelta(minutes=5),
    )
    factories.booking(room, alice, start + timedelta(hours=6), status=Booking.Status.CANCELLED)
    factories.booking(room, alice, start - timedelta(days=3), status=Booking.Status.CONFIRMED)  # over

    samples = scrape(client)

    assert samples["rfr_approvals_pending", ()] == 2
    assert samples["rfr_approvals_overdue", ()] == 1
    assert samples["rfr_bookings_upcoming", (("status", "confirmed"),)] == 1
    assert samples["rfr_bookings_upcoming", (("status", "pending"),)] == 2


@pytest.mark.django_db
def test_it_reports_redis_down_and_still_counts_from_postgresql(client, room):
    display, _raw = create_display(room=room, name="door")
    type(display).objects.filter(pk=display.pk).update(last_seen_at=timezone.now())

    with override_settings(REDIS_URL="unix:///nonexistent/rfr/redis.sock?db=0"):
        redis_store.reset()
        samples = scrape(client)
    redis_store.reset()

    assert samples["rfr_redis_up", ()] == 0
    assert samples["rfr_database_up", ()] == 1
    assert samples["rfr_displays", (("state", "online"),)] == 1


@pytest.mark.django_db
def test_it_costs_the_same_few_queries_however_much_there_is(
    client, room, alice, django_assert_max_num_queries
):
    for channel in ("mail", "log", "displays"):
        for _ in range(3):
            outbox_message(channel, age=timedelta(minutes=1))
        outbox_message(channel, given_up_at=timezone.now())
    for hour in range(8, 16):
        factories.booking(room, alice, factories.tomorrow_at(hour), status=Booking.Status.PENDING)
    for n in range(5):
        create_display(room=room, name=f"door {n}")

    with django_assert_max_num_queries(6):
        client.get("/metrics")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "10.0.0.5"},
        {"REMOTE_ADDR": "192.168.1.20"},
        {"REMOTE_ADDR": "2001:db8::1"},
        {"REMOTE_ADDR": ""},
        # HAProxy on the same host connects from 127.0.0.1 and says whom it passes on.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_it_refuses_anyone_but_this_host_itself(client, meta):
    response = client.get("/metrics", **meta)

    assert response.status_code == 403
    assert b"rfr_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_it_answers_every_loopback_address(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


def test_it_is_not_passed_on_by_haproxy():
    config = (DEPLOY / "haproxy" / "raumfuerraum.cfg").read_text()
    frontend = config.split("frontend https", 1)[1].split("\nbackend app", 1)[0]

    assert re.search(r"^\s*http-request deny if \{ path_beg /metrics \}\s*$", frontend, re.M)
    assert frontend.index("path_beg /metrics") < frontend.index("default_backend app")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_answers_one_figure_from_every_gunicorn_worker(gunicorn_server):
    for _ in range(3):
        outbox_message("mail", age=timedelta(minutes=2))

    # Two workers, eight threads each: whichever answers, the figure comes from PostgreSQL.
    with httpx.Client(base_url=gunicorn_server) as http:
        answers = {
            value
            for _ in range(12)
            for family in text_string_to_metric_families(http.get("/metrics").text)
            for sample in family.samples
            if sample.name == "rfr_outbox_pending_messages" and sample.labels == {"channel": "mail"}
            for value in [sample.value]
        }
        proxied = http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})

    assert answers == {3}
    assert proxied.status_code == 403


@pytest.mark.django_db
def test_it_documents_every_metric_it_answers_and_the_alerts_use_only_those(client):
    SyncState.objects.create(name="default", last_run_at=timezone.now())
    assert client.get("/metrics").status_code == 200
    answered = families(client.get("/metrics").content.decode())
    manual = (DEPLOY.parent / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(rfr_\w+)` \|", manual, re.M))
    rules = (DEPLOY / "prometheus" / "raumfuerraum-alerts.yml").read_text()
    alerted = set(re.findall(r"\b(rfr_\w+)", "\n".join(re.findall(r"expr: (.*)", rules))))

    assert documented == answered
    assert alerted and alerted <= answered
