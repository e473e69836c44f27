"""The waiting list in real Chromium: bob finds Spree taken, joins the line, sees it, leaves it."""

from __future__ import annotations

import re

import pytest

from bookings.models import WaitingEntry
from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("page", "words"),
    [
        ("de-DE", ("Titel", "Buchen", "Auf die Warteliste", "Warteliste", "Warteliste verlassen")),
        ("en-GB", ("Title", "Book", "Join the waiting list", "Waiting list", "Leave the waiting list")),
    ],
    indirect=["page"],
)
def test_it_joins_the_waiting_list_from_a_taken_slot(gunicorn_server, page, words, alice, bob):
    title, book, join, heading, leave = words
    spree = factories.room(factories.floor(factories.building(name="Haus A"), name="EG"), name="Spree")
    day = factories.days_ahead(2)
    factories.booking(spree, alice, factories.on(day, 9), title="Planung")

    sign_in(page, gunicorn_server, "bob", "bob-pw-123", next_path="/book/")
    page.goto(f"{gunicorn_server}/book/?room={spree.pk}&date={day}&start=09:00&end=10:00")
    page.get_by_label(title).fill("Warten auf Spree")
    page.get_by_role("button", name=book, exact=True).click()
    page.wait_for_load_state()
    button = page.get_by_role("button", name=join)
    assert button.is_visible()
    assert problems(page) == []
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/my/#waiting-heading$"))

    entry = WaitingEntry.objects.get(person=bob)
    assert page.get_by_role("heading", name=heading).is_visible()
    assert "Warten auf Spree" in page.locator(f"#waiting-{entry.pk}").inner_text()
    assert problems(page) == []
    page.get_by_role(
        "button", name=f"{leave} „Warten auf Spree“" if words[0] == "Titel" else re.compile(leave)
    ).click()
    page.wait_for_load_state()
    entry.refresh_from_db()
    assert entry.status == "withdrawn"
