"""Links shown once (calendar feed, door display URL): a copy button, and a QR code for a display."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from bookings.models import Booking, Policy
from displays.models import Display
from tests import factories
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def allow_clipboard(page, base: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)


@pytest.mark.parametrize(
    ("page", "create", "copy", "copied"),
    [
        ("de-DE", "Abo anlegen", "Kopieren", "In die Zwischenablage kopiert."),
        ("en-US", "Create subscription", "Copy", "Copied to the clipboard."),
    ],
    indirect=["page"],
)
def test_it_copies_a_new_calendar_address_with_one_click(gunicorn_server, page, alice, create, copy, copied):
    allow_clipboard(page, gunicorn_server)
    sign_in(page, gunicorn_server, "alice", "alice-pw-123", "/calendar/")
    page.get_by_role("button", name=create).click()
    address = page.locator("#feed-url").input_value()
    assert "/calendar/" in address and address.endswith(".ics")
    page.get_by_role("button", name=copy, exact=True).click()
    # The copy resolves asynchronously (navigator.clipboard): wait for the spoken status.
    expect(page.locator("[data-copy-status=feed-url]")).to_have_text(copied)
    assert page.evaluate("navigator.clipboard.readText()") == address


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("ada", "ada@example.com", "ada-pw-123")


def open_admin_as_manager(page, base: str, room, alice) -> None:
    """A superuser who also manages a room with one request waiting."""
    managers = Group.objects.create(name="Raumverwaltung")
    User.objects.get(username="ada").groups.add(managers)
    policy = Policy.objects.create(room=room, requires_approval=True)
    policy.managers.add(managers)
    factories.booking(room, alice, factories.tomorrow_at(9), status=Booking.Status.PENDING)
    allow_clipboard(page, base)
    sign_in(page, base, "ada", "ada-pw-123")
    page.goto(f"{base}/admin/")


def assert_url_shown_once(page, copied: str) -> str:
    message = page.locator(".messagelist .success")
    url = message.locator("input[readonly]").input_value()
    assert url.startswith("http://") and "/d/" in url
    assert message.locator(".display-qr svg").is_visible()
    message.get_by_role("button").click()
    expect(message.locator("[role=status]")).to_have_text(copied)
    assert page.evaluate("navigator.clipboard.readText()") == url
    return url


def test_it_shows_a_new_display_url_with_copy_button_and_qr_code_in_our_admin(
    gunicorn_server, page, admin_user, alice, room
):
    open_admin_as_manager(page, gunicorn_server, room, alice)
    assert page.locator("#site-name").inner_text() == "raum]für[raum · Verwaltung"
    assert page.locator(".rfr-admin-nav").get_by_role("link", name="Freigaben 1 offen").is_visible()
    assert page.locator(".rfr-admin-nav").get_by_role("link", name="Türschilder").is_visible()

    page.goto(f"{gunicorn_server}/admin/displays/display/add/")
    page.select_option("#id_room", str(room.pk))
    page.fill("#id_name", "Tür Spree")
    page.locator("input[name=_save]").click()
    assert_url_shown_once(page, "In die Zwischenablage kopiert.")
    assert Display.objects.get().name == "Tür Spree"


@pytest.mark.parametrize("page", ["en-US"], indirect=True)
def test_it_shows_a_rotated_display_url_with_copy_button_in_english(
    gunicorn_server, page, admin_user, alice, room
):
    display = Display.objects.create(
        room=room, name="Door Spree", token_hash="x" * 64, token_prefix="xxxxxxxx"
    )
    open_admin_as_manager(page, gunicorn_server, room, alice)
    assert page.locator("#site-name").inner_text() == "raum]für[raum · Administration"
    assert page.locator(".rfr-admin-nav").get_by_role("link", name="Approvals 1 pending").is_visible()

    page.goto(f"{gunicorn_server}/admin/displays/display/")
    page.locator(f"input[name=_selected_action][value='{display.pk}']").check()
    page.select_option("select[name=action]", "rotate_tokens")
    page.locator("button[name=index]").click()
    url = assert_url_shown_once(page, "Copied to the clipboard.")
    display.refresh_from_db()
    assert display.token_hash != "x" * 64 and display.token_prefix == url.rsplit("/", 1)[-1][:6]
