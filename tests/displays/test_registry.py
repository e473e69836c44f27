"""The registry: add_display, the admin (add, rotate, revoke), last seen, the fleet view."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from displays import lookup
from displays.models import Display
from tests import factories


def add_display(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("add_display", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@override_settings(RFR_PUBLIC_URL="http://raum.example.com")
def test_it_adds_a_display_and_prints_a_working_url_last(client, room):
    out, _err = add_display("--room", str(room.pk), "--name", "Eingang Nord")

    url = out.strip().splitlines()[-1]
    assert re.fullmatch(r"http://raum\.example\.com/d/[A-Za-z0-9_-]{32}", url)
    display = Display.objects.get()
    assert (display.name, display.room, display.language) == ("Eingang Nord", room, "de")
    assert url.rsplit("/", 1)[1] not in str(Display.objects.values().get())  # only the hash is kept
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200 and room.name in page.content.decode()


@pytest.mark.django_db
def test_it_refuses_an_unknown_room(room):
    with pytest.raises(CommandError, match="No room with id"):
        add_display("--room", str(room.pk + 1000))
    assert Display.objects.count() == 0


# --- admin ------------------------------------------------------------------------------


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def path_in(text: str) -> str:
    return re.search(r"/d/[A-Za-z0-9_-]{32}", text).group(0)


@pytest.mark.django_db
def test_it_shows_the_url_once_when_an_admin_adds_a_display(admin_client, client, room):
    response = admin_client.post(
        "/admin/displays/display/add/",
        {
            "room": room.pk,
            "name": "Foyer",
            "language": "en",
            "privacy": "occupied",
            "allow_check_in": "on",
            "pin": "2468",
            "push_url": "",
        },
        follow=True,
    )

    assert response.status_code == 200
    [message] = [m for m in messages_of(response) if "/d/" in m]
    display = Display.objects.get()
    assert display.has_pin and "2468" not in display.pin_hash
    assert (display.allow_check_in, display.allow_book_now) == (True, False)
    assert client.get(path_in(message)).status_code == 200


@pytest.mark.django_db
def test_it_rejects_a_pin_that_is_not_4_to_8_digits(admin_client, room):
    response = admin_client.post(
        "/admin/displays/display/add/",
        {"room": room.pk, "language": "de", "privacy": "titles", "pin": "12ab"},
    )

    assert response.status_code == 200
    assert "Eine PIN hat 4 bis 8 Ziffern." in response.content.decode()
    assert Display.objects.count() == 0


@pytest.mark.django_db
def test_it_rotates_and_revokes_tokens_through_admin_actions(
    admin_client, client, door, django_capture_on_commit_callbacks
):
    assert client.get(door.status).status_code == 200  # cached in Redis from now on
    changelist = "/admin/displays/display/"

    with django_capture_on_commit_callbacks(execute=True):
        rotated = admin_client.post(
            changelist, {"action": "rotate_tokens", "_selected_action": [door.display.pk]}, follow=True
        )
    new_path = path_in(" ".join(messages_of(rotated)))

    assert client.get(door.status).status_code == 404
    assert client.get(f"{new_path}/status.json").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "revoke_selected", "_selected_action": [door.display.pk]})

    assert client.get(f"{new_path}/status.json").status_code == 404
    assert client.get(new_path).status_code == 404


@pytest.mark.django_db
def test_it_applies_admin_edits_at_the_next_poll(
    admin_client, client, door, alice, django_capture_on_commit_callbacks
):
    factories.booking(door.display.room, alice, timezone.now() + timedelta(minutes=5), title="Teamrunde")
    assert "Teamrunde" in client.get(door.status).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/displays/display/{door.display.pk}/change/",
            {"room": door.display.room_id, "name": "Tür", "language": "de", "privacy": "occupied"},
        )

    assert response.status_code == 302
    assert "Teamrunde" not in client.get(door.status).content.decode()


# --- last seen and the fleet ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_records_polls_in_redis_and_writes_them_once_a_minute(client, door, django_assert_num_queries):
    headers = {"User-Agent": "KioskBrowser/1.0", "X-RFR-Kiosk": "0.1.0"}
    client.get(door.status, headers=headers)
    tag = client.get(door.status, headers=headers)["ETag"]
    with django_assert_num_queries(0):
        for _ in range(5):
            client.get(door.status, headers={**headers, "If-None-Match": tag})
    door.display.refresh_from_db()
    assert door.display.last_seen_at is None  # not one write per poll

    assert lookup.flush_seen() == 1
    assert lookup.flush_seen() == 0

    door.display.refresh_from_db()
    assert timezone.now() - door.display.last_seen_at < timedelta(seconds=30)
    assert door.display.last_seen_user_agent == "KioskBrowser/1.0"
    assert door.display.last_seen_version == "0.1.0"
    assert door.display.last_seen_address == "127.0.0.1"


@pytest.mark.django_db
def test_it_shows_staff_the_fleet_with_offline_displays_first(client, make_display, fiona):
    room = factories.room(name="Atlas")
    _online, online_raw = make_display(room, name="Läuft")
    _offline, _ = make_display(room, name="Schweigt")
    stale, _ = make_display(room, name="Verstummt")
    Display.objects.filter(pk=stale.pk).update(last_seen_at=timezone.now() - timedelta(minutes=30))
    client.get(f"/d/{online_raw}/status.json", headers={"User-Agent": "Panel/2"})
    client.force_login(fiona)

    response = client.get("/displays/fleet/")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Schweigt") < page.index("Läuft")
    assert page.index("Verstummt") < page.index("Läuft")
    assert "Panel/2" in page
    assert "2 offline" in page


@pytest.mark.django_db
def test_it_keeps_the_fleet_from_everyone_else(client, alice):
    assert client.get("/displays/fleet/").status_code == 302
    client.force_login(alice)
    response = client.get("/displays/fleet/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_it_counts_a_display_offline_after_the_configured_minutes(client, door, fiona):
    client.get(door.status)
    lookup.flush_seen()
    client.force_login(fiona)

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        page = client.get("/displays/fleet/").content.decode()
    with (
        override_settings(RFR_DISPLAY_OFFLINE_MINUTES=10),
        time_machine.travel(timezone.now() + timedelta(minutes=6)),
    ):
        later = client.get("/displays/fleet/").content.decode()

    assert "1 offline" in page
    assert "0 offline" in later
    assert User.objects.filter(username__startswith="rfr-display-").count() == 0


@pytest.mark.django_db
def test_it_lists_and_shows_displays_in_the_admin(admin_client, door):
    listing = admin_client.get("/admin/displays/display/")
    change = admin_client.get(f"/admin/displays/display/{door.display.pk}/change/")
    add = admin_client.get("/admin/displays/display/add/")

    assert listing.status_code == change.status_code == add.status_code == 200
    assert "Tür" in listing.content.decode()
    assert door.raw not in change.content.decode()  # the token is never shown again
