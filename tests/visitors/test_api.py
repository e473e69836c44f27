"""Visits through the JSON API: register, read, cancel, reception's day, check-in and -out."""

from __future__ import annotations

import pytest

from bookings import services as booking_services
from tests.helpers import assert_clean_error
from tests.visitors.conftest import GUEST, GUEST_EN, thursday
from visitors import services
from visitors.models import Visit, Visitor

pytestmark = pytest.mark.django_db


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_it_registers_visitors_for_a_booking(client, token_for, monday, room, alice):
    booking = booking_services.create_booking(
        room=room, organizer=alice, title="T", start=thursday(10), end=thursday(11)
    )
    response = post(
        client, "/api/v1/visits", {"booking": booking.pk, "visitors": [GUEST, GUEST_EN]}, token_for(alice)
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["booking"], data["host"]) == (booking.pk, "alice")
    assert [(v["name"], v["state"]) for v in data["visitors"]] == [
        ("Dr. Eva Gast", "expected"),
        ("John Guest", "expected"),
    ]


def test_it_registers_a_visit_without_a_room(client, token_for, monday, building, alice):
    body = {
        "building": building.pk,
        "start": thursday(9).isoformat(),
        "end": thursday(10).isoformat(),
        "visitors": [GUEST],
    }
    response = post(client, "/api/v1/visits", body, token_for(alice))
    assert response.status_code == 201
    assert response.json()["booking"] is None


def test_it_answers_403_for_someone_elses_booking(client, token_for, monday, room, alice, bob):
    booking = booking_services.create_booking(
        room=room, organizer=alice, title="T", start=thursday(10), end=thursday(11)
    )
    response = post(client, "/api/v1/visits", {"booking": booking.pk, "visitors": [GUEST]}, token_for(bob))
    assert_clean_error(response, 403)
    assert not Visit.objects.exists()


def test_it_answers_404_for_an_unknown_booking(client, token_for, monday, alice):
    assert_clean_error(
        post(client, "/api/v1/visits", {"booking": 999999, "visitors": [GUEST]}, token_for(alice)), 404
    )


def test_it_answers_422_naming_the_field(client, token_for, monday, building, alice):
    body = {
        "building": building.pk,
        "start": thursday(9).isoformat(),
        "end": thursday(10).isoformat(),
        "visitors": [{**GUEST, "email": "kaputt"}],
    }
    response = post(client, "/api/v1/visits", body, token_for(alice))
    assert assert_clean_error(response, 422)["field"] == "email"
    assert not Visit.objects.exists()


def test_it_refuses_a_misspelt_field(client, token_for, monday, building, alice):
    body = {
        "building": building.pk,
        "start": thursday(9).isoformat(),
        "end": thursday(10).isoformat(),
        "visitors": [{**GUEST, "naem": "x"}],
    }
    assert_clean_error(post(client, "/api/v1/visits", body, token_for(alice)), 422)


def test_it_shows_a_visit_only_to_its_host_and_reception(
    client, token_for, monday, building, alice, bob, rita
):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    assert client.get(f"/api/v1/visits/{visit.pk}", headers=token_for(alice)).status_code == 200
    assert client.get(f"/api/v1/visits/{visit.pk}", headers=token_for(rita)).status_code == 200
    # Someone else's visit answers like a missing one: its existence is not bob's business.
    assert_clean_error(client.get(f"/api/v1/visits/{visit.pk}", headers=token_for(bob)), 404)
    assert_clean_error(client.get("/api/v1/visits/999999", headers=token_for(alice)), 404)


def test_it_cancels_a_visit(client, token_for, monday, building, alice, bob):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    assert_clean_error(post(client, f"/api/v1/visits/{visit.pk}/cancel", {}, token_for(bob)), 404)
    response = post(client, f"/api/v1/visits/{visit.pk}/cancel", {}, token_for(alice))
    assert response.json()["cancelled"] is True
    assert response.json()["visitors"][0]["state"] == "cancelled"


def test_it_lists_receptions_day_and_checks_in_and_out(client, token_for, monday, building, alice, rita):
    site = building.site
    services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST, GUEST_EN]
    )
    monday.move_to(thursday(9, 20))
    day = client.get(f"/api/v1/reception/{site.pk}/visitors", headers=token_for(rita)).json()
    assert [(v["name"], v["state"]) for v in day] == [("Dr. Eva Gast", "overdue"), ("John Guest", "overdue")]
    eva = day[0]["id"]
    assert post(client, f"/api/v1/visitors/{eva}/check-in", {}, token_for(rita)).json()["state"] == "arrived"
    present = client.get(f"/api/v1/reception/{site.pk}/visitors?present=true", headers=token_for(rita)).json()
    assert [v["name"] for v in present] == ["Dr. Eva Gast"]
    assert post(client, f"/api/v1/visitors/{eva}/check-out", {}, token_for(rita)).json()["state"] == "left"
    found = client.get(f"/api/v1/reception/{site.pk}/visitors?q=client", headers=token_for(rita)).json()
    assert [v["name"] for v in found] == ["John Guest"]


def test_it_keeps_a_receptions_day_from_others(client, token_for, monday, building, bob):
    assert_clean_error(
        client.get(f"/api/v1/reception/{building.site.pk}/visitors", headers=token_for(bob)), 403
    )
    assert_clean_error(client.get("/api/v1/reception/999999/visitors", headers=token_for(bob)), 404)


def test_it_refuses_check_in_by_others_and_of_unknown_visitors(
    client, token_for, monday, building, alice, bob, rita
):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    visitor = visit.visitors.get()
    assert_clean_error(post(client, f"/api/v1/visitors/{visitor.pk}/check-in", {}, token_for(bob)), 404)
    # The host knows the visitor exists, so she hears why she may not check them in.
    assert_clean_error(post(client, f"/api/v1/visitors/{visitor.pk}/check-in", {}, token_for(alice)), 403)
    assert_clean_error(post(client, "/api/v1/visitors/999999/check-in", {}, token_for(rita)), 404)
    assert_clean_error(post(client, f"/api/v1/visitors/{visitor.pk}/check-out", {}, token_for(rita)), 422)
    assert Visitor.objects.get().status == "expected"


def test_it_registers_a_walk_in(client, token_for, monday, building, alice, rita):
    body = {"building": building.pk, "host": "alice", "visitor": {"name": "Paketbote", "company": "DHL"}}
    response = post(client, "/api/v1/reception/walk-ins", body, token_for(rita))
    assert response.status_code == 201
    assert response.json()["state"] == "arrived"
    assert_clean_error(
        post(client, "/api/v1/reception/walk-ins", {**body, "host": "nobody"}, token_for(rita)), 404
    )


def test_it_documents_the_visitor_operations(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"403", "404", "422"} <= set(paths["/api/v1/visitors/{visitor_id}/check-in"]["post"]["responses"])
    assert "201" in paths["/api/v1/visits"]["post"]["responses"]
