"""The report page in Chromium: axe finds nothing serious, the CSP reports nothing, the charts show."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from tests import factories
from tests.browser.test_accessibility import problems
from tests.browser.test_booking_flow import sign_in
from tests.browser.test_content_security import Watch
from tests.reports.test_utilisation import MONDAY, at, office_hours, released

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("page", ["de-DE", "en-GB"], indirect=True)
def test_it_shows_the_report_accessibly_and_within_the_policy(
    gunicorn_server, page, alice, tmp_path, request
):
    analyst = factories.user("analyst")
    analyst.set_password("analyst-pw-123")
    analyst.save()
    analyst.user_permissions.add(Permission.objects.get(codename="view_reports"))
    floor = factories.floor(factories.building(factories.site("Berlin", "Europe/Berlin"), "Haus A"), "EG")
    for name, capacity, hours in (("Spree", 4, 6), ("Havel", 12, 2), ("Elbe", 20, 4)):
        room = factories.room(floor, name=name, capacity=capacity)
        office_hours(room)
        for day in range(5):
            factories.booking(room, alice, at(day, 9), minutes=60 * hours, attendees=["a@x.de"])
        released(room, alice, at(2, 16), minutes=60)
    watch = Watch(page)

    sign_in(page, gunicorn_server, "analyst", "analyst-pw-123", next_path="/reports/")
    watch.visit(f"{gunicorn_server}/reports/?place=building:{floor.building_id}&period=week&start={MONDAY}")

    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart").first.is_visible()
    assert problems(page) == []
    assert watch.found == []
    shots = Path(os.environ.get("RFR_SCREENSHOTS") or tmp_path)
    page.screenshot(path=shots / f"reports-{request.node.callspec.id}.png", full_page=True)
