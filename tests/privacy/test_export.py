"""A person's data (Art. 15 GDPR): what alice downloads from My bookings, what an admin
downloads for her, that nobody else's data is in it, and that it streams."""

from __future__ import annotations

import csv
import io
import secrets
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking
from bookings.spans import make_span
from orders.models import DayListLook
from privacy.models import PrivacyEvent
from tests.helpers import text
from tests.privacy.conftest import MONDAY, read_json, read_zip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def test_it_offers_my_data_from_my_bookings(client, alice):
    client.force_login(alice)
    assert "/my/data/" in client.get("/my/").content.decode()
    page = text(client.get("/my/data/", HTTP_ACCEPT_LANGUAGE="de"))
    assert "Meine Daten" in page and "Als JSON herunterladen" in page
    assert "Download as JSON" in text(client.get("/my/data/", HTTP_ACCEPT_LANGUAGE="en"))


def test_it_exports_everything_about_me_as_json(client, alice, alices_world):
    client.force_login(alice)
    response = client.get("/my/data.json")
    assert not PrivacyEvent.objects.exists()  # her own data: nothing to record
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = read_json(response)
    assert data["format"] == "raumfuerraum-personal-data/1"
    assert data["person"] == [
        {
            "username": "alice",
            "first_name": "",
            "last_name": "",
            "email": "alice@example.com",
            "active": True,
            "date_joined": data["person"][0]["date_joined"],
            "last_login": data["person"][0]["last_login"],
        }
    ]
    [booking] = data["bookings"]
    assert booking["title"] == "Strategie Müller"
    assert booking["attendees"] == ["bob@example.com", "extern@kunde.example"]
    assert booking["start"] == "2026-11-26T08:00:00+00:00"
    assert [s["title"] for s in data["series"]] == ["Jour fixe"]
    assert data["series"][0]["duration"] == 30
    [order] = data["orders"]
    assert (order["item"], order["amount"], order["cost_centre"]) == ("Kaffee", "9.40", "2100")
    assert [v["name"] for v in data["visitors"]] == ["Dr. Eva Gast"]
    assert [f["prefix"] for f in data["calendar_subscriptions"]] == ["abc123"]
    assert data["attended_bookings"] == []
    assert data["day_list_looks"] == []


@pytest.mark.django_db
def test_it_exports_when_i_last_looked_at_a_provider_s_day_list(client, alice, coffee):
    DayListLook.objects.create(
        provider=coffee.provider, user=alice, seen_at=datetime(2026, 11, 30, 7, tzinfo=UTC)
    )
    client.force_login(alice)
    data = read_json(client.get("/my/data.json"))
    assert data["day_list_looks"] == [
        {"provider": coffee.provider.name, "last_look": "2026-11-30T07:00:00+00:00"}
    ]


def test_it_leaves_other_peoples_data_out(client, bob, alices_world):
    client.force_login(bob)
    data = read_json(client.get("/my/data.json"))
    assert [b["title"] for b in data["bookings"]] == ["Bobs Geheimprojekt"]
    # bob attends alice's meeting: he sees that he does, not its title or the other guests.
    [attended] = data["attended_bookings"]
    assert attended["id"] == alices_world["booking"].pk and "title" not in attended
    assert data["orders"] == data["visitors"] == data["series"] == []
    assert "Strategie" not in str(data) and "Eva" not in str(data)


def test_it_exports_csv_files_in_a_zip(client, alice, alices_world):
    client.force_login(alice)
    response = client.get("/my/data.zip")
    assert response["Content-Type"] == "application/zip"
    files = read_zip(response)
    assert {"person.csv", "bookings.csv", "series.csv", "orders.csv", "visitors.csv"} <= set(files)
    [row] = list(csv.DictReader(io.StringIO(files["bookings.csv"])))
    assert row["title"] == "Strategie Müller"
    assert row["attendees"] == "bob@example.com; extern@kunde.example"
    assert row["private"] == "no"
    [order] = list(csv.DictReader(io.StringIO(files["orders.csv"])))
    assert order["amount"] == "9.40"


def test_it_asks_me_to_sign_in(client):
    response = client.get("/my/data.json")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_admin_exports_someone_elses_data(client, petra, alice, alices_world):
    client.force_login(petra)
    page = text(client.get("/privacy/people/?q=alice", HTTP_ACCEPT_LANGUAGE="de"))
    assert "alice@example.com" in page
    data = read_json(client.get(f"/privacy/people/{alice.pk}/data.json"))
    assert [b["title"] for b in data["bookings"]] == ["Strategie Müller"]
    assert "bookings.csv" in read_zip(client.get(f"/privacy/people/{alice.pk}/data.zip"))
    assert client.get("/privacy/people/999999/data.json").status_code == 404
    # Each download of someone else's data is on record, without its content.
    events = PrivacyEvent.objects.filter(kind="exported", subject=alice, actor=petra)
    assert sorted(e.changes["format"] for e in events) == ["json", "zip"]


def test_a_colleague_cannot_export_someone_else(client, bob, alice, alices_world):
    client.force_login(bob)
    assert client.get(f"/privacy/people/{alice.pk}/data.json").status_code == 403
    assert client.get("/privacy/people/?q=alice").status_code == 403


def _book_many(room, organizer, count: int) -> None:
    start = MONDAY + timedelta(days=1)
    Booking.objects.bulk_create(
        Booking(
            room=room,
            organizer=organizer,
            # Random, so the zip's compression does not hide how much was written.
            title=f"Termin {n:05d} {secrets.token_hex(60)}",
            attendees=["bob@example.com"],
            span=make_span(start + timedelta(minutes=30 * n), start + timedelta(minutes=30 * n + 30)),
        )
        for n in range(count)
    )


def _consume(response) -> tuple[int, int, int]:
    """(bytes, queries, peak Python memory) while the response streams."""
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        size = sum(len(chunk) for chunk in response.streaming_content)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size, len(queries), peak


@pytest.mark.parametrize("kind", ["json", "zip"])
def test_thousands_of_bookings_stream_in_bounded_memory_and_queries(client, alice, room, kind):
    client.force_login(alice)
    _book_many(room, alice, 1000)  # two full chunks: the memory of one is what is measured
    small_size, small_queries, small_peak = _consume(client.get(f"/my/data.{kind}"))
    _book_many(room.__class__.objects.create(floor=room.floor, name="Saal 2", capacity=10), alice, 6000)
    big_size, big_queries, big_peak = _consume(client.get(f"/my/data.{kind}"))
    # Seven times the rows: the same queries (server-side cursors fetch in chunks), and
    # memory that does not grow with the rows (one chunk is the bound, not the export).
    assert big_queries == small_queries
    assert big_size > 6 * small_size
    assert big_peak < 1.5 * small_peak, (small_peak, big_peak)
    if kind == "json":  # uncompressed: the whole export would not fit in the peak
        assert big_peak < big_size / 2, (big_peak, big_size)
