"""Shared fixtures: personas, places, and real servers (gunicorn, a Celery worker).

Personas: alice organizes, bob books too and must not touch alice's bookings, fiona is
a facility admin (staff with every booking permission), and an inactive user no longer works here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.utils import translation

from bookings.api.auth import forget_failures
from ops import runtime
from tests import factories
from tests.helpers import bearer

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    config.rfr_started = [
        name
        for name, embedded, running in (
            ("postgres", runtime.uses_embedded_postgres(), runtime.postgres_running),
            ("redis", runtime.uses_embedded_redis(), runtime.redis_running),
        )
        if embedded and not running()
    ]
    runtime.ensure_services()


def pytest_unconfigure(config):
    # Stop what this run started; servers a developer had running stay up.
    started = getattr(config, "rfr_started", [])
    if "redis" in started:
        runtime.stop_redis()
    if "postgres" in started:
        runtime.stop_postgres()


@pytest.fixture(autouse=True)
def _no_failed_api_logins():
    """Each test starts with no failed bearer attempts counted (the limit lives in Redis)."""
    forget_failures()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: the test client leaves a request's language
    active in the thread, so one test's English request turned the next test's messages English."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", "alice@example.com", "alice-pw-123")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob", "bob@example.com", "bob-pw-123")


@pytest.fixture
def fiona(db):
    user = User.objects.create_user("fiona", "fiona@example.com", "fiona-pw-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="bookings"))
    return user


@pytest.fixture
def room(db):
    """A room in a site in Berlin: the tests that freeze Berlin wall-clock moments rely on the zone."""
    return factories.room(factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))))


@pytest.fixture
def token_for(db):
    """Headers with a fresh bearer token for a user."""

    return bearer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(settings_dict: dict) -> dict:
    """Environment for a subprocess that must see the test database."""
    host = settings_dict["HOST"]
    port = settings_dict.get("PORT") or ""
    if host.startswith("/"):
        url = f"postgresql://{settings_dict['USER']}@/{settings_dict['NAME']}?host={host}"
    else:
        url = (
            f"postgresql://{settings_dict['USER']}@{host}{':' + port if port else ''}/{settings_dict['NAME']}"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "RFR_DATA_DIR": str(runtime.data_dir()),
            "REDIS_URL": os.environ.get("REDIS_URL") or runtime.redis_url(),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout}s")


@pytest.fixture(scope="session")
def gunicorn_server(django_db_setup, django_db_blocker):
    """The app under gunicorn (gthread, as in production) on the test database."""
    from django.db import connection

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "raumfuerraum.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "8",
            "--graceful-timeout",
            "5",
            # Race tests connect every client first and then wait at a barrier: on a loaded
            # machine that wait outlasts gunicorn's default 2 s keep-alive, and a connection
            # the server closes just as the request goes out fails on the client's side.
            "--keep-alive",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(connection.settings_dict),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/healthz", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


class CeleryWorker:
    """A real Celery worker process on the embedded Redis, startable and stoppable."""

    def __init__(self, env: dict):
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "raumfuerraum",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture
def celery_worker(transactional_db):
    from django.db import connection

    worker = CeleryWorker(server_env(connection.settings_dict))
    yield worker
    worker.stop()
