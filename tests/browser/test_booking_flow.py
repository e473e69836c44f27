"""The staff booking UI in real Chromium against real gunicorn, as two colleagues use it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bookings.models import Booking
from tests import factories

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in(page, base: str, username: str, password: str, next_path: str = "/") -> None:
    page.goto(f"{base}{next_path}")
    assert "/accounts/login/" in page.url  # every page asks for a sign-in first
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(base) + re.escape(next_path) + r"(\?.*)?$"))


def search(page, *, building, day, start="09:00", end="10:00", people=None, title=None) -> None:
    page.select_option("#id_place", f"building-{building.pk}")
    page.fill("#id_date", day.isoformat())
    page.fill("#id_start", start)
    page.fill("#id_end", end)
    if people:
        page.fill("#id_people", str(people))
    if title:
        page.fill("#id_title", title)
    page.get_by_role("button", name="Freie Räume suchen").click()
    page.wait_for_load_state()


@pytest.fixture
def house(db):
    building = factories.building(name="Haus A")
    floor = factories.floor(building, name="EG")
    return {
        "building": building,
        "spree": factories.room(floor, name="Spree", capacity=4),
        "havel": factories.room(floor, name="Havel", capacity=8),
    }


def test_it_books_a_free_room_shows_it_and_refuses_the_same_slot_to_a_colleague(
    gunicorn_server, chromium, page, alice, bob, house
):
    day = factories.days_ahead(2)
    bobs_context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    bobs_context.set_default_timeout(10_000)
    bobs_page = bobs_context.new_page()
    try:
        # Bob looks first: both rooms are free, and he takes his time.
        sign_in(bobs_page, gunicorn_server, "bob", "bob-pw-123")
        search(bobs_page, building=house["building"], day=day, people=3, title="Bobs Runde")
        assert bobs_page.locator("#results-heading").inner_text() == "2 freie Räume"

        # Alice finds the same rooms, smallest first, and books Spree with one click.
        sign_in(page, gunicorn_server, "alice", "alice-pw-123")
        search(page, building=house["building"], day=day, people=3, title="Planung")
        offers = page.locator("ul.offers > li")
        assert offers.count() == 2
        assert offers.nth(0).locator(".room-name").inner_text() == "Spree"
        offers.nth(0).get_by_role("button", name=re.compile("^Buchen")).click()
        page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
        assert "„Planung“ gebucht: Spree" in page.locator(".message.success").inner_text()
        assert page.locator("#upcoming-heading + ul .title").all_inner_texts() == ["Planung"]
        booking = Booking.objects.get(organizer=alice)
        assert booking.start == factories.on(day, 9)

        # The day plan shows it as her own block in Spree's row.
        page.get_by_role("link", name="Belegungsplan").click()
        page.fill("#plan-date", day.isoformat())
        page.get_by_role("button", name="Anzeigen").click()
        row = page.locator(".plan-row", has=page.get_by_role("link", name="Spree", exact=True))
        assert "Planung" in row.locator("a.block.mine").inner_text()

        # Bob clicks Spree on his older result: the slot is gone, and he is told so in words.
        bobs_page.locator("ul.offers > li").nth(0).get_by_role("button", name=re.compile("^Buchen")).click()
        bobs_page.wait_for_load_state()
        assert "Der Raum ist zu dieser Zeit bereits gebucht." in bobs_page.locator(".problem").inner_text()
        assert "„Planung“" in bobs_page.locator(".problem").inner_text()
        alternative = bobs_page.locator("section.alternatives li", has_text="Havel").first
        alternative.get_by_role("button", name=re.compile("^Buchen")).click()
        bobs_page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
        assert "„Bobs Runde“ gebucht: Havel" in bobs_page.locator(".message.success").inner_text()
        assert Booking.objects.filter(room=house["spree"]).count() == 1

        # Alice cancels, after saying yes once more.
        page.get_by_role("link", name="Meine Buchungen").click()
        page.get_by_role("link", name="Stornieren „Planung“").click()
        assert page.locator("h1").inner_text() == "Buchung stornieren?"
        page.get_by_role("button", name="Ja, stornieren").click()
        page.wait_for_url(f"{gunicorn_server}/my/")
        assert "wurde storniert" in page.locator(".message.success").inner_text()
        assert page.locator("#past-heading + ul").inner_text().count("Planung") == 1
        booking.refresh_from_db()
        assert booking.status == "cancelled"

        # And reads the page in English.
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "My bookings"
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("button", name="Deutsch").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Meine Buchungen"
    finally:
        bobs_context.close()


def test_it_books_once_on_a_double_click(gunicorn_server, page, alice, house):
    day = factories.days_ahead(3)
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    search(page, building=house["building"], day=day, title="Doppelklick")
    page.locator("ul.offers > li").nth(0).get_by_role("button", name=re.compile("^Buchen")).dblclick()
    page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
    assert Booking.objects.filter(title="Doppelklick").count() == 1


def test_it_books_a_weekly_series_after_a_preview(gunicorn_server, page, alice, bob, house):
    day = factories.days_ahead(2)
    factories.booking(house["spree"], bob, factories.on(day, 14) + timedelta(days=7))
    sign_in(page, gunicorn_server, "alice", "alice-pw-123")
    page.goto(f"{gunicorn_server}/book/?room={house['spree'].pk}&date={day}&start=14:00&end=15:00")
    page.fill("#id_title", "Jour fixe")
    assert page.locator("[data-repeat-options]").is_hidden()  # nothing to choose until it repeats
    page.get_by_label("Wöchentlich").check()
    assert page.locator(".monthly").is_hidden() and page.locator(".weekdays").is_visible()
    page.fill("#id_count", "3")
    page.get_by_role("button", name="Termine und Konflikte ansehen").click()
    assert page.locator("#preview-heading").inner_text() == "3 Termine · 1 belegt"
    assert not Booking.objects.filter(organizer=alice).exists()
    page.get_by_label("Freie Termine buchen, belegte auslassen").check()
    page.get_by_role("button", name="Buchen", exact=True).click()
    page.wait_for_url(re.compile(r".*/my/#booking-\d+$"))
    assert "1 belegter Termin wurde ausgelassen" in page.locator(".message.success").inner_text()
    assert Booking.objects.filter(organizer=alice, series__isnull=False).count() == 2
