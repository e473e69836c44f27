"""The ETag changes exactly when the status does; a 304 poll costs PostgreSQL nothing."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.test import override_settings

from bookings.services import cancel_booking, create_booking, create_series, update_booking
from displays import cache
from tests import factories
from tests.displays.conftest import deliver_outbox
from tests.helpers import frozen_at, on_the_day_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)


at = on_the_day_of(MORNING)
frozen = frozen_at(MORNING)


def etag(client, door) -> str:
    response = client.get(door.status)
    assert response.status_code == 200
    return response["ETag"]


def poll(client, door, tag: str):
    return client.get(door.status, headers={"If-None-Match": tag})


@pytest.mark.django_db
def test_it_keeps_the_etag_while_nothing_changes(client, door, alice, frozen):
    factories.booking(door.display.room, alice, at(10), minutes=60)
    first = etag(client, door)

    frozen.move_to(at(9, 44))
    response = poll(client, door, first)

    assert response.status_code == 304
    assert response["ETag"] == first
    assert response.content == b""
    assert "must-revalidate" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    # Built again from PostgreSQL (Redis emptied), the same bytes give the same ETag.
    cache.forget_status([door.display.pk])
    assert etag(client, door) == first


@pytest.mark.django_db
def test_it_changes_the_etag_when_valid_until_passes(client, door, alice, frozen):
    factories.booking(door.display.room, alice, at(10), minutes=60)
    first = etag(client, door)
    valid_until = datetime.fromisoformat(client.get(door.status).json()["valid_until"])
    assert valid_until == at(9, 45)

    frozen.move_to(valid_until - timedelta(seconds=1))
    assert poll(client, door, first).status_code == 304
    frozen.move_to(valid_until)
    response = poll(client, door, first)

    assert response.status_code == 200
    assert response["ETag"] != first
    assert response.json()["state"] == "soon"


@pytest.mark.django_db
def test_it_changes_the_etag_when_a_booking_is_created_moved_or_cancelled(
    client, door, alice, frozen, django_capture_on_commit_callbacks
):
    room = door.display.room
    tags = [etag(client, door)]

    def after(change) -> str:
        """Run a change through the service, deliver the outbox as the worker would, poll."""
        result = change()
        deliver_outbox()
        response = poll(client, door, tags[-1])
        assert response.status_code == 200, "the ETag did not change"
        tags.append(response["ETag"])
        assert poll(client, door, tags[-1]).status_code == 304
        return result

    booking = after(lambda: create_booking(room=room, organizer=alice, title="Neu", start=at(10), end=at(11)))
    after(lambda: update_booking(booking=booking, actor=alice, start=at(12), end=at(13)))
    after(lambda: cancel_booking(booking=booking, actor=alice))

    assert len(set(tags[:3])) == 3
    # Cancelled, the day is as it was: the same bytes, so the same strong ETag.
    assert tags[3] == tags[0]
    assert client.get(door.status).json()["bookings"] == []


@pytest.mark.django_db
def test_it_changes_the_etag_of_both_rooms_when_a_booking_moves_between_them(
    client, make_display, alice, frozen
):
    first_room, second_room = factories.room(), factories.room()
    _d, first_raw = make_display(first_room)
    _d, second_raw = make_display(second_room)
    booking = create_booking(room=first_room, organizer=alice, title="Wandert", start=at(10), end=at(11))
    deliver_outbox()
    before = {raw: client.get(f"/d/{raw}/status.json")["ETag"] for raw in (first_raw, second_raw)}

    update_booking(booking=booking, actor=alice, room=second_room)
    deliver_outbox()

    for raw in (first_raw, second_raw):
        response = client.get(f"/d/{raw}/status.json", headers={"If-None-Match": before[raw]})
        assert response.status_code == 200, raw
    assert client.get(f"/d/{first_raw}/status.json").json()["bookings"] == []
    assert [b["id"] for b in client.get(f"/d/{second_raw}/status.json").json()["bookings"]] == [booking.pk]


@pytest.mark.django_db
def test_it_changes_the_etag_when_a_series_is_created(client, door, alice, frozen):
    first = etag(client, door)

    create_series(
        room=door.display.room,
        organizer=alice,
        title="Jour fixe",
        start=at(14),
        end=at(15),
        rrule="FREQ=DAILY;COUNT=3",
    )
    deliver_outbox()

    assert poll(client, door, first).status_code == 200


@pytest.mark.django_db
def test_it_keeps_the_etag_when_another_room_or_another_day_changes(client, door, alice, frozen):
    first = etag(client, door)

    create_booking(room=factories.room(), organizer=alice, title="Anderswo", start=at(10), end=at(11))
    create_booking(
        room=door.display.room,
        organizer=alice,
        title="Morgen",
        start=at(10) + timedelta(days=1),
        end=at(11) + timedelta(days=1),
    )
    deliver_outbox()

    # The room's version was bumped for tomorrow's booking, so the status is rebuilt;
    # today's bytes are the same, and so is the strong ETag.
    assert poll(client, door, first).status_code == 304


@pytest.mark.django_db
def test_it_answers_a_304_poll_without_sql(client, door, alice, frozen, django_assert_num_queries):
    factories.booking(door.display.room, alice, at(10), minutes=60, title="Planung")
    first = etag(client, door)  # fills Redis: token, version, status

    with django_assert_num_queries(0):
        response = poll(client, door, first)
        again = client.get(door.status)  # a 200 from Redis costs nothing either

    assert response.status_code == 304
    assert again.status_code == 200 and again.json()["bookings"][0]["title"] == "Planung"


@pytest.mark.django_db
def test_it_falls_back_to_postgresql_when_redis_is_down(client, door, alice, frozen):
    factories.booking(door.display.room, alice, at(10), minutes=60, title="Planung")
    with_redis = client.get(door.status)

    with override_settings(REDIS_URL="unix:///nonexistent/rfr/redis.sock?db=0"):
        cache.reset()
        first = client.get(door.status)
        second = poll(client, door, first["ETag"])
        page = client.get(door.path)

    assert first.status_code == 200 and first.json() == with_redis.json()
    assert first["ETag"] == with_redis["ETag"]
    assert second.status_code == 304
    assert page.status_code == 200


@pytest.mark.django_db
def test_it_answers_304_to_the_weak_etag_of_a_compressed_answer(client, door, alice, frozen):
    # A browser asks for gzip; the compressing middleware turns the tag weak (W/"…"), and
    # the browser sends that back: it must still match, or every poll rebuilds the status.
    factories.booking(door.display.room, alice, at(10), minutes=60, title="Sprint-Review " * 12)
    response = client.get(door.status, headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    weak = response["ETag"]
    assert weak.startswith('W/"')

    again = poll(client, door, weak)

    assert again.status_code == 304
    assert again["ETag"].removeprefix("W/") == weak.removeprefix("W/")
    assert poll(client, door, 'W/"something-else"').status_code == 200
