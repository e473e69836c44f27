"""The people picker in real Chromium: found by keyboard, chosen, announced, and invited."""

from __future__ import annotations

import re

import pytest

from bookings.models import Booking
from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("page", "words"),
    [
        ("de-DE", ("Personen im Verzeichnis suchen", "hinzugefügt: Bob Baumann", "Titel", "Einladungen an")),
        ("en-GB", ("Find people in the directory", "added: Bob Baumann", "Title", "Send invitations")),
    ],
    indirect=["page"],
)
def test_it_picks_a_colleague_by_keyboard_and_invites_them(gunicorn_server, page, words, alice, bob):
    search_label, announced, title, invite = words
    bob.first_name, bob.last_name = "Bob", "Baumann"
    bob.save()
    factories.user("berta", first_name="Berta", last_name="Baumann")
    spree = factories.room(factories.floor(factories.building(name="Haus A"), name="EG"), name="Spree")
    day = factories.days_ahead(2)

    sign_in(page, gunicorn_server, "alice", "alice-pw-123", next_path="/book/")
    page.goto(f"{gunicorn_server}/book/?room={spree.pk}&date={day}&start=09:00&end=10:00")
    page.get_by_label(title).fill("Planung")
    search = page.get_by_role("combobox", name=search_label)
    search.focus()
    page.keyboard.type("baum")
    options = page.get_by_role("listbox", name=search_label).get_by_role("option")
    options.first.wait_for()
    assert options.all_inner_texts() == ["Berta Baumann <berta@example.com>", "Bob Baumann <bob@example.com>"]
    assert search.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    page.keyboard.press("Enter")  # chooses; does not send the form

    assert page.locator("#id_attendees").input_value() == "bob@example.com"
    assert page.get_by_role("status").filter(has_text=announced).count() == 1
    assert search.get_attribute("aria-expanded") == "false"
    assert problems(page) == []
    page.get_by_label(re.compile("^" + invite)).check()
    page.locator("form.booking-form button.primary").click()
    page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))

    booking = Booking.objects.get()
    assert (booking.attendees, booking.invite_attendees) == (["bob@example.com"], True)


@pytest.mark.parametrize(
    ("page", "words"),
    [
        ("de-DE", ("Person suchen, für die Sie buchen", "Sie buchen für: Bob Baumann", "Titel")),
        ("en-GB", ("Find the person you book for", "booking for: Bob Baumann", "Title")),
    ],
    indirect=["page"],
)
def test_it_lets_a_facility_admin_pick_whom_to_book_for_by_keyboard(gunicorn_server, page, words, fiona, bob):
    search_label, announced, title = words
    bob.first_name, bob.last_name = "Bob", "Baumann"
    bob.save()
    spree = factories.room(factories.floor(factories.building(name="Haus A"), name="EG"), name="Spree")
    day = factories.days_ahead(2)

    sign_in(page, gunicorn_server, "fiona", "fiona-pw-123", next_path="/book/")
    page.goto(f"{gunicorn_server}/book/?room={spree.pk}&date={day}&start=09:00&end=10:00")
    page.get_by_label(title).fill("Umzug")
    search = page.get_by_role("combobox", name=search_label)
    search.focus()
    page.keyboard.type("baum")
    page.get_by_role("listbox", name=search_label).get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    assert page.locator("#id_on_behalf").input_value() == "bob"
    assert page.get_by_role("status").filter(has_text=announced).count() == 1
    assert problems(page) == []
    page.locator("form.booking-form button.primary").click()
    page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))

    booking = Booking.objects.get()
    assert (booking.organizer, booking.booked_by) == (bob, fiona)
