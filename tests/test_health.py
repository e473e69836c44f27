"""Probes for load balancers and the upgrade script, and the version on every response."""

import subprocess
import sys

import httpx
import pytest
from django.contrib.staticfiles import finders

import raumfuerraum
from tests.conftest import ROOT, free_port, server_env, wait_until_ready


def test_it_answers_healthz_without_touching_the_database(client):
    # No django_db mark: a database access here would fail the test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-RFR-Version"] == raumfuerraum.__version__
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_is_ready_when_the_database_is_migrated(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-RFR-Version"] == raumfuerraum.__version__


@pytest.mark.django_db
def test_it_names_the_version_on_every_kind_of_response(client, alice, token_for):
    auth = token_for(alice)
    responses = {
        "page": client.get("/"),
        "page 404": client.get("/no-such-page"),
        "admin redirect": client.get("/admin/"),
        "api 200": client.get("/api/v1/bookings", headers=auth),
        "api 401": client.get("/api/v1/bookings"),
        "api 404": client.get("/api/v1/bookings/999999999", headers=auth),
        "api 422": client.post(
            "/api/v1/bookings", {"room": 1}, content_type="application/json", headers=auth
        ),
        "api 400": client.post(
            "/api/v1/bookings", "{not json", content_type="application/json", headers=auth
        ),
        "api 405": client.put("/api/v1/bookings", {}, content_type="application/json", headers=auth),
        "openapi": client.get("/api/v1/openapi.json"),
    }

    statuses = {name: r.status_code for name, r in responses.items() if name != "page"}
    assert statuses == {
        "page 404": 404,
        "admin redirect": 302,
        "api 200": 200,
        "api 401": 401,
        "api 404": 404,
        "api 422": 422,
        "api 400": 400,
        "api 405": 405,
        "openapi": 200,
    }
    versions = {name: r.get("X-RFR-Version") for name, r in responses.items()}
    assert versions == dict.fromkeys(responses, raumfuerraum.__version__)


@pytest.mark.slow
def test_it_stays_alive_but_not_ready_when_the_database_is_unreachable():
    env = server_env({"HOST": "127.0.0.1", "PORT": str(free_port()), "USER": "rfr", "NAME": "rfr"})
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "raumfuerraum.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/healthz", process)
        alive = httpx.get(f"{base}/healthz", timeout=10)
        ready = httpx.get(f"{base}/readyz", timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["detail"].startswith("database")
    assert ready.headers["X-RFR-Version"] == raumfuerraum.__version__


def test_it_answers_the_browsers_favicon_request_with_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("bookings/favicon.ico")
    assert finders.find("bookings/favicon.ico")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_every_page_names_its_icon(client, path):
    page = client.get(path).content.decode()
    assert '<link rel="icon" href="/static/bookings/favicon.svg" type="image/svg+xml">' in page
    assert finders.find("bookings/favicon.svg")
