"""The host's and the reception's pages: happy path, someone without access, bad input."""

from __future__ import annotations

import pytest

from bookings import services as booking_services
from tests.helpers import text
from tests.visitors.conftest import GUEST, thursday
from visitors import services
from visitors.models import Visit, Visitor

pytestmark = pytest.mark.django_db


def test_it_registers_a_visitor_for_a_booking_from_the_page(client, monday, room, alice):
    booking = booking_services.create_booking(
        room=room, organizer=alice, title="Planung", start=thursday(10), end=thursday(11)
    )
    client.force_login(alice)
    response = client.post("/visitors/", {"booking": booking.pk, **GUEST}, follow=True)
    assert "Dr. Eva Gast" in text(response)
    assert Visit.objects.get().booking == booking


def test_it_registers_a_visit_without_a_room_from_the_page(client, monday, building, alice):
    client.force_login(alice)
    body = {"building": building.pk, "day": "2026-11-26", "start": "14:00", "end": "15:00", **GUEST}
    client.post("/visitors/", body)
    assert Visit.objects.get().start == thursday(14)


def test_it_shows_a_refusal_in_the_users_language_and_keeps_the_input(client, monday, building, alice):
    client.force_login(alice)
    body = {
        "building": building.pk,
        "day": "2026-11-26",
        "start": "14:00",
        "end": "15:00",
        **GUEST,
        "email": "kaputt",
    }
    response = client.post("/visitors/", body, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    assert "gültige E-Mail-Adresse" in text(response)
    assert 'value="Dr. Eva Gast"' in response.content.decode()
    assert not Visit.objects.exists()


def test_it_refuses_a_bad_date_without_an_error_page(client, monday, building, alice):
    client.force_login(alice)
    body = {"building": building.pk, "day": "26.11.", "start": "14", "end": "x", **GUEST}
    assert client.post("/visitors/", body).status_code == 422


def test_it_shows_reception_its_day_and_checks_in(client, monday, building, alice, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    monday.move_to(thursday(9, 30))
    client.force_login(rita)
    page = text(client.get(f"/reception/{building.site_id}/"))
    assert "Dr. Eva Gast" in page and "überfällig" in page
    visitor = visit.visitors.get()
    client.post(f"/reception/visitors/{visitor.pk}/check-in/")
    assert Visitor.objects.get().status == "arrived"
    assert "Dr. Eva Gast" in text(client.get(f"/reception/{building.site_id}/present/"))


def test_it_keeps_reception_pages_from_colleagues(client, monday, building, alice, bob, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    client.force_login(bob)
    assert client.get(f"/reception/{building.site_id}/").status_code == 403
    assert client.get(f"/reception/{building.site_id}/present/").status_code == 403
    response = client.post(f"/reception/visitors/{visit.visitors.get().pk}/check-in/")
    assert response.status_code == 404
    assert Visitor.objects.get().status == "expected"
    assert client.post(f"/visitors/{visit.pk}/cancel/").status_code == 404
    assert not Visit.objects.get().is_cancelled


def test_it_registers_a_walk_in_at_the_desk(client, monday, building, alice, rita):
    client.force_login(rita)
    body = {"name": "Paketbote", "company": "DHL", "host": "alice", "building": building.pk}
    client.post(f"/reception/{building.site_id}/", body)
    assert Visitor.objects.get().status == "arrived"
    response = client.post(f"/reception/{building.site_id}/", {**body, "host": "niemand"})
    assert response.status_code == 422
    assert Visitor.objects.count() == 1


def test_it_searches_by_company(client, monday, building, alice, rita):
    services.register_visit(
        host=alice,
        building=building,
        start=thursday(9),
        end=thursday(10),
        visitors=[GUEST, {**GUEST, "name": "Max Muster", "company": "Andere AG"}],
    )
    monday.move_to(thursday(8))
    client.force_login(rita)
    page = text(client.get(f"/reception/{building.site_id}/?q=andere"))
    assert "Max Muster" in page and "Eva Gast" not in page
