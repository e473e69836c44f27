"""Delegates in real Chromium: alice names bob, bob books "for" her by keyboard, both see it."""

from __future__ import annotations

import re

import pytest

from bookings.models import Booking, Delegation
from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_lets_alice_name_bob_and_bob_book_for_her(gunicorn_server, chromium, page, alice, bob):
    alice.first_name, alice.last_name = "Alice", "Anders"
    alice.save()
    building = factories.building(name="Haus A")
    spree = factories.room(factories.floor(building, name="EG"), name="Spree", capacity=4)
    day = factories.days_ahead(2)

    # Alice names bob on her delegates page, reached from My bookings.
    sign_in(page, gunicorn_server, "alice", "alice-pw-123", next_path="/my/")
    page.get_by_role("link", name="Vertretungen").click()
    assert page.get_by_role("heading", name="Wer für Sie buchen darf").is_visible()
    page.get_by_label("Vertretung hinzufügen").fill("bob")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/my/delegates/$"))
    assert "bob darf jetzt für Sie buchen." in page.locator(".message.success").inner_text()
    assert page.locator("#given li").all_inner_texts()[0].startswith("bob")
    assert problems(page) == []

    # Bob chooses "Buchen für: Alice Anders" in the dialog and books.
    bobs_context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    bobs_context.set_default_timeout(10_000)
    bobs = bobs_context.new_page()
    try:
        sign_in(bobs, gunicorn_server, "bob", "bob-pw-123", next_path="/book/")
        bobs.goto(f"{gunicorn_server}/book/?room={spree.pk}&date={day}&start=09:00&end=10:00")
        bobs.get_by_label("Buchen für").select_option(label="Alice Anders")
        bobs.get_by_label("Titel").fill("Vorstand")
        assert problems(bobs) == []
        bobs.get_by_role("button", name="Buchen", exact=True).click()
        bobs.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
        message = bobs.locator(".message.success").inner_text()
        assert "„Vorstand“ gebucht: Spree" in message
        assert "Gebucht im Namen von Alice Anders" in message
        assert "für Alice Anders" in bobs.locator("#upcoming-heading + ul .on-behalf").inner_text()
    finally:
        bobs_context.close()

    booking = Booking.objects.get()
    assert (booking.organizer, booking.booked_by) == (alice, bob)
    # Alice sees it among her bookings, with who made it.
    page.goto(f"{gunicorn_server}/my/")
    assert page.locator("#upcoming-heading + ul .on-behalf").inner_text() == "gebucht von bob"

    # She takes the delegation back; bob no longer sees "Buchen für".
    page.goto(f"{gunicorn_server}/my/delegates/")
    page.get_by_role("button", name="Entfernen bob").click()
    page.wait_for_url(re.compile(r".*/my/delegates/$"))
    assert Delegation.objects.get().revoked_at is not None
    assert "Noch darf niemand für Sie buchen." in page.locator("main").inner_text()


@pytest.mark.parametrize("page", ["en-GB"], indirect=True)
def test_it_shows_the_delegates_page_and_the_dialog_in_english(gunicorn_server, page, alice, bob):
    Delegation.objects.create(principal=alice, delegate=bob, granted_by=alice)
    factories.room(factories.floor(factories.building(name="Haus A"), name="EG"), name="Spree")

    sign_in(page, gunicorn_server, "bob", "bob-pw-123", next_path="/my/delegates/")
    assert page.get_by_role("heading", name="For whom you may book").is_visible()
    assert "alice" in page.locator("#received").inner_text()
    page.get_by_label("Add a delegate").fill("nobody-here")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_load_state()
    assert "There is no single active person" in page.locator(".errorlist").inner_text()
    assert page.get_by_label("Add a delegate").get_attribute("aria-invalid") == "true"
    assert problems(page) == []

    page.goto(f"{gunicorn_server}/book/")
    assert page.get_by_label("Book for").locator("option").all_inner_texts() == ["myself", "alice"]
    assert problems(page) == []
