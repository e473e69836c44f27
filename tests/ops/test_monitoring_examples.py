"""The monitoring examples in deploy/: alert rules that promtool accepts and whose unit
tests pass, and a Grafana dashboard that asks only for metrics /metrics answers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from django.utils import timezone

from integrations.directory.models import SyncState
from tests.ops.test_metrics import DEPLOY, families

PROMTOOL = shutil.which("promtool")
# tests/ensure_system_packages.sh installs Debian's prometheus package, which brings promtool.
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: apt-get install prometheus (tests/ensure_system_packages.sh)"
)
DASHBOARD = DEPLOY / "grafana" / "raumfuerraum-dashboard.json"


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=DEPLOY)


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@needs_promtool
def test_it_ships_alert_rules_promtool_accepts():
    checked = promtool("check", "rules", "prometheus/raumfuerraum-alerts.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout


@needs_promtool
def test_it_fires_the_alerts_when_their_unit_tests_say_so():
    tested = promtool("test", "rules", "prometheus/raumfuerraum-alerts.test.yml")

    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_it_ships_a_dashboard_whose_queries_are_valid_promql(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel_{n}", "expr": expr} for n, expr in enumerate(expressions())
    ]}]}  # fmt: skip
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML

    checked = promtool("check", "rules", str(path))

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.django_db
def test_it_ships_a_dashboard_that_asks_only_for_metrics_we_answer(client):
    SyncState.objects.create(name="default", last_run_at=timezone.now())  # a sync age to answer
    client.get("/healthz")  # so the request counters have a sample
    answered = families(client.get("/metrics").content.decode())
    named = {name for expr in expressions() for name in re.findall(r"\b(rfr_\w+)", expr)}
    asked = {re.sub(r"_(bucket|sum|count)$", "", name) for name in named}

    assert asked <= answered, asked - answered
    assert {
        "rfr_http_requests_total",
        "rfr_http_request_duration_seconds",
        "rfr_bookings_created_total",
    } <= asked
