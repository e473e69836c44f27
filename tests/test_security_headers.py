"""What the browser is told it may run and use: CSP, Permissions-Policy, Referrer-Policy, HSTS.

The settings behind the TLS proxy are read from the environment at start, so those tests
start Django in a child process with the environment an operator writes.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys

import pytest

from displays.services import create_display
from tests import factories
from tests.conftest import ROOT

STRICT = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_strict(response) -> None:
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    found = directives(response)
    for expected in STRICT:
        name = expected.split()[0]
        assert found[name].startswith(expected), (name, found[name])


def source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.django_db
def test_it_sends_a_strict_policy_on_staff_pages(client, alice):
    client.force_login(alice)
    for path in ["/", "/plan/", "/my/", "/book/", "/calendar/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert "<style" not in response.content.decode()
        assert 'style="' not in response.content.decode()


@pytest.mark.django_db
def test_it_sends_it_on_the_sign_in_page_the_admin_and_error_pages(client, alice):
    client.force_login(alice)
    for path, status in [
        ("/accounts/login/", 302),
        ("/admin/login/", 200),
        ("/nirgends/", 404),
        ("/my/", 200),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        assert_strict(response)
    client.logout()
    assert_strict(client.get("/admin/login/"))


def test_it_switches_off_browser_features_and_keeps_addresses_in_the_app(client):
    response = client.get("/healthz")

    policy = response["Permissions-Policy"]
    for feature in ["camera", "microphone", "geolocation", "payment", "usb"]:
        assert f"{feature}=()" in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert_strict(response)


@pytest.mark.django_db
def test_it_allows_the_kiosk_exactly_its_own_inlined_script_and_style(client):
    _display, token = create_display(room=factories.room(), name="Tür")

    response = client.get(f"/d/{token}")

    body = response.content.decode()
    style = re.search(r"<style>(.*?)</style>", body, re.S).group(1)
    scripts = re.findall(r"<script>(.*?)</script>", body, re.S)
    assert len(scripts) == 1  # the JSON config is <script type="application/json">, not run
    assert_strict(response)
    found = directives(response)
    assert found["script-src"] == f"script-src 'self' {source(scripts[0])}"
    assert found["style-src"] == f"style-src 'self' {source(style)}"
    markup = re.sub(r"<script.*?</script>", "", body, flags=re.S)
    assert not re.search(r"\son[a-z]+=", markup)  # no inline event handler either


@pytest.mark.django_db
def test_it_allows_the_503_page_its_inlined_style(client, settings):
    settings.RFR_READ_ONLY = True

    response = client.post("/accounts/login/", {"username": "alice", "password": "x"})

    assert response.status_code == 503
    style = re.search(r"<style>(.*?)</style>", response.content.decode(), re.S).group(1)
    assert "border-left" in style
    assert directives(response)["style-src"] == f"style-src 'self' {source(style)}"
    assert directives(response)["script-src"] == "script-src 'self'"


def test_no_admin_change_list_needs_django_s_inline_style():
    # admin/change_list.html writes a <style> element when both action bars are off.
    from django.contrib import admin

    bare = [
        type(m).__name__
        for m in admin.site._registry.values()
        if not (m.actions_on_top or m.actions_on_bottom)
    ]
    assert bare == []


# --- behind the TLS proxy: the environment an operator writes, in a child process ---

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
https = {"X-Forwarded-Proto": "https"}
answers = {
    "page over http": client.get("/accounts/login/?next=/my/"),
    "healthz over http": client.get("/healthz"),
    "healthz over https": client.get("/healthz", headers=https),
}
print(json.dumps({
    name: {"status": r.status_code, "location": r.get("Location"), "hsts": r.get("Strict-Transport-Security")}
    for name, r in answers.items()
}))
"""


def production_env(tmp_path, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (tests/browser/conftest.py), not production's.
        if not key.startswith("RFR_")
        and key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
        "RFR_DATA_DIR": str(tmp_path),
        "RFR_BEHIND_TLS_PROXY": "on",
        "RFR_DEBUG": "off",
        "RFR_SECRET_KEY": secrets.token_urlsafe(50),
        "RFR_ALLOWED_HOSTS": "raum.firma.example,testserver",
        "RFR_CSRF_TRUSTED_ORIGINS": "https://raum.firma.example",
        **extra,
    }


@pytest.fixture
def production(tmp_path):
    """Makes the production environment; afterwards stops the embedded servers a command started there."""
    made: list[dict] = []

    def make(**extra) -> dict:
        made.append(production_env(tmp_path, **extra))
        return made[-1]

    yield make
    if made:
        stop = [sys.executable, "manage.py", "embedded", "stop"]
        subprocess.run(stop, cwd=ROOT, env=made[0], capture_output=True, text=True, timeout=120, check=True)


def probe(env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_redirects_to_https_and_sends_hsts_behind_the_proxy(production):
    answers = probe(production())

    assert answers["page over http"]["status"] == 301
    assert answers["page over http"]["location"] == "https://testserver/accounts/login/?next=/my/"
    # The load balancer's probes come over plain http and must reach the app.
    assert answers["healthz over http"]["status"] == 200
    assert answers["healthz over https"]["hsts"] == "max-age=31536000; includeSubDomains"


def test_it_leaves_the_redirect_to_the_proxy_when_told_so(production):
    # No collectstatic here: the page names its static files without the manifest.
    env = production(RFR_SSL_REDIRECT="off", RFR_HSTS_SECONDS="600", RFR_STATIC_MANIFEST="off")
    answers = probe(env)

    assert answers["page over http"]["status"] == 200
    assert answers["healthz over https"]["hsts"] == "max-age=600; includeSubDomains"


def check_deploy(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("redirect", ["on", "off"])
def test_it_passes_the_deployment_check_with_production_settings(production, redirect):
    result = check_deploy(production(RFR_SSL_REDIRECT=redirect))

    assert result.returncode == 0, result.stdout + result.stderr
    # Only what docs/operations.md explains is silenced: HSTS preload, and the redirect
    # when the operator says the proxy does it.
    silenced = 1 if redirect == "on" else 2
    assert f"System check identified no issues ({silenced} silenced)." in result.stdout


def test_the_deployment_check_would_catch_a_server_without_the_proxy_settings(production):
    result = check_deploy(production(RFR_BEHIND_TLS_PROXY="off"))

    assert result.returncode != 0
    for warning in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert warning in result.stderr
