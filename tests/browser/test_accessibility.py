"""axe-core (bundled by axe-playwright-python) finds no serious or critical problem on the main pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests import factories
from tests.browser.test_booking_flow import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def problems(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']} — "
        + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("page", ["de-DE", "en-GB"], indirect=True)
def test_it_has_no_serious_accessibility_problems_on_the_main_pages(gunicorn_server, page, alice, bob):
    building = factories.building(name="Haus A")
    floor = factories.floor(building, name="EG")
    spree = factories.room(floor, name="Spree", capacity=4, equipment_codes=("projector",))
    factories.room(floor, name="Havel", capacity=8)
    day = factories.days_ahead(2)
    mine = factories.booking(spree, alice, factories.on(day, 9), title="Planung")
    factories.booking(spree, bob, factories.on(day, 11), title="Geheim", private=True)

    found = []
    page.goto(f"{gunicorn_server}/accounts/login/")
    found += problems(page)
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wrong")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    found += problems(page)  # the sign-in page with its error
    sign_in(page, gunicorn_server, "alice", "alice-pw-123", next_path="/my/")
    base = gunicorn_server
    for path in (
        f"/?place=building-{building.pk}&date={day}&start=09:00&end=10:00",
        f"/?place=building-{building.pk}&date={day}&start=09:00&end=10:00&people=50",  # alternatives
        f"/?date={day}&start=10:00&end=09:00",  # a search with an error
        f"/plan/?building={building.pk}&date={day}",
        "/my/",
        f"/rooms/{spree.pk}/?week={day}",
        f"/book/?room={spree.pk}&date={day}&start=09:00&end=10:00",
        f"/bookings/{mine.pk}/change/",
        f"/bookings/{mine.pk}/cancel/",
    ):
        page.goto(base + path)
        found += problems(page)
    # The dialog after a refused booking: conflict, alternatives, and the preview table.
    page.goto(f"{base}/book/?room={spree.pk}&date={day}&start=09:00&end=10:00")
    page.fill("#id_title", "Zweiter Versuch")
    page.locator("form.booking-form button.primary").click()
    page.wait_for_load_state()
    assert page.locator(".problem").is_visible()
    found += problems(page)
    page.locator("input[name=freq][value=weekly]").check()
    page.locator("button[name=action][value=preview]").click()
    page.wait_for_load_state()
    assert page.locator("#preview-heading").is_visible()
    found += problems(page)
    assert not found, "\n".join(found)
