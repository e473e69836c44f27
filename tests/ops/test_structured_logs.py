"""Structured logs: RFR_LOG_FORMAT=json gives one JSON object per line, and a request id
ties the web's lines, the outbox messages and the Celery worker's lines together."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from bookings.models import OutboxMessage
from raumfuerraum import env, logs
from tests import factories
from tests.conftest import ROOT, server_env


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("rfr.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_it_writes_one_json_object_per_line_with_the_request_id():
    with logs.bound("req-7"):
        line = logs.JsonFormatter().format(record("Raum %s\nbelegt", "Atlas"))

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "Raum Atlas\nbelegt"
    assert (parsed["level"], parsed["logger"], parsed["request_id"]) == ("WARNING", "rfr.test", "req-7")
    assert parsed["time"].endswith("+00:00")


def test_it_puts_the_traceback_into_the_object():
    try:
        raise ValueError("kaputt")
    except ValueError:
        line = logs.JsonFormatter().format(record("failed", exc_info=sys.exc_info()))

    parsed = json.loads(line)
    assert parsed["request_id"] is None
    assert "ValueError: kaputt" in parsed["exception"]


def test_it_refuses_an_unknown_log_format():
    def read(value: str) -> str:
        return env.choice("RFR_LOG_FORMAT", ("text", "json"), {"RFR_LOG_FORMAT": value})

    assert (read("JSON"), read("")) == ("json", "text")
    with pytest.raises(ImproperlyConfigured, match="RFR_LOG_FORMAT must be one of text, json"):
        read("xml")


@pytest.mark.django_db
def test_it_takes_the_callers_request_id_or_makes_one(client):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-4711.a"})
    made = client.get("/healthz")
    forged = client.get("/healthz", headers={"X-Request-ID": "x\n2026 ERROR forged"})

    assert given["X-Request-ID"] == "lb-4711.a"
    assert len(made["X-Request-ID"]) == 32 and made["X-Request-ID"] != given["X-Request-ID"]
    assert forged["X-Request-ID"] != "x\n2026 ERROR forged" and len(forged["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_it_writes_the_request_id_into_each_outbox_message(client, alice, room, token_for):
    response = book(client, room, {**token_for(alice), "X-Request-ID": "trace-me-1"}, hour=9)

    assert response.status_code == 201
    assert {m.payload["request_id"] for m in OutboxMessage.objects.all()} == {"trace-me-1"}
    assert logs.request_id.get() is None  # nothing leaks into the next request


def book(client, room, headers: dict, *, hour: int):
    start, end = factories.tomorrow_at(hour), factories.tomorrow_at(hour + 1)
    body = {"room": room.pk, "title": "Planung", "start": start.isoformat(), "end": end.isoformat()}
    return client.post("/api/v1/bookings", body, content_type="application/json", headers=headers)


def worker(env: dict, log_path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "raumfuerraum", "worker",
        "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log_path.open("w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_ties_the_workers_log_lines_to_the_request(client, alice, room, token_for, tmp_path):
    from django.db import connection

    log_path = tmp_path / "worker.log"
    process = worker({**server_env(connection.settings_dict), "RFR_LOG_FORMAT": "json"}, log_path)
    try:
        response = book(client, room, {**token_for(alice), "X-Request-ID": "trace-me-42"}, hour=11)
        assert response.status_code == 201

        deadline = time.monotonic() + 60
        tied: list[dict] = []
        while time.monotonic() < deadline and not any(line["logger"] == "rfr.outbox" for line in tied):
            time.sleep(0.5)
            lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
            tied = [line for line in lines if line["request_id"] == "trace-me-42"]
    finally:
        process.terminate()
        process.wait(timeout=30)

    text = log_path.read_text()
    assert tied, text[-3000:]
    loggers = {line["logger"] for line in tied}
    # The delivery (the message's id) and the task's own lines (the Celery header's id).
    assert any("booking.created" in line["message"] for line in tied if line["logger"] == "rfr.outbox")
    assert "celery.app.trace" in loggers, loggers
    # Its log lines are JSON objects; none in the text format (Celery's banner is no log line).
    assert not re.search(r"^\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d", text, re.M), text[-3000:]
