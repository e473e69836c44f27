"""The meetings API: book several rooms as one, move and cancel them, find rooms together."""

from __future__ import annotations

from datetime import datetime

import pytest

from bookings.models import Booking, Meeting, Policy
from tests import factories
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(db):
    floor = factories.floor(factories.building(factories.site("Berlin"), "Haus A"))
    return [factories.room(floor, name, capacity=8) for name in ("Elbe", "Havel", "Spree")]


@pytest.fixture
def body(rooms, at):
    return {
        "rooms": [r.pk for r in rooms],
        "title": "Workshop",
        "start": at(10).isoformat(),
        "end": at(11).isoformat(),
    }


def test_it_books_a_meeting(client, alice, body, rooms):
    response = client.post("/api/v1/meetings", body, content_type="application/json", headers=bearer(alice))

    assert response.status_code == 201, response.content
    data = response.json()
    assert [r["room"]["name"] for r in data["rooms"]] == ["Elbe", "Havel", "Spree"]
    assert {r["booking"]["status"] for r in data["rooms"]} == {"confirmed"}
    assert data["rooms"][0]["local_start"].endswith("+01:00") or data["rooms"][0]["local_start"].endswith(
        "+02:00"
    )
    assert data["version"] == 3


def test_a_retry_with_the_same_key_books_once(client, alice, body):
    headers = {**bearer(alice), "Idempotency-Key": "meeting-1"}
    first = client.post("/api/v1/meetings", body, content_type="application/json", headers=headers)
    again = client.post("/api/v1/meetings", body, content_type="application/json", headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Meeting.objects.count() == 1


def test_it_answers_409_naming_the_taken_room(client, alice, bob, body, rooms, at):
    taken = factories.booking(rooms[2], bob, at(10))

    response = client.post("/api/v1/meetings", body, content_type="application/json", headers=bearer(alice))

    assert response.status_code == 409
    assert "Spree" in response.json()["detail"]
    assert [c["id"] for c in response.json()["conflicts"]] == [taken.pk]
    assert Booking.objects.count() == 1


def test_it_answers_403_naming_the_room_whose_rules_refuse(client, alice, body, rooms):
    Policy.objects.create(room=rooms[1], max_duration_minutes=30)

    response = client.post("/api/v1/meetings", body, content_type="application/json", headers=bearer(alice))

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Havel: ")
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rooms": []}, "rooms"),
        ({"approval": "maybe"}, "approval"),
        ({"rooms": [999999, 999998]}, "rooms"),
        ({"start": "2030-01-01T10:00:00"}, "start"),
    ],
)
def test_it_refuses_bad_input_with_422(client, alice, body, change, field):
    response = client.post(
        "/api/v1/meetings", {**body, **change}, content_type="application/json", headers=bearer(alice)
    )

    assert response.status_code == 422, response.content
    assert response.json()["field"].startswith(field)
    assert not Booking.objects.exists()


def test_it_moves_the_meeting(client, alice, body, at):
    meeting = client.post(
        "/api/v1/meetings", body, content_type="application/json", headers=bearer(alice)
    ).json()

    response = client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        {"start": at(14).isoformat(), "end": at(15).isoformat()},
        content_type="application/json",
        headers={**bearer(alice), "If-Match": str(meeting["version"])},
    )

    assert response.status_code == 200, response.content
    assert {datetime.fromisoformat(r["booking"]["start"]) for r in response.json()["rooms"]} == {at(14)}


def test_a_move_with_one_room_taken_answers_409_and_moves_nothing(client, alice, bob, body, rooms, at):
    meeting = client.post(
        "/api/v1/meetings", body, content_type="application/json", headers=bearer(alice)
    ).json()
    factories.booking(rooms[0], bob, at(14))

    response = client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        {"start": at(14).isoformat(), "end": at(15).isoformat()},
        content_type="application/json",
        headers=bearer(alice),
    )

    assert response.status_code == 409
    assert "Elbe" in response.json()["detail"]
    assert set(Booking.objects.filter(meeting_room__isnull=False).values_list("span", flat=True)) == {
        Booking.objects.filter(meeting_room__isnull=False).first().span
    }
    assert Booking.objects.filter(meeting_room__isnull=False, span__startswith=at(10)).count() == 3


