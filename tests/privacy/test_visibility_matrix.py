"""The visibility matrix of docs/privacy.md, checked cell by cell against the real interfaces.

One scene: alice organizes a private booking (anna and an outside adviser attend, a visitor
is registered, coffee is ordered on a cost centre) and a normal booking in one room with a
door display that shows titles. Each viewer fetches each interface as they would (pages
with a session, the API with a bearer token, the feeds by their secret URL, the door display
by its token); a datum counts as seen when its text is anywhere in what came back.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.test import Client
from pypdf import PdfReader

from bookings.models import Policy
from bookings.services.feeds import create_feed
from displays.services import create_display
from orders.models import CostCentre, Order
from privacy import visibility
from privacy.visibility import DATA, HIDDEN, INTERFACES, REFUSED, ROLES, SHOWN
from tests import factories
from tests.displays.conftest import clear_display_keys
from visitors import services as visitor_services
from visitors.models import Visitor

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"

# What each datum looks like wherever it shows; each is unlike anything else on any page.
MARKERS = {
    "private_title": "Geheime Fusion Zeppelin",
    "title": "Quartalsplanung Kranich",
    "attendees": "berater@kanzlei-ostwind.example",
    "visitor_names": "Valentina Quastenflosser",
    "cost_centre": "CC-73919",
}


@pytest.fixture
def scene(alice, bob, fiona, room, reception, rita, coffee):
    """The people of the matrix, the two bookings, the door display and a feed per person."""
    clear_display_keys()
    with time_machine.travel(factories.on(factories.days_ahead(1), 10), tick=True):
        anna = factories.user("anna")
        managers = Group.objects.create(name="Raumverwaltung Haus A")
        maria = factories.user("maria")
        maria.groups.add(managers)
        Policy.objects.create(room=room).managers.add(managers)
        fiona.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["change_visit", "view_visit", "view_reports", "sap_export"]
            )
        )
        # The kitchen's worker: in the group that works the coffee's provider.
        kitchen_staff = Group.objects.create(name="Kantine")
        cook = factories.user("koch")
        cook.groups.add(kitchen_staff)
        coffee.provider.group = kitchen_staff
        coffee.provider.save()
        people = {
            "organizer": alice,
            "attendee": anna,
            "colleague": bob,
            "room_manager": maria,
            "reception": rita,
            "provider": cook,
            "facility_admin": fiona,
        }
        start = factories.on(factories.days_ahead(0), 11)
        private = factories.booking(
            room,
            alice,
            start,
            title=MARKERS["private_title"],
            private=True,
            attendees=["anna@example.com", MARKERS["attendees"]],
        )
        factories.booking(room, alice, start + timedelta(hours=2), title=MARKERS["title"])
        Order.objects.create(
            booking=private,
            item=coffee,
            quantity=6,
            price=Decimal("2.35"),
            amount=Decimal("14.10"),
            currency="EUR",
            deliver_at=start,
            cost_centre=CostCentre.objects.create(code=MARKERS["cost_centre"], name="Fusionsprojekt"),
            ordered_by=alice,
            created_at=start - timedelta(days=1),
        )
        visit = visitor_services.register_visit(
            host=alice,
            booking=private,
            visitors=[
                {
                    "name": MARKERS["visitor_names"],
                    "company": "Ostwind AG",
                    "email": "gast@ostwind.example",
                    "language": "de",
                }
            ],
        )
        _display, door_token = create_display(room=room, name="Tür")
        feeds = {
            role: [create_feed(user=user)[1], create_feed(user=user, room=room)[1]]
            for role, user in people.items()
        }
        yield {
            "people": people,
            "room": room,
            "booking": private,
            "door": door_token,
            "feeds": feeds,
            "visit": visit,
            "provider": coffee.provider,
        }
    clear_display_keys()


def client_for(scene, role: str) -> Client:
    client = Client()
    if role != "display":
        client.force_login(scene["people"][role])
    return client


def api_headers(scene, role: str, token_for) -> dict:
    return {} if role == "display" else token_for(scene["people"][role])


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _page(client: Client, path: str) -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, response.content.decode()


def fetch(interface: str, role: str, scene, token_for) -> str | None:
    """Everything the interface shows this viewer, or None where they are turned away."""
    room = scene["room"]
    client = client_for(scene, role)
    day = factories.days_ahead(0).isoformat()
    if interface in ("day_plan", "room_week", "my_bookings", "reports", "reception"):
        path = {
            "day_plan": f"/plan/?date={day}",
            "room_week": f"/rooms/{room.pk}/",
            "my_bookings": "/my/",
            "reports": "/reports/",
            "reception": f"/reception/{room.floor.building.site_id}/",
        }[interface]
        status, body = _page(client, path)
        if status in (302, 403, 404):
            return None
        assert status == 200, (path, status)
        if interface == "reports":
            # The downloads carry the same tables as the page.
            for table in ("rooms", "weeks", "hours", "groups"):
                period = f"place=room:{room.pk}&period=week&start={day}"
                status, csv = _page(client, f"/reports/{table}.csv?{period}")
                assert status == 200, (table, status, csv)
                body += csv
        return body
    if interface in ("api", "api_visitors"):
        headers = api_headers(scene, role, token_for)
        booking = scene["booking"]
        bodies = []
        paths = (
            "/api/v1/bookings",
            f"/api/v1/bookings/{booking.pk}",
            f"/api/v1/bookings/{booking.pk}/orders",
            f"/api/v1/rooms/{room.pk}/bookings?from={day}T00:00:00%2B00:00&to={day}T23:59:00%2B00:00",
            f"/api/v1/availability?date={day}",
        )
        if interface == "api_visitors":
            paths = (
                "/api/v1/visits",
                f"/api/v1/visits/{scene['visit'].pk}",
                f"/api/v1/reception/{room.floor.building.site_id}/visitors?day={day}",
            )
        for path in paths:
            response = client.get(path, headers=headers)
            if response.status_code == 401:
                return None
            assert response.status_code in (200, 403, 404), (path, response.status_code)
            bodies.append(response.content.decode())
        return "\n".join(bodies)
    if interface == "display":
        # The kiosk page and the status it polls.
        pages = [client.get(f"/d/{scene['door']}"), client.get(f"/d/{scene['door']}/status.json")]
        assert [page.status_code for page in pages] == [200, 200]
        return "\n".join(body_of(page) for page in pages)
    if interface == "feed":
        if role == "display":
            # Nobody's secret: an unknown feed URL answers 404 like a revoked one.
            assert client.get("/calendar/not-a-feed-secret.ics").status_code == 404
            return None
        bodies = []
        for secret in scene["feeds"][role]:
            response = client.get(f"/calendar/{secret}.ics")
            assert response.status_code == 200
            # iCalendar folds long lines at 75 octets; unfold before looking.
            bodies.append(re.sub(r"\r?\n[ \t]", "", body_of(response)))
        return "\n".join(bodies)
    if interface == "provider_day":
        # Today's and tomorrow's lines, on the page and in its printable PDF.
        base = f"/services/providers/{scene['provider'].pk}/"
        status, body = _page(client, base)
        if status in (302, 403, 404):
            return None
        assert status == 200, status
        pdf = client.get(base + "day.pdf")
        assert pdf.status_code == 200
        reader = PdfReader(io.BytesIO(body_of_bytes(pdf)))
        printed = "\n".join(page.extract_text() for page in reader.pages)
        # Hidden is not absent: the coffee line is on both (so what it leaves out, it hides).
        assert "Kaffee" in body and "Kaffee" in printed, "the order is not on the day list"
        return body + printed
    if interface == "charges":
        status, body = _page(client, f"/services/charges/?month={factories.days_ahead(0):%Y-%m}")
        if status in (302, 403, 404):
            return None
        assert status == 200, status
        return body
    raise AssertionError(interface)


def body_of_bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def observed(body: str | None) -> dict[str, str]:
    if body is None:
        return dict.fromkeys(DATA, REFUSED)
    return {datum: SHOWN if MARKERS[datum] in body else HIDDEN for datum in DATA}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("interface", INTERFACES)
def test_each_viewer_sees_what_the_matrix_says(interface, role, scene, token_for):
    assert observed(fetch(interface, role, scene, token_for)) == visibility.expected(interface, role)


def test_the_private_booking_is_there_where_its_title_is_hidden(scene, token_for):
    """Hidden is not absent: a colleague's plan and API still show the slot as taken."""
    client = client_for(scene, "colleague")
    response = client.get(
        f"/api/v1/bookings/{scene['booking'].pk}", headers=token_for(scene["people"]["colleague"])
    )
    assert response.json()["title"] is None and response.json()["private"] is True
    feed = client.get(f"/calendar/{scene['feeds']['colleague'][1]}.ics")
    text = body_of(feed)
    assert "CLASS:PRIVATE" in text and MARKERS["private_title"] not in text


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_document_shows_this_matrix(language):
    """docs/privacy.md carries the tables this module makes, in both languages, unchanged."""
    assert visibility.markdown_table(language) in DOCS.read_text(encoding="utf-8")


def test_every_interface_and_role_has_a_cell():
    for interface in INTERFACES:
        assert set(visibility.MATRIX[interface]) == set(DATA)
        for datum in DATA:
            assert len(visibility.MATRIX[interface][datum]) == len(ROLES)
            assert set(visibility.MATRIX[interface][datum]) <= {SHOWN, HIDDEN, REFUSED}


@pytest.mark.parametrize("role", ["attendee", "colleague", "reception", "display"])
def test_the_order_page_and_the_badge_are_not_there_for_others(role, scene):
    """Beyond the matrix: others are refused the booking's order page (the booking itself is
    no secret, its orders are) and get a visitor's badge answered as if it did not exist."""
    client = client_for(scene, role)
    visitor = Visitor.objects.get(visit=scene["visit"])
    order_page = client.get(f"/services/bookings/{scene['booking'].pk}/")
    badge = client.get(f"/reception/visitors/{visitor.pk}/badge.pdf")
    assert order_page.status_code == (302 if role == "display" else 403)
    assert MARKERS["cost_centre"] not in body_of(order_page)
    # Reception prints the badge of its own site's visitors; nobody else gets it.
    assert badge.status_code == (200 if role == "reception" else 302 if role == "display" else 404)
