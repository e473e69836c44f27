"""Read-only mode and a lost database, as users meet them.

First the middleware in-process: a read that loses its connection is retried once, a
failure is a 503 page or JSON with Retry-After and never a 500, and RFR_READ_ONLY=1 refuses
writes. Then the DR site for real: the app on a hot standby (a streaming replica of a
primary) shows the banner, serves pages, the API and door displays, and refuses bookings,
signing in and door actions with a clear 503 instead of an error from PostgreSQL.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import psycopg
import pytest
from django.db import InternalError, OperationalError
from django.http import HttpResponse
from django.urls import include, path

from bookings import services
from raumfuerraum import read_only
from tests import factories
from tests.conftest import free_port, wait_until_ready
from tests.ops.pgcluster import (
    Node,
    app_env,
    flush_test_redis,
    make_root,
    manage,
    remove_root,
    start_gunicorn,
    stop_process,
    wait_for,
    wait_replayed,
)

# --- in-process: the middleware ---------------------------------------------------------

calls: list[str] = []


def flaky(request):
    """Loses its database connection on the first call, as during a fail-over."""
    calls.append(request.method)
    if len(calls) == 1:
        raise OperationalError("server closed the connection unexpectedly")
    return HttpResponse("fine")


def down(request):
    calls.append(request.method)
    raise OperationalError("connection refused")


def refused_write(request):
    try:
        raise psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction")
    except psycopg.Error as exc:
        raise InternalError(str(exc)) from exc


def written_on_a_standby_once(request):
    """A read that also writes (a session, say) on a database that just became a standby."""
    calls.append(request.method)
    if len(calls) == 1:
        refused_write(request)
    return HttpResponse("read-only" if read_only.active() else "writable")


urlpatterns = [
    path("flaky/", flaky),
    path("standby-read/", written_on_a_standby_once),
    path("down/", down),
    path("api/v1/down/", down),
    path("write/", refused_write),
    path("", include("raumfuerraum.urls")),
]


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__
    calls.clear()
    read_only.forget()
    yield
    read_only.forget()


@pytest.mark.django_db
def test_it_retries_a_read_once_when_the_connection_breaks(client, test_urls):
    response = client.get("/flaky/")

    assert response.status_code == 200
    assert calls == ["GET", "GET"]


@pytest.mark.django_db
def test_it_answers_a_lost_database_with_a_translated_page_and_a_retry_hint(client, test_urls):
    german = client.get("/down/")
    english = client.get("/down/", HTTP_ACCEPT_LANGUAGE="en")

    assert german.status_code == 503 and english.status_code == 503
    assert german["Content-Type"].startswith("text/html")
    assert "Die Datenbank ist gerade nicht erreichbar" in german.content.decode()
    assert "The database is not reachable right now" in english.content.decode()
    assert german["Retry-After"] == "5"
    assert calls == ["GET", "GET", "GET", "GET"]  # each read tried twice


@pytest.mark.django_db
def test_it_does_not_repeat_a_write_and_answers_the_api_in_json(client, test_urls):
    response = client.post("/api/v1/down/", HTTP_ACCEPT_LANGUAGE="en")

    assert calls == ["POST"]
    assert response.status_code == 503
    assert response.json() == {"detail": "The database is not reachable right now; please try again shortly."}
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_it_turns_a_write_refused_by_a_standby_into_the_read_only_answer(client, test_urls):
    response = client.post("/write/")

    assert response.status_code == 503
    assert "Nur-Lese-Modus" in response.content.decode()
    # Believed until the next check: the next write is refused before it reaches a view.
    assert read_only.active()


@pytest.mark.django_db
def test_it_serves_a_read_that_first_met_the_standby_refusing_a_write(client, test_urls):
    response = client.get("/standby-read/")

    assert response.status_code == 200
    assert response.content == b"read-only"
    assert calls == ["GET", "GET"]


@pytest.mark.django_db
def test_it_refuses_writes_when_the_operator_sets_read_only(
    client, test_urls, settings, alice, token_for, room
):
    client.force_login(alice)  # before: in read-only mode no session is stored
    settings.RFR_READ_ONLY = True

    page = client.get("/")
    booking = client.post(
        "/api/v1/bookings",
        data={
            "room": room.pk,
            "title": "x",
            "start": "2030-01-01T09:00:00+01:00",
            "end": "2030-01-01T10:00:00+01:00",
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **{f"HTTP_{k.upper()}": v for k, v in token_for(alice).items()},
    )
    language = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert page.status_code == 200
    assert "read-only" in page.content.decode() or "Nur-Lese-Modus" in page.content.decode()
    assert booking.status_code == 503
    assert "read-only mode" in booking.json()["detail"]
    assert booking["Retry-After"] == str(read_only.RETRY_AFTER_SECONDS)
    assert language.status_code == 302  # switching the language writes nothing


@pytest.mark.django_db
def test_it_writes_normally_when_not_read_only(client, test_urls, alice, token_for, room):
    response = client.post(
        "/api/v1/bookings",
        data={
            "room": room.pk,
            "title": "x",
            "start": "2030-01-01T09:00:00+01:00",
            "end": "2030-01-01T10:00:00+01:00",
        },
        content_type="application/json",
        **{f"HTTP_{k.upper()}": v for k, v in token_for(alice).items()},
    )

    assert response.status_code == 201, response.content
    assert not read_only.active()


def refused_by_a_standby(**kwargs):
    refused_write(None)


def unreachable(**kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
def test_it_keeps_the_changed_form_when_a_standby_refuses_the_write(
    client, test_urls, monkeypatch, alice, room
):
    booking = factories.booking(room, alice, factories.on(factories.days_ahead(2), 9))
    monkeypatch.setattr(services, "update_booking", refused_by_a_standby)
    client.force_login(alice)
    data = {"title": "Neuer Titel", "room": room.pk, "date": factories.days_ahead(2), "start": "10:00"}

    response = client.post(
        f"/bookings/{booking.pk}/change/", {**data, "end": "11:00", "version": booking.version}
    )

    assert response.status_code == 503
    assert "Nur-Lese-Modus" in response.content.decode()
    assert 'value="Neuer Titel"' in response.content.decode()
    assert read_only.active()


@pytest.mark.django_db
def test_it_says_the_database_is_away_when_a_cancel_cannot_be_written(
    client, test_urls, monkeypatch, alice, room
):
    booking = factories.booking(room, alice, factories.on(factories.days_ahead(2), 9))
    monkeypatch.setattr(services, "cancel_booking", unreachable)
    client.force_login(alice)

    response = client.post(f"/bookings/{booking.pk}/cancel/")

    assert response.status_code == 503
    assert "Die Datenbank ist gerade nicht erreichbar" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == "confirmed"


# --- the DR site: the app on a real hot standby -------------------------------------------

SETUP = """
import json
from datetime import timedelta
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from bookings import services
from bookings.models import Building, Floor, Room, Site
from bookings.services.tokens import issue_token
from displays.services import create_display

