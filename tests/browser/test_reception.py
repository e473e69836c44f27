"""The reception's day in real Chromium: German and English, no serious axe finding, check-in
by keyboard alone, and the fire-safety list one click away."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in
from visitors import services
from visitors.models import Reception, Visitor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.parametrize(
    ("page", "words"),
    [("de-DE", ("überfällig", "Einchecken")), ("en-GB", ("overdue", "Check in"))],
    indirect=["page"],
)
def test_it_checks_a_visitor_in_by_keyboard_on_an_accessible_page(gunicorn_server, page, words, alice):
    building = factories.building(factories.site(name="Berlin"), name="Haus A")
    group = Group.objects.create(name="Empfang Berlin")
    Reception.objects.create(site=building.site, group=group, offers_parking=True)
    rita = factories.user("rita")
    rita.groups.add(group)
    now = timezone.now()
    services.register_visit(
        host=alice,
        building=building,
        start=now - timedelta(minutes=30),
        end=now + timedelta(hours=1),
        visitors=[
            {
                "name": "Dr. Eva Gast",
                "company": "Kunde GmbH",
                "email": "eva@kunde.example",
                "notes": "braucht Begleitung",
            }
        ],
    )
    services.register_visit(
        host=alice,
        building=building,
        start=now + timedelta(hours=2),
        end=now + timedelta(hours=3),
        visitors=[
            {"name": "John Guest", "company": "Client Ltd", "email": "john@client.example", "language": "en"}
        ],
    )
    sign_in(page, gunicorn_server, "rita", "pw-rita", next_path=f"/reception/{building.site_id}/")
    overdue, check_in = words
    assert page.locator("td.state-overdue").first.inner_text().startswith(overdue)
    found = problems(page)
    if os.environ.get("RFR_SCREENSHOTS"):
        page.screenshot(
            path=SCREENSHOTS / f"reception-{'de' if overdue == 'überfällig' else 'en'}.png", full_page=True
        )

    # Keyboard only: Tab moves to the first check-in button, Enter presses it.
    button = page.get_by_role("button", name="Dr. Eva Gast", exact=False).first
    for _ in range(60):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    assert button.evaluate("b => b === document.activeElement")
    assert check_in in button.inner_text()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Visitor.objects.get(name="Dr. Eva Gast").status == "arrived"
    found += problems(page)

    with page.expect_navigation():
        page.locator(f"a[href='/reception/{building.site_id}/present/']").click()
    assert "Dr. Eva Gast" in page.locator("table").inner_text()
    assert "John Guest" not in page.locator("table").inner_text()
    assert page.locator("button[data-print]").is_visible()
    found += problems(page)
    assert not found, "\n".join(found)
