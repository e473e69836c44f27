"""status.json and the kiosk page: states, the day in the site's zone, privacy, 404s."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest

from bookings.models import Booking
from displays.models import Display
from displays.services import revoke_display, rotate_token
from tests import factories
from tests.helpers import frozen_at, on_the_day_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A Tuesday in winter (UTC+1); every test travels here and stops the clock.
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)


at = on_the_day_of(MORNING)
frozen = frozen_at(MORNING)


def status_of(client, door) -> dict:
    response = client.get(door.status)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "state", "label", "valid_until"),
    [
        (at(8, 0), "free", "Frei", at(9, 45)),
        (at(9, 45), "soon", "Bald belegt", at(10, 0)),
        (at(10, 5), "awaiting_check_in", "Wartet auf Check-in", at(11, 0)),
        (at(11, 30), "free", "Frei", at(14, 45)),
        (at(15, 0), "occupied", "Belegt", at(16, 0)),
        (at(17, 0), "free", "Frei", datetime(2026, 12, 2, 0, 0, tzinfo=BERLIN)),
    ],
)
def test_it_tells_the_state_and_when_it_changes(client, door, alice, frozen, now, state, label, valid_until):
    room = door.display.room
    factories.booking(room, alice, at(10), minutes=60, title="Planung")
    factories.booking(room, alice, at(15), minutes=60, title="Review", checked_in_at=at(14, 55))
    frozen.move_to(now)

    body = status_of(client, door)

    assert (body["state"], body["label"]) == (state, label)
    assert datetime.fromisoformat(body["valid_until"]) == valid_until
    assert [b["title"] for b in body["bookings"]] == ["Planung", "Review"]
    assert [(b["start_local"], b["end_local"]) for b in body["bookings"]] == [
        ("10:00", "11:00"),
        ("15:00", "16:00"),
    ]


@pytest.mark.django_db
def test_it_offers_check_in_and_book_now_only_where_they_fit(client, door, alice, frozen):
    running = factories.booking(door.display.room, alice, at(9), minutes=30)
    factories.booking(door.display.room, alice, at(10), minutes=30)

    frozen.move_to(at(9, 10))
    body = status_of(client, door)
    assert body["check_in"] == running.pk
    assert body["book_now_minutes"] == []

    frozen.move_to(at(9, 31))
    body = status_of(client, door)
    assert body["check_in"] is None  # the next one starts in 29 minutes, not soon
    # The page offers only what fits before free_until: 15 minutes here.
    assert body["book_now_minutes"] == [15, 30, 60]
    assert datetime.fromisoformat(body["free_until"]) == at(10)


@pytest.mark.django_db
def test_it_shows_the_day_in_the_sites_time_zone(client, make_display, alice, frozen):
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    room = factories.room(factories.floor(factories.building(factories.site(time_zone="Asia/Tokyo"))))
    _display, raw = make_display(room)
    # 09:00 Berlin is 17:00 in Tokyo: a booking 18:00-19:00 Tokyo is today's, one at
    # 08:00 Tokyo tomorrow is not, though it is still "today" in Berlin.
    factories.booking(room, alice, at(18, tz=tokyo), minutes=60, title="Abend")
    factories.booking(room, alice, at(8, tz=tokyo) + timedelta(days=1), minutes=60, title="Morgen")

    response = client.get(f"/d/{raw}/status.json")

    body = response.json()
    assert [(b["title"], b["start_local"]) for b in body["bookings"]] == [("Abend", "18:00")]
    assert body["utc_offset_minutes"] == 540
    assert datetime.fromisoformat(body["valid_until"]) == at(17, 45, tz=tokyo)


@pytest.mark.django_db
def test_it_leaves_out_cancelled_bookings(client, door, alice, frozen):
    factories.booking(door.display.room, alice, at(10), title="Abgesagt", status=Booking.Status.CANCELLED)

    body = status_of(client, door)

    assert body["bookings"] == [] and body["state"] == "free"


# --- privacy --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("privacy", [Display.Privacy.TITLES, Display.Privacy.OCCUPIED])
def test_it_never_shows_a_private_title(client, make_display, room, alice, frozen, privacy):
    _display, raw = make_display(room, privacy=privacy)
    factories.booking(room, alice, at(8, 30), minutes=60, title="Geheime Fusion", private=True)
    factories.booking(room, alice, at(10), minutes=60, title="Vertrauliche Kündigung", private=True)
    factories.booking(room, alice, at(11), minutes=60, title="Teamrunde")

    status_body = client.get(f"/d/{raw}/status.json").content.decode()
    page = client.get(f"/d/{raw}").content.decode()

    for text in (status_body, page):
        assert "Geheime Fusion" not in text
        assert "Vertrauliche Kündigung" not in text
        assert ("Teamrunde" in text) == (privacy == Display.Privacy.TITLES)
    assert "Belegt" in page


@pytest.mark.django_db
def test_it_shows_public_titles_when_the_display_shows_titles(client, door, alice, frozen):
    factories.booking(door.display.room, alice, at(8, 30), minutes=60, title="Teamrunde")

    body = status_of(client, door)
    page = client.get(door.path).content.decode()

    assert body["current"]["title"] == "Teamrunde"
    assert "Teamrunde" in page


# --- the page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_renders_the_page_in_the_displays_language(client, make_display, room, frozen):
    _d, german = make_display(room)
    _d, english = make_display(room, language="en")

    de = client.get(f"/d/{german}", headers={"Accept-Language": "en"})
    en = client.get(f"/d/{english}")

    assert de.status_code == en.status_code == 200
    assert '<html lang="de">' in de.content.decode() and "Frei" in de.content.decode()
    assert "Heute" in de.content.decode()
    assert '<html lang="en">' in en.content.decode() and ">Free<" in en.content.decode()
    assert "<svg" in de.content.decode()  # the QR code, rendered on the server
    assert "http" not in de.content.decode().split("<svg", 1)[0].split("<body", 1)[1]


@pytest.mark.django_db
def test_it_needs_nothing_from_outside(client, door):
    page = client.get(door.path).content.decode()

    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page


# --- tokens --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["", "/status.json"])
def test_it_answers_404_for_an_unknown_token(client, door, suffix):
    assert client.get(f"/d/{'x' * 32}{suffix}").status_code == 404
    assert client.get(f"/d/{door.raw[:-1]}{suffix}").status_code == 404
    assert client.get(f"/d/{door.raw}{suffix}").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["", "/status.json", "/check-in", "/book-now"])
def test_it_answers_404_for_a_revoked_token_even_after_caching_it(
    client, door, suffix, django_capture_on_commit_callbacks
):
    assert client.get(door.status).status_code == 200  # now cached in Redis

    with django_capture_on_commit_callbacks(execute=True):
        revoke_display(display=door.display)

    method = client.post if suffix in ("/check-in", "/book-now") else client.get
    assert method(f"{door.path}{suffix}").status_code == 404


@pytest.mark.django_db
def test_it_stores_only_the_tokens_hash_and_rotating_replaces_it(
    client, door, django_capture_on_commit_callbacks
):
    assert door.raw not in str(Display.objects.filter(pk=door.display.pk).values().get())
    assert client.get(door.status).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        new = rotate_token(display=door.display)

    assert client.get(door.status).status_code == 404
    assert client.get(f"/d/{new}/status.json").status_code == 200
