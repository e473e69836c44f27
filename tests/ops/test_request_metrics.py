"""What each process counts for /metrics: requests by view, errors, bookings created; and
one total from several gunicorn workers (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from bookings.models import Booking
from bookings.services.bookings import create_booking
from raumfuerraum import redis_store
from tests import factories
from tests.conftest import ROOT, free_port, server_env, wait_until_ready


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict[tuple[str, tuple], float]:
    return samples(client.get("/metrics").content.decode())


HEALTHZ_2XX = ("rfr_http_requests_total", (("status", "2xx"), ("view", "healthz")))


@pytest.mark.django_db
def test_it_counts_requests_by_view_name_and_status_class(client):
    before = scrape(client)

    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page/")
    after = scrape(client)

    assert after[HEALTHZ_2XX] - before.get(HEALTHZ_2XX, 0) == 2
    missing = ("rfr_http_requests_total", (("status", "4xx"), ("view", "none")))
    assert after[missing] - before.get(missing, 0) == 1
    count = ("rfr_http_request_duration_seconds_count", (("view", "healthz"),))
    assert after[count] - before.get(count, 0) == 2
    slowest = ("rfr_http_request_duration_seconds_bucket", (("le", "30.0"), ("view", "healthz")))
    assert after[slowest] == after[count]
    assert not any("/healthz" in str(labels) for _name, labels in after)  # names, never paths


@pytest.mark.django_db
def test_it_counts_bookings_created_per_source_once_committed(
    client, room, alice, django_capture_on_commit_callbacks
):
    key = ("rfr_bookings_created_total", (("source", "api"),))
    before = scrape(client).get(key, 0)

    def book(hour: int) -> None:
        create_booking(
            room=room,
            organizer=alice,
            title="Planung",
            start=factories.tomorrow_at(hour),
            end=factories.tomorrow_at(hour + 1),
            source=Booking.Source.API,
        )

    with django_capture_on_commit_callbacks(execute=True):
        book(9)
    with django_capture_on_commit_callbacks(execute=False):  # never committed: not counted
        book(11)

    assert scrape(client)[key] - before == 1


@pytest.mark.django_db
def test_it_counts_redis_errors(client):
    key = ("rfr_redis_errors_total", ())
    before = scrape(client)[key]

    with override_settings(REDIS_URL="unix:///nonexistent/rfr/redis.sock?db=0"):
        redis_store.reset()
        redis_store.run(lambda r: r.ping())
    redis_store.reset()

    assert scrape(client)[key] - before == 1


def gunicorn(env: dict, metrics_dir) -> tuple[subprocess.Popen, str]:
    """The production configuration (deploy/gunicorn.conf.py) with two workers."""
    port = free_port()
    env = {
        **env,
        "RFR_WEB_BIND": f"127.0.0.1:{port}",
        "RFR_WEB_WORKERS": "2",
        "RFR_WEB_THREADS": "2",
        "RFR_WEB_LOG_LEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "raumfuerraum.wsgi"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    return process, f"http://127.0.0.1:{port}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_answers_one_total_from_every_gunicorn_worker(tmp_path):
    from django.db import connection

    stale = tmp_path / "counter_999999.db"
    tmp_path.joinpath("counter_999999.db").write_bytes(b"left by a server before")
    process, base = gunicorn(server_env(connection.settings_dict), tmp_path)
    try:
        wait_until_ready(f"{base}/healthz", process)
        ready = samples(httpx.get(f"{base}/metrics").text)[HEALTHZ_2XX]  # the readiness probes
        for _ in range(20):  # a new connection each: both workers answer some
            httpx.get(f"{base}/healthz")
        answers = [samples(httpx.get(f"{base}/metrics").text) for _ in range(8)]
    finally:
        process.terminate()
        process.wait(timeout=30)

    totals = {answer[HEALTHZ_2XX] for answer in answers}
    assert totals == {ready + 20}  # whichever worker answered
    assert len(list(tmp_path.glob("counter_*.db"))) >= 2  # the workers' files
    assert not stale.exists()  # emptied when the server started


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_counts_database_errors_when_postgresql_is_away(tmp_path):
    from django.db import connection

    away = dict(connection.settings_dict, HOST="127.0.0.1", PORT=str(free_port()))
    process, base = gunicorn(server_env(away), tmp_path)
    try:
        wait_until_ready(f"{base}/healthz", process)
        page = httpx.get(f"{base}/my/", cookies={"sessionid": "a-session-the-database-would-know"})
        answer = samples(httpx.get(f"{base}/metrics").text)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert page.status_code == 503
    assert answer["rfr_database_errors_total", ()] >= 1
    assert answer["rfr_database_up", ()] == 0
