"""The self check-in tablet in real Chromium: a visitor types their code and presses Enter,
in German and English, with no serious axe finding before or after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.browser.test_accessibility import problems
from visitors import kiosk as kiosks
from visitors import services
from visitors.models import Visitor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("page", "words"),
    [
        ("de-DE", ("Der Code aus Ihrer Einladung", "Willkommen")),
        ("en-GB", ("The code from your invitation", "Welcome")),
    ],
    indirect=["page"],
)
def test_a_visitor_checks_in_by_code_with_the_keyboard(gunicorn_server, page, words, alice):
    building = factories.building(factories.site(name="Berlin"), name="Haus A")
    language = "de" if words[1] == "Willkommen" else "en"
    _tablet, raw = kiosks.create_kiosk(site=building.site, language=language)
    now = timezone.now()
    visit = services.register_visit(
        host=alice,
        building=building,
        start=now + timedelta(minutes=10),
        end=now + timedelta(hours=1),
        visitors=[{"name": "Dr. Eva Gast", "company": "Kunde GmbH", "email": "eva@kunde.example"}],
    )
    code = visit.visitors.get().code
    label, welcome = words
    page.goto(f"{gunicorn_server}/kiosk/{raw}/")
    found = problems(page)
    field = page.get_by_label(label)
    assert field.evaluate("f => f === document.activeElement")  # ready to type, no tapping needed
    page.keyboard.type(code.lower())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"{welcome}, Dr. Eva Gast!" in page.locator("h1").inner_text()
    assert Visitor.objects.get().status == "arrived"
    found += problems(page)

    page.get_by_role("link", name="Fertig" if language == "de" else "Done").click()
    page.get_by_label(label).fill("ZZZZZZZZ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("alert").is_visible()
    found += problems(page)
    assert not found, "\n".join(found)
