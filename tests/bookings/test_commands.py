"""Management commands operators and the README rely on, and the write-once media storage."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from bookings.models import ApiToken, Booking, BookingEvent, Building, Room, Site
from bookings.storage import ContentAddressedStorage


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> dict:
    return {
        "sites": Site.objects.count(),
        "buildings": Building.objects.count(),
        "rooms": Room.objects.count(),
        "users": User.objects.count(),
        "bookings": Booking.objects.count(),
        "events": BookingEvent.objects.count(),
    }


# --- seed_demo ---------------------------------------------------------------------------


@pytest.fixture
def seeded(db) -> str:
    out, _err = run("seed_demo")
    return out


@pytest.mark.django_db
def test_it_seeds_two_sites_in_different_time_zones_with_enough_rooms(seeded):
    assert set(Site.objects.values_list("name", "time_zone")) == {
        ("Berlin", "Europe/Berlin"),
        ("New York", "America/New_York"),
    }
    assert Room.objects.count() >= 50
    assert Room.objects.filter(floor__building__site__time_zone="America/New_York").exists()
    assert Booking.objects.filter(status="confirmed").count() > 0
    assert f"{Room.objects.count()} rooms" in seeded


@pytest.mark.django_db
def test_it_seeds_an_admin_and_a_demo_user_whose_printed_passwords_work(client, seeded):
    logins = dict(re.findall(r"(\w+) / (\S+) \(", seeded))

    assert set(logins) == {"admin", "demo", "empfang"}  # empfang: the reception (visitors/demo.py)
    admin, demo = User.objects.get(username="admin"), User.objects.get(username="demo")
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert (demo.is_superuser, demo.is_staff) == (False, True)
    for username, password in logins.items():
        assert client.login(username=username, password=password), username
        # The reception user works the reception's pages, not the admin.
        page = client.get("/admin/" if username != "empfang" else "/reception/", follow=True)
        assert page.status_code == 200
        client.logout()
    assert not client.login(username="admin", password="wrong")


@pytest.mark.django_db
def test_it_seeds_only_once(seeded):
    before = counts()

    second, _err = run("seed_demo")

    assert counts() == before
    assert "0 new bookings" in second


@pytest.mark.django_db
def test_it_keeps_a_changed_demo_password_on_a_second_seed(client, seeded):
    demo = User.objects.get(username="demo")
    demo.set_password("mein-eigenes-2026")
    demo.save()

    run("seed_demo")

    assert client.login(username="demo", password="mein-eigenes-2026")


# --- issue_token ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_prints_a_token_that_authenticates_against_the_api(client, alice):
    out, err = run("issue_token", "alice", "--name", "Kalender")

    raw = out.strip().splitlines()[-1]
    response = client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json() == []
    token = ApiToken.objects.get(user=alice)
    assert token.name == "Kalender"
    assert raw.startswith(token.prefix)
    assert raw not in err  # the hint goes to stderr, the secret only to stdout
    assert token.prefix in err


@pytest.mark.django_db
def test_it_issues_a_fresh_token_each_time(client, alice):
    first = run("issue_token", "alice")[0].strip().splitlines()[-1]
    second = run("issue_token", "alice")[0].strip().splitlines()[-1]

    assert first != second
    for raw in (first, second):
        assert client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_token_for_an_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        run("issue_token", "nobody")

    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_token_for_an_inactive_user(bob):
    bob.is_active = False
    bob.save()

    with pytest.raises(CommandError, match="inactive"):
        run("issue_token", "bob")

    assert ApiToken.objects.count() == 0


# --- content-addressed storage -------------------------------------------------------------


@pytest.fixture
def storage(tmp_path) -> ContentAddressedStorage:
    return ContentAddressedStorage(location=tmp_path / "media", base_url="/media/")


def stored_files(storage: ContentAddressedStorage) -> list:
    return sorted(p for p in storage.base_location.rglob("*") if p.is_file())


def test_it_names_a_file_by_its_sha256_and_stores_the_same_bytes_once(storage):
    photo = b"\x89PNG\r\n\x1a\n" + b"room photo" * 100

    first = storage.save("rooms/spree.PNG", ContentFile(photo))
    second = storage.save("rooms/spree-copy.png", ContentFile(photo))

    sha = hashlib.sha256(photo).hexdigest()
    assert first == second == f"{sha[:2]}/{sha}.png"
    assert len(stored_files(storage)) == 1
    with storage.open(first) as handle:
        assert handle.read() == photo
    assert storage.url(first) == f"/media/{first}"


def test_it_gives_different_bytes_different_names(storage):
    one = storage.save("a.jpg", ContentFile(b"one"))
    two = storage.save("a.jpg", ContentFile(b"two"))

    assert one != two
    assert len(stored_files(storage)) == 2
    assert storage.open(one).read() == b"one"
    assert storage.open(two).read() == b"two"


def test_it_never_deletes_a_stored_file(storage):
    name = storage.save("plan.pdf", ContentFile(b"%PDF-1.7 Raumplan"))

    storage.delete(name)

    assert storage.exists(name)
    assert storage.open(name).read() == b"%PDF-1.7 Raumplan"


def test_it_leaves_no_temporary_files_and_keeps_files_read_only(storage):
    name = storage.save("x.txt", ContentFile(b"write once"))

    assert [p.name for p in stored_files(storage)] == [name.split("/")[1]]
    assert stored_files(storage)[0].stat().st_mode & 0o222 == 0
