"""Badges as PDF, read back as a badge printer's user would check them: the text on the page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.visitors.conftest import GUEST, GUEST_EN, thursday
from visitors import services
from visitors.badges import latin1

pytestmark = pytest.mark.django_db


def pages(response) -> list[str]:
    assert response["Content-Type"] == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def test_it_prints_a_badge_with_name_company_host_and_date(client, monday, building, alice, rita):
    alice.first_name, alice.last_name = "Alice", "Albers"
    alice.save()
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    visitor = visit.visitors.get()
    client.force_login(rita)
    [page] = pages(client.get(f"/reception/visitors/{visitor.pk}/badge.pdf", HTTP_ACCEPT_LANGUAGE="de"))
    for expected in ("Dr. Eva Gast", "Kunde GmbH", "Gastgeber: Alice Albers", "26. November 2026"):
        assert expected in page
    # The QR code is the only other content, and it carries the random id, not the e-mail address.
    assert "eva@kunde.example" not in page


def test_it_prints_the_days_badges_one_page_each(client, monday, building, alice, rita):
    services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST, GUEST_EN]
    )
    monday.move_to(thursday(8))
    client.force_login(rita)
    printed = pages(client.get(f"/reception/{building.site_id}/badges.pdf"))
    assert len(printed) == 2
    assert "Dr. Eva Gast" in printed[0] and "John Guest" in printed[1]


def test_it_keeps_badges_from_colleagues(client, monday, building, alice, bob):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    client.force_login(bob)
    assert client.get(f"/reception/visitors/{visit.visitors.get().pk}/badge.pdf").status_code == 403
    assert client.get(f"/reception/{building.site_id}/badges.pdf").status_code == 403


def test_it_spells_names_outside_latin1_without_failing():
    assert latin1("Mehmet Yılmaz, Łódź, Müller") == "Mehmet Yilmaz, Lódz, Müller"
