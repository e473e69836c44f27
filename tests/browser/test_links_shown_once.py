"""Links shown once (calendar feed, door display URL): a copy button, and a QR code for a display."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

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
    assert page.locator("[data-copy-status=feed-url]").inner_text() == copied
    assert page.evaluate("navigator.clipboard.readText()") == address


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("ada", "ada@example.com", "ada-pw-123")


@pytest.mark.parametrize(
    ("page", "header", "pending", "saved", "copied"),
    [
        ("de-DE", "raum]für[raum · Verwaltung", "Freigaben 1 offen", "Sichern", "In die Zwischenablage kopiert."),
        ("en-US", "raum]für[raum · Administration", "Approvals 1 pending", "Save", "Copied to the clipboard."),
    ],
    indirect=["page"],
)
def test_it_shows_a_new_display_url_with_copy_button_and_qr_code_in_our_admin(
    gunicorn_server, page, admin_user, alice, room, header, pending, saved, copied
):
    managers = Group.objects.create(name="Raumverwaltung")
    admin_user.groups.add(managers)
    policy = Policy.objects.create(room=room, requires_approval=True)
    policy.managers.add(managers)
    factories.booking(room, alice, factories.tomorrow_at(9), status=Booking.Status.PENDING)
    allow_clipboard(page, gunicorn_server)
    sign_in(page, gunicorn_server, "ada", "ada-pw-123")
    page.goto(f"{gunicorn_server}/admin/")
    assert page.locator("#site-name").inner_text() == header
    nav = page.locator(".rfr-admin-nav")
    assert nav.get_by_role("link", name=pending).is_visible()

    page.goto(f"{gunicorn_server}/admin/displays/display/add/")
    page.select_option("#id_room", str(room.pk))
    page.fill("#id_name", "Tür Spree")
    page.locator("input[name=_save]").click()
    message = page.locator(".messagelist .success")
    url = message.locator("input[readonly]").input_value()
    assert url.startswith("http://") and "/d/" in url
    assert message.locator(".display-qr svg").is_visible()
    message.get_by_role("button").click()
    assert message.locator("[role=status]").inner_text() == copied
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert Display.objects.get().name == "Tür Spree"