building = Building.objects.create(site=Site.objects.create(name="HQ"), name="A")
room = Room.objects.create(floor=Floor.objects.create(building=building, name="1"), name="Atrium", capacity=8)
alice = User.objects.create_user("alice", password="alice-pw-123")
start = timezone.now().replace(microsecond=0) + timedelta(days=1)
booking = services.create_booking(
    room=room, organizer=alice, title="Jour fixe", start=start, end=start + timedelta(hours=1)
)
token = issue_token(user=alice, name="dr")[1]
browser = Client()
browser.force_login(alice)
display = create_display(room=room)[1]
session = browser.cookies[settings.SESSION_COOKIE_NAME].value
scene = {"room": room.pk, "booking": booking.pk, "token": token, "session": session, "display": display}
print(json.dumps(scene))
"""


@pytest.fixture(scope="module")
def dr_site(tmp_path_factory):
    root = make_root("rfr-dr-")
    primary, standby = Node(root, "main_site"), Node(root, "dr_site")
    server = None
    try:
        primary.initdb()
        primary.start()
        primary.query("CREATE DATABASE rfr", dbname="postgres")
        standby.basebackup_from(primary)
        standby.start()
        main_env = app_env(root / "app", primary.url())
        manage(main_env, "migrate", "-v0")
        scene = json.loads(
            manage(main_env, "shell", "--no-imports", "-c", SETUP).stdout.strip().splitlines()[-1]
        )
        wait_replayed(primary, standby)
        port = free_port()
        log = tmp_path_factory.mktemp("dr") / "gunicorn.log"
        # The DR site's app servers point at their own, read-only database.
        server = start_gunicorn(app_env(root / "app", standby.url()), port, log, workers=1, threads=4)
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{base}/readyz", server, timeout=60)
        yield {**scene, "base": base, "log": log, "standby": standby}
    finally:
        stop_process(server)
        primary.cleanup()
        standby.cleanup()
        flush_test_redis()
        remove_root(root)


def browser(site, **headers) -> httpx.Client:
    client = httpx.Client(base_url=site["base"], timeout=15, headers=headers)
    client.cookies.set("sessionid", site["session"])
    return client


def csrf(client: httpx.Client) -> dict:
    """A CSRF token (cookie and header) as the sign-in page hands it to a browser."""
    with httpx.Client(base_url=str(client.base_url), timeout=15) as anonymous:
        anonymous.get("/accounts/login/").raise_for_status()
        token = anonymous.cookies["csrftoken"]
    client.cookies.set("csrftoken", token)
    return {"X-CSRFToken": token}


@pytest.mark.slow
@pytest.mark.embedded_only
def test_the_dr_site_serves_pages_the_api_and_displays_with_a_banner(dr_site):
    assert dr_site["standby"].query("SELECT pg_is_in_recovery()", dbname="postgres") == [(True,)]
    api = {"Authorization": f"Bearer {dr_site['token']}"}
    with browser(dr_site) as client:
        home = client.get("/")
        mine = client.get("/my/")
        rooms = client.get("/api/v1/rooms", headers=api)
        booking = client.get(f"/api/v1/bookings/{dr_site['booking']}", headers=api)
        door = client.get(f"/d/{dr_site['display']}/status.json")
        ready = client.get("/readyz")

    assert home.status_code == 200, home.text[:500]
    assert "Nur-Lese-Modus" in home.text
    assert mine.status_code == 200 and "Jour fixe" in mine.text
    assert rooms.status_code == 200 and [r["name"] for r in rooms.json()] == ["Atrium"]
    assert booking.status_code == 200 and booking.json()["title"] == "Jour fixe"
    assert door.status_code == 200
    assert ready.status_code == 200


@pytest.mark.slow
@pytest.mark.embedded_only
def test_the_dr_site_refuses_bookings_in_the_api_and_the_ui_with_a_clear_503(dr_site):
    body = {
        "room": dr_site["room"],
        "title": "Neu",
        "start": "2030-01-07T09:00:00+01:00",
        "end": "2030-01-07T10:00:00+01:00",
    }
    api = {"Authorization": f"Bearer {dr_site['token']}", "Idempotency-Key": "dr-1"}
    with browser(dr_site) as client:
        german = client.post("/api/v1/bookings", json=body, headers=api)
        english = client.post("/api/v1/bookings", json=body, headers={**api, "Accept-Language": "en"})
        form = client.post("/book/", data={"room": dr_site["room"]}, headers=csrf(client))
        door = client.post(f"/d/{dr_site['display']}/book-now", data={"minutes": "30"})

    assert german.status_code == 503 and "Nur-Lese-Modus" in german.json()["detail"]
    assert english.status_code == 503 and "read-only mode" in english.json()["detail"]
    assert german.headers["Retry-After"]
    assert form.status_code == 503 and form.headers["Content-Type"].startswith("text/html")
    assert "Nur-Lese-Modus" in form.text
    assert door.status_code == 503
    assert door.json()["ok"] is False and "Nur-Lese-Modus" in door.json()["detail"]


@pytest.mark.slow
@pytest.mark.embedded_only
def test_the_dr_site_refuses_signing_in_clearly_and_signs_out_without_writing(dr_site):
    with httpx.Client(base_url=dr_site["base"], timeout=15) as anonymous:
        login_page = anonymous.get("/accounts/login/")
        sign_in = anonymous.post(
            "/accounts/login/",
            data={"username": "alice", "password": "alice-pw-123"},
            headers={"X-CSRFToken": anonymous.cookies["csrftoken"]},
        )
    with browser(dr_site) as client:
        sign_out = client.post("/accounts/logout/", headers=csrf(client))

    assert login_page.status_code == 200 and "Nur-Lese-Modus" in login_page.text
    assert sign_in.status_code == 503
    assert "Anmelden ist gerade nicht möglich" in sign_in.text
    assert "sessionid" not in sign_in.headers.get("set-cookie", "")
    assert sign_out.status_code == 302
    assert re.search(r'sessionid="";.*Max-Age=0', sign_out.headers["set-cookie"])
    assert "Internal Server Error" not in dr_site["log"].read_text()


@pytest.mark.slow
@pytest.mark.embedded_only
def test_the_dr_site_takes_bookings_within_seconds_of_its_promotion(dr_site):
    # Last in this file: it turns the module's standby into a primary.
    body = {
        "room": dr_site["room"],
        "title": "Notbetrieb",
        "start": "2030-01-08T09:00:00+01:00",
        "end": "2030-01-08T10:00:00+01:00",
    }
    api = {"Authorization": f"Bearer {dr_site['token']}", "Idempotency-Key": "dr-after-promotion"}
    with browser(dr_site) as client:
        dr_site["standby"].promote()
        promoted = time.monotonic()
        wait_for(
            lambda: client.post("/api/v1/bookings", json=body, headers=api).status_code == 201,
            30,
            "the first booking on the promoted DR database",
            interval=0.2,
        )
        took = time.monotonic() - promoted
        home = client.get("/")

    assert took < read_only.CHECK_SECONDS + 2, f"writable only {took:.1f}s after the promotion"
    assert home.status_code == 200 and "Nur-Lese-Modus" not in home.text
