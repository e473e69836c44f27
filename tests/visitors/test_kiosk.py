"""The self check-in kiosk: registered and revoked like a door display; a visitor checks in
with the code from their invitation, and nothing else can be found or guessed there."""

from __future__ import annotations

import pytest

from bookings.models import OutboxMessage
from raumfuerraum import redis_store
from tests import factories
from tests.helpers import text
from tests.visitors.conftest import GUEST, GUEST_EN, thursday
from visitors import kiosk as kiosks
from visitors import services
from visitors.models import Kiosk, VisitEvent, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def tablet(building):
    made = kiosks.create_kiosk(site=building.site, name="Empfang Tablet")
    # Counts of an earlier run whose kiosk had the same id (a fresh test database starts
    # the ids again; the frozen minute is the same) would limit this one.
    kiosk, _raw = made
    redis_store.run(lambda r: [r.delete(key) for key in r.scan_iter(f"rfr:kiosk:{kiosk.pk}:*")])
    return made


@pytest.fixture
def eva(monday, building, alice):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST, GUEST_EN]
    )
    monday.move_to(thursday(8, 50))
    return visit.visitors.get(name="Dr. Eva Gast")


def url(raw: str) -> str:
    return f"/kiosk/{raw}/"


def test_it_checks_a_visitor_in_by_the_code_from_the_invitation(client, tablet, eva, alice):
    _kiosk, raw = tablet
    typed = f" {eva.code[:4].lower()}-{eva.code[4:]} "  # as someone types it off a phone
    response = client.post(url(raw), {"code": typed})
    assert response.status_code == 200
    assert "Willkommen, Dr. Eva Gast!" in text(response)
    eva.refresh_from_db()
    assert eva.status == "arrived" and eva.arrived_at is not None
    event = VisitEvent.objects.get(kind="arrived", visitor=eva)
    assert event.actor is None and event.changes == {"kiosk": _kiosk.pk}
    told = OutboxMessage.objects.filter(channel="visitors", topic="visitor.arrived")
    [payload] = told.values_list("payload", flat=True)
    # The request's id rides along for the logs (raumfuerraum/logs.py).
    assert payload == {"visitor": eva.pk, "request_id": payload["request_id"]} and payload["request_id"]
    # Pressed twice: welcome again, the host was told once.
    assert client.post(url(raw), {"code": eva.code}).status_code == 200
    assert told.count() == 1
    assert Visitor.objects.get(name="John Guest").status == "expected"


@pytest.mark.parametrize("case", ["wrong", "other_site", "too_early", "cancelled", "garbage"])
def test_every_failure_says_the_same_and_changes_nothing(client, monday, building, alice, tablet, eva, case):
    _kiosk, raw = tablet
    code = eva.code
    if case == "wrong":
        code = "ABCDEFGH" if eva.code != "ABCDEFGH" else "HGFEDCBA"
    elif case == "other_site":
        elsewhere = factories.building(factories.site(name="Hamburg"))
        other = services.register_visit(
            host=alice, building=elsewhere, start=thursday(9), end=thursday(10), visitors=[GUEST]
        )
        code = other.visitors.get().code
    elif case == "too_early":
        monday.move_to(thursday(6, 59))  # more than two hours before the visit
    elif case == "cancelled":
        services.cancel_visit(visit=eva.visit, actor=alice)
    elif case == "garbage":
        code = "' OR 1=1 --"
    response = client.post(url(raw), {"code": code})
    assert response.status_code == 422
    assert "Wir konnten diesen Code für heute nicht finden." in text(response)
    assert not Visitor.objects.filter(status="arrived").exists()


def test_the_page_shows_nobody_before_a_code_is_typed(client, tablet, eva):
    _kiosk, raw = tablet
    page = text(client.get(url(raw)))
    assert "Bitte melden Sie sich an" in page
    assert "Eva" not in page and "John" not in page and eva.code not in page


def test_it_speaks_english_on_request_and_by_its_setting(client, building, eva):
    _english, raw = kiosks.create_kiosk(site=building.site, language="en")
    assert "The code from your invitation" in text(client.get(url(raw)))
    assert "Der Code aus Ihrer Einladung" in text(client.get(url(raw) + "?lang=de"))


def test_it_stops_guessing_after_the_limit(client, settings, tablet, eva):
    settings.RFR_KIOSK_ATTEMPTS_PER_MINUTE = 3
    _kiosk, raw = tablet
    for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
        assert client.post(url(raw), {"code": guess}).status_code == 422
    # Even the right code waits now: a guesser learns nothing from the answer.
    response = client.post(url(raw), {"code": eva.code})
    assert response.status_code == 429
    assert "Zu viele Versuche" in text(response)
    assert Visitor.objects.get(pk=eva.pk).status == "expected"


def test_a_revoked_or_rotated_token_answers_404(client, tablet, eva):
    place, raw = tablet
    new = kiosks.rotate_token(kiosk=place)
    assert client.get(url(raw)).status_code == 404
    assert client.get(url(new)).status_code == 200
    kiosks.revoke_kiosk(kiosk=place)
    assert client.get(url(new)).status_code == 404
    assert client.post(url(new), {"code": eva.code}).status_code == 404
    assert client.get(url("not-a-token")).status_code == 404
    assert Kiosk.objects.get().token_hash != new  # only the hash is stored


def test_the_admin_registers_a_kiosk_and_shows_its_url_once(admin_client, building):
    response = admin_client.post(
        "/admin/visitors/kiosk/add/",
        {"site": building.site.pk, "name": "Tablet Foyer", "language": "de"},
        follow=True,
    )
    place = Kiosk.objects.get()
    page = text(response)
    assert f"/kiosk/{place.token_prefix}" in page
    assert "Tablet Foyer" in text(admin_client.get("/admin/visitors/kiosk/"))
    assert f"/kiosk/{place.token_prefix}" not in text(admin_client.get("/admin/visitors/kiosk/"))
