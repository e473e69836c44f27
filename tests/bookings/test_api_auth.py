"""Authentication answers: 401 with WWW-Authenticate on every method, CSRF only for sessions,
and failed bearer attempts limited per client address (counted in Redis, for every worker)."""

from __future__ import annotations

import pytest
from django.test import Client

from bookings.models import ApiToken
from bookings.services.tokens import revoke_token
from raumfuerraum import redis_store

pytestmark = pytest.mark.django_db

AUTH_REQUIRED = "Anmeldung erforderlich: Melden Sie sich an oder senden Sie ein gültiges Bearer-Token."
GUESS = {"Authorization": "Bearer rfr_guess"}
WRITES = [
    ("post", "/api/v1/bookings"),
    ("patch", "/api/v1/bookings/1"),
    ("delete", "/api/v1/bookings/1"),
    ("post", "/api/v1/bookings/1/approve"),
]
EVERY = [("get", "/api/v1/bookings"), ("get", "/api/v1/rooms"), *WRITES]


def call(client, method: str, path: str, **headers):
    if method == "get":
        return client.get(path, headers=headers)
    return getattr(client, method)(path, "{}", content_type="application/json", headers=headers)


@pytest.mark.parametrize(("method", "path"), EVERY)
def test_it_answers_401_with_www_authenticate_without_credentials(client, method, path):
    response = call(client, method, path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"detail": AUTH_REQUIRED}


@pytest.mark.parametrize(("method", "path"), EVERY)
def test_it_answers_401_for_a_wrong_token_on_every_method(client, method, path):
    response = call(client, method, path, Authorization="Bearer rfr_wrong")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_answers_401_for_a_revoked_token_on_a_write(client, alice, token_for):
    headers = token_for(alice)
    revoke_token(token=ApiToken.objects.get(user=alice))

    response = client.post("/api/v1/bookings", "{}", content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert response.json()["detail"] == AUTH_REQUIRED


def test_it_answers_in_english_when_asked(client):
    response = call(client, "post", "/api/v1/bookings", **{"Accept-Language": "en"})

    assert response.json()["detail"] == "Authentication required: sign in or send a valid bearer token."


def test_it_refuses_a_session_write_without_csrf_token_with_403_json(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.post("/api/v1/bookings", "{}", content_type="application/json")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Die Sicherheitsprüfung (CSRF) ist fehlgeschlagen")


def test_it_lets_a_session_read_without_csrf_token(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    assert browser.get("/api/v1/bookings").status_code == 200


def test_it_needs_no_csrf_token_with_a_bearer_token(alice, token_for):
    api = Client(enforce_csrf_checks=True)

    response = api.post("/api/v1/bookings", "{}", content_type="application/json", headers=token_for(alice))

    assert response.status_code == 422  # past authentication: the empty body is the problem


def test_it_limits_failed_bearer_attempts_per_address(client, alice, token_for, settings):
    settings.RFR_API_AUTH_FAILURES_PER_MINUTE = 3
    for _ in range(3):
        assert client.get("/api/v1/bookings", headers=GUESS).status_code == 401

    response = client.get("/api/v1/bookings", headers=GUESS)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json() == {
        "detail": "Zu viele fehlgeschlagene Anmeldeversuche von Ihrer Adresse; bitte warten Sie eine Minute."
    }
    # The address is blocked for the rest of the minute, whatever token it sends.
    assert client.get("/api/v1/bookings", headers=token_for(alice)).status_code == 429


def test_it_counts_failures_per_address(client, settings):
    settings.RFR_API_AUTH_FAILURES_PER_MINUTE = 2
    for _ in range(2):
        client.get("/api/v1/bookings", headers=GUESS)

    other = client.get("/api/v1/bookings", headers=GUESS, REMOTE_ADDR="10.0.0.7")

    assert other.status_code == 401


def test_it_keeps_the_count_in_redis_for_every_worker(client, settings):
    settings.RFR_API_AUTH_FAILURES_PER_MINUTE = 5
    client.get("/api/v1/bookings", headers=GUESS)

    keys = redis_store.run(lambda r: list(r.scan_iter(match="rfr:api:authfail:127.0.0.1:*")))
    assert len(keys) == 1
    assert redis_store.run(lambda r: int(r.get(keys[0]))) == 1


def test_it_does_not_count_requests_without_credentials(client, settings):
    settings.RFR_API_AUTH_FAILURES_PER_MINUTE = 1
    for _ in range(3):
        assert client.get("/api/v1/bookings").status_code == 401


def test_it_answers_a_page_without_csrf_token_with_a_translated_403(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.post("/book/", {"title": "x"})

    assert response.status_code == 403
    assert "Das Formular ist abgelaufen" in response.content.decode()