def test_a_stale_version_answers_412(client, alice, body, at):
    meeting = client.post(
        "/api/v1/meetings", body, content_type="application/json", headers=bearer(alice)
    ).json()

    response = client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        {"start": at(14).isoformat(), "end": at(15).isoformat()},
        content_type="application/json",
        headers={**bearer(alice), "If-Match": "1"},
    )

    assert response.status_code == 412


def test_someone_else_cannot_see_move_or_cancel_it(client, alice, bob, body, at):
    meeting = client.post(
        "/api/v1/meetings", body, content_type="application/json", headers=bearer(alice)
    ).json()
    path = f"/api/v1/meetings/{meeting['id']}"

    assert client.get(path, headers=bearer(bob)).status_code == 403
    assert client.delete(path, headers=bearer(bob)).status_code == 403
    assert Booking.objects.filter(status="confirmed").count() == 3


def test_it_cancels_every_room(client, alice, body):
    meeting = client.post(
        "/api/v1/meetings", body, content_type="application/json", headers=bearer(alice)
    ).json()

    response = client.delete(f"/api/v1/meetings/{meeting['id']}", headers=bearer(alice))

    assert response.status_code == 200
    assert response.json()["cancelled"] is True
    assert {r["booking"]["status"] for r in response.json()["rooms"]} == {"cancelled"}


def test_one_room_is_cancelled_alone(client, alice, body):
    meeting = client.post(
        "/api/v1/meetings", body, content_type="application/json", headers=bearer(alice)
    ).json()
    first = meeting["rooms"][0]["booking"]["id"]

    assert client.delete(f"/api/v1/bookings/{first}", headers=bearer(alice)).status_code == 200

    rooms = client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(alice)).json()["rooms"]
    assert [r["booking"]["status"] for r in rooms] == ["cancelled", "confirmed", "confirmed"]


def test_the_room_finder_finds_three_rooms_for_eight(client, alice, rooms, at):
    building = rooms[0].floor.building
    factories.room(rooms[0].floor, "Klein", capacity=4)

    response = client.get(
        "/api/v1/meetings/rooms",
        {
            "building": building.pk,
            "count": 3,
            "people": 8,
            "start": at(10).isoformat(),
            "end": at(11).isoformat(),
        },
        headers=bearer(alice),
    )

    assert response.status_code == 200, response.content
    assert response.json()["enough"] is True
    assert [r["name"] for r in response.json()["rooms"]] == ["Elbe", "Havel", "Spree"]


def test_the_room_finder_says_when_too_few_are_free(client, alice, rooms, at):
    response = client.get(
        "/api/v1/meetings/rooms",
        {
            "site": rooms[0].floor.building.site_id,
            "count": 4,
            "people": 8,
            "start": at(10).isoformat(),
            "end": at(11).isoformat(),
        },
        headers=bearer(alice),
    )

    assert response.status_code == 200
    assert response.json()["enough"] is False
    assert len(response.json()["rooms"]) == 3


def test_the_room_finder_needs_a_place(client, alice, at):
    response = client.get(
        "/api/v1/meetings/rooms",
        {"count": 2, "start": at(10).isoformat(), "end": at(11).isoformat()},
        headers=bearer(alice),
    )

    assert response.status_code == 422
    assert response.json()["field"] == "site"


def test_the_openapi_document_describes_meetings(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {"post", "get"} <= set(paths["/api/v1/meetings"].keys()) | set(
        paths["/api/v1/meetings/{meeting_id}"].keys()
    )
    assert "patch" in paths["/api/v1/meetings/{meeting_id}"]
    assert "409" in paths["/api/v1/meetings"]["post"]["responses"]
