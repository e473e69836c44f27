"""Badges as PDF, read back as a badge printer's user would check them: the text on the page,
and the QR code decoded from the page's image by a real barcode reader (zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from pypdf import PdfReader

from tests.visitors.conftest import GUEST, GUEST_EN, thursday
from visitors import badges, services
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
    assert client.get(f"/reception/visitors/{visit.visitors.get().pk}/badge.pdf").status_code == 404
    assert client.get(f"/reception/{building.site_id}/badges.pdf").status_code == 403
    client.force_login(alice)
    assert client.get(f"/reception/visitors/{visit.visitors.get().pk}/badge.pdf").status_code == 403


def test_it_spells_names_outside_latin1_without_failing():
    assert latin1("Mehmet Yılmaz, Łódź, Müller") == "Mehmet Yilmaz, Lódz, Müller"


def qr_codes(content: bytes) -> list[str]:
    """What a scanner reads from each page's images."""
    found = []
    for page in PdfReader(io.BytesIO(content)).pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


def test_its_qr_code_decodes_to_the_random_badge_id_only(client, monday, building, alice, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST, GUEST_EN]
    )
    eva, john = visit.visitors.order_by("pk")
    client.force_login(rita)
    assert qr_codes(client.get(f"/reception/visitors/{eva.pk}/badge.pdf").content) == [eva.badge_id]
    monday.move_to(thursday(8))
    assert qr_codes(client.get(f"/reception/{building.site_id}/badges.pdf").content) == [
        eva.badge_id,
        john.badge_id,
    ]
    assert len(eva.badge_id) >= 16 and "Eva" not in eva.badge_id


def test_it_prints_names_outside_latin1_as_written(client, monday, building, alice, rita, settings):
    # The machine's DejaVu Sans (fonts-dejavu-core); the test names the path so a missing
    # package fails here with a clear message rather than passing on the fallback.
    settings.RFR_BADGE_FONT = str(badges.DEJAVU[0])
    assert badges.DEJAVU[0].is_file(), "install fonts-dejavu-core (Debian) for badge fonts"
    guest = {**GUEST, "name": "Mehmet Yılmaz", "company": "Łódź Ξένια Sp. z o.o."}
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[guest]
    )
    client.force_login(rita)
    [page] = pages(client.get(f"/reception/visitors/{visit.visitors.get().pk}/badge.pdf"))
    assert "Mehmet Yılmaz" in page
    assert "Łódź Ξένια" in page


def test_it_falls_back_to_latin1_without_a_font(monday, building, alice, settings, monkeypatch):
    settings.RFR_BADGE_FONT = ""
    monkeypatch.setattr(badges, "DEJAVU", ())  # a server without fonts-dejavu
    guest = {**GUEST, "name": "Mehmet Yılmaz"}
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[guest]
    )
    [page] = [p.extract_text() for p in PdfReader(io.BytesIO(badges.badges_pdf(visit.visitors.all()))).pages]
    assert "Mehmet Yilmaz" in page
