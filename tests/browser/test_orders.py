"""Coffee ordered for a meeting and the kitchen's day list, in real Chromium, German and English, with axe."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from orders.models import CostCentre, DayListLook, Item, Order, Provider, UserCostCentre
from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORDS = {
    "de-DE": {
        "show": "Preis anzeigen",
        "order": "Bestellen",
        "total": "Summe mit dieser Position: 11,75",
        "done": "geliefert",
        "deliver": "Als geliefert markieren",
        "confirm": "Bestätigen",
        "confirmed": "bestätigt",
        "new": "neu seit Ihrem letzten Blick",
        "print": "Tagesliste drucken (PDF)",
    },
    "en-GB": {
        "show": "Show price",
        "order": "Order",
        "total": "total with this line: 11.75",
        "done": "delivered",
        "deliver": "Mark delivered",
        "confirm": "Confirm",
        "confirmed": "confirmed",
        "new": "new since your last look",
        "print": "Print the day list (PDF)",
    },
}


def working_day_ahead(days: int):
    """A weekday at least ``days`` ahead, so the coffee's cut-off has not passed and it is delivered."""
    day = factories.days_ahead(days)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def kitchen(room):
    centre = CostCentre.objects.create(code="4711", name="Kantine")
    group = Group.objects.create(name="Kantine")
    provider = Provider.objects.create(
        site=room.floor.building.site, name="Kantine", cost_centre=centre, group=group
    )
    coffee = Item.objects.create(
        provider=provider,
        name="Kaffee",
        name_en="Coffee",
        unit="person",
        price=Decimal("2.35"),
        activity_type="KAFF",
    )
    cook = User.objects.create_user("koch", "koch@example.com", "koch-pw-123")
    cook.groups.add(group)
    return provider, coffee


@pytest.mark.parametrize("page", ["de-DE", "en-GB"], indirect=True)
def test_it_orders_coffee_and_the_kitchen_marks_it_delivered(gunicorn_server, page, room, alice, kitchen):
    provider, coffee = kitchen
    words = WORDS[page.context.pages[0].evaluate("navigator.language")]
    UserCostCentre.objects.create(
        user=alice, cost_centre=CostCentre.objects.create(code="2100", name="Vertrieb")
    )
    day = working_day_ahead(3)
    meeting = factories.booking(
        room, alice, factories.on(day, 9), title="Planung", attendees=[f"g{i}@x.de" for i in range(4)]
    )
    # The cook looked at the day list an hour ago: the line ordered since is marked new.
    DayListLook.objects.create(
        provider=provider, user=User.objects.get(username="koch"), seen_at=timezone.now() - timedelta(hours=1)
    )
    soon = timezone.now() + timedelta(minutes=90)
    today = factories.booking(room, alice, soon, title="Jour fixe")
    delivered = Order.objects.create(
        booking=today,
        item=coffee,
        quantity=2,
        price=coffee.price,
        amount=Decimal("4.70"),
        currency="EUR",
        deliver_at=soon,
        cost_centre=CostCentre.objects.get(code="2100"),
        ordered_by=alice,
        created_at=timezone.now(),
        note="mit Hafermilch",
    )

    sign_in(page, gunicorn_server, "alice", "alice-pw-123", next_path=f"/services/bookings/{meeting.pk}/")
    page.select_option("#id_item", str(coffee.pk))
    page.get_by_role("button", name=words["show"]).click()
    page.wait_for_load_state()
    assert words["total"] in page.locator("#preview").inner_text()
    found = problems(page)
    page.get_by_role("button", name=words["order"], exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#lines tbody tr").count() == 1
    found += problems(page)

    page.context.clear_cookies()
    sign_in(page, gunicorn_server, "koch", "koch-pw-123", next_path=f"/services/providers/{provider.pk}/")
    row = page.locator(f"#line-{delivered.pk}")
    assert "mit Hafermilch" in row.inner_text()
    badge = row.locator(".mark")
    assert badge.is_visible()
    assert " ".join(badge.text_content().split()) == words["new"]
    assert page.get_by_role("link", name=words["print"]).is_visible()
    found += problems(page)
    row.get_by_role("button", name=words["confirm"]).click()
    page.wait_for_load_state()
    assert words["confirmed"] in page.locator(f"#line-{delivered.pk} .status").inner_text()
    row = page.locator(f"#line-{delivered.pk}")
    row.get_by_role("button", name=words["deliver"]).click()
    page.wait_for_load_state()
    assert words["done"] in page.locator(f"#line-{delivered.pk}").inner_text()
    assert found == []


DIALOG = {
    "de-DE": {"prices": "Preise anzeigen", "book": "Buchen", "total": "9,40", "line": "Kaffee"},
    "en-GB": {"prices": "Show prices", "book": "Book", "total": "9.40", "line": "Coffee"},
}


@pytest.mark.parametrize("page", ["de-DE", "en-GB"], indirect=True)
def test_it_books_a_room_with_coffee_in_the_dialog(gunicorn_server, page, room, alice, kitchen):
    _provider, coffee = kitchen
    words = DIALOG[page.context.pages[0].evaluate("navigator.language")]
    UserCostCentre.objects.create(
        user=alice, cost_centre=CostCentre.objects.create(code="2100", name="Vertrieb")
    )
    day = working_day_ahead(3)

    sign_in(page, gunicorn_server, "alice", "alice-pw-123", next_path=f"/book/?room={room.pk}&date={day}")
    page.fill("#id_title", "Planung")
    page.fill("#id_start", "09:00")
    page.fill("#id_end", "10:00")
    page.fill("#id_attendees", "b@x.de, c@x.de, d@x.de")
    page.select_option("#id_svc0-item", str(coffee.pk))
    page.get_by_role("button", name=words["prices"]).click()
    page.wait_for_load_state()
    # Three guests and the organizer: 4 × 2.35, shown before anything is saved.
    assert page.locator("#service-total").inner_text() == words["total"]
    assert words["line"] in page.locator("#service-prices").inner_text()
    assert not Order.objects.exists()
    found = problems(page)

    page.get_by_role("button", name=words["book"], exact=True).click()
    page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
    line = Order.objects.get()
    assert (line.quantity, line.amount, line.booking.title) == (4, Decimal("9.40"), "Planung")
    assert found == []
