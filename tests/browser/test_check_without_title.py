"""“Kann ich das buchen?” answers without a title: the title is needed to book, not to ask."""

from __future__ import annotations

import pytest

from bookings.models import Booking
from tests import factories
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("page", "ask", "answer"),
    [
        ("de-DE", "Kann ich das buchen?", "Sie können diesen Raum zu dieser Zeit buchen."),
        ("en-US", "Can I book this?", "You can book this room at this time."),
    ],
    indirect=["page"],
)
def test_it_answers_whether_a_slot_can_be_booked_without_a_title(
    gunicorn_server, page, alice, room, ask, answer
):
    day = factories.days_ahead(2)
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/book/?room={room.pk}&date={day.isoformat()}&start=09:00&end=10:00")
    assert page.locator("#id_title").input_value() == ""
    page.get_by_role("button", name=ask).click()
    page.wait_for_load_state()
    assert page.locator("#check-heading").inner_text() == answer
    assert not Booking.objects.exists()
