"""One meeting in several rooms, in real Chromium: searched, rooms ticked by keyboard only, booked.

German and English; axe-core finds nothing serious on the search, the refusal and the meeting page.
"""

from __future__ import annotations

import re

import pytest

from bookings.models import Booking, Meeting
from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GERMAN = {
    "search": "Freie Räume suchen",
    "found": "3 Räume für die Besprechung",
    "legend": "Gemeinsam zu buchende Räume",
    "book": "Diese Räume gemeinsam buchen",
    "too_few": "Eine Besprechung in mehreren Räumen braucht mindestens zwei Räume.",
    "booked": "„Workshop“ in 2 Räumen zur selben Zeit gebucht.",
    "rooms": "Räume",
}
ENGLISH = {
    "search": "Search free rooms",
    "found": "3 rooms for the meeting",
    "legend": "Rooms to book together",
    "book": "Book these rooms together",
    "too_few": "A meeting in several rooms needs at least two rooms.",
    "booked": "“Workshop” booked in 2 rooms at the same time.",
    "rooms": "Rooms",
}


def _tab_to(page, locator, most: int = 8) -> None:
    """Press Tab until ``locator`` has the focus (as a keyboard user would), or fail."""
    for _ in range(most):
        if locator.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    assert locator.evaluate("el => el === document.activeElement"), "not reached by Tab"


@pytest.mark.parametrize(("page", "words"), [("de-DE", GERMAN), ("en-GB", ENGLISH)], indirect=["page"])
def test_it_finds_rooms_for_a_meeting_and_books_the_ones_ticked_by_keyboard(
    gunicorn_server, page, words, alice
):
    floor = factories.floor(factories.building(factories.site("Berlin"), "Haus A"), "EG")
    for name in ("Elbe", "Havel", "Spree"):
        factories.room(floor, name, capacity=8)
    factories.room(floor, "Klein", capacity=4)  # too small for 6 people
    day = factories.days_ahead(2)

    sign_in(page, gunicorn_server, "alice", "alice-pw-123", next_path="/meetings/new/")
    page.select_option("#id_place", label="Haus A")
    page.fill("#id_date", day.isoformat())
    page.fill("#id_start", "09:00")
    page.fill("#id_end", "10:00")
    page.fill("#id_count", "3")
    page.fill("#id_people", "6")
    page.fill("#id_title", "Workshop")
    page.get_by_role("button", name=words["search"]).click()
    page.wait_for_load_state()

    assert page.locator("#meeting-results-heading").inner_text() == words["found"]
    group = page.get_by_role("group", name=words["legend"])
    boxes = group.get_by_role("checkbox")
    # The three rooms big enough (not Klein), each box named by its room, all ticked to begin with.
    assert boxes.count() == 3
    assert all(group.get_by_role("checkbox", name=name).is_checked() for name in ("Elbe", "Havel", "Spree"))
    assert problems(page) == []

    # Havel and Spree unticked by keyboard, only Elbe left: refused, the message tied to the
    # rooms, and nothing booked.
    group.get_by_role("checkbox", name="Elbe").focus()
    for name in ("Havel", "Spree"):
        page.keyboard.press("Tab")
        box = group.get_by_role("checkbox", name=name)
        assert box.evaluate("el => el === document.activeElement")
        page.keyboard.press("Space")
        assert not box.is_checked()
    book = page.get_by_role("button", name=words["book"])
    _tab_to(page, book)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    error = page.get_by_role("alert").filter(has_text=words["too_few"])
    assert error.count() == 1
    group = page.get_by_role("group", name=words["legend"])
    assert group.get_attribute("aria-describedby") == error.get_attribute("id")
    assert group.get_by_role("checkbox", name="Elbe").is_checked()  # what was ticked stays ticked
    assert not Booking.objects.exists()
    assert problems(page) == []

    # Havel ticked again by keyboard, then book: one meeting in both rooms.
    group.get_by_role("checkbox", name="Elbe").focus()
    page.keyboard.press("Tab")
    havel = group.get_by_role("checkbox", name="Havel")
    assert havel.evaluate("el => el === document.activeElement")
    page.keyboard.press("Space")
    assert havel.is_checked() and not group.get_by_role("checkbox", name="Spree").is_checked()
    book = page.get_by_role("button", name=words["book"])
    _tab_to(page, book)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/meetings/\d+/$"))

    meeting = Meeting.objects.get()
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    assert sorted(
        Booking.objects.filter(meeting_room__meeting=meeting).values_list("room__name", flat=True)
    ) == [
        "Elbe",
        "Havel",
    ]
    # Focus is on the confirmation, so a screen reader reads it out first.
    confirmation = page.locator(".messages .message")
    page.wait_for_function("document.activeElement && document.activeElement.matches('.messages .message')")
    assert confirmation.inner_text().strip() == words["booked"]
    table = page.get_by_role("region", name=words["rooms"])
    assert table.get_by_role("rowheader").count() == 2
    assert problems(page) == []
