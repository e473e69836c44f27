"""Screenshots of the staff pages in German, taken from a running `make demo`.

    PORT=8311 RFR_DATA_DIR=var/shots make demo      # in one terminal
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8311

Uses Debian's Chromium (RFR_CHROMIUM, default /usr/bin/chromium) through Playwright;
writes docs/screenshots/*.png. The demo user books one room so the pages show a
booking of its own; run it against a throw-away demo data folder.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("RFR_CHROMIUM", "/usr/bin/chromium")
USER, PASSWORD = "demo", "demo-demo-2026"


def main(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--lang=de-DE"]
        )
        desktop = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 860})
        page = desktop.new_page()
        page.goto(f"{base}/accounts/login/")
        page.screenshot(path=HERE / "login.png")
        page.fill("#id_username", USER)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")

        page.select_option("#id_place", label="Haus A")
        page.fill("#id_people", "6")
        page.click("button.primary:has-text('Freie Räume suchen')")
        page.screenshot(path=HERE / "finder.png", full_page=True)

        page.fill("#id_title", "Projektplanung")
        page.click("button.primary:has-text('Freie Räume suchen')")
        page.locator("ul.offers form button").first.click()
        page.wait_for_url(re.compile(r".*/my/.*"))
        page.screenshot(path=HERE / "my-bookings.png")

        page.goto(f"{base}/plan/")
        page.screenshot(path=HERE / "day-plan.png")

        page.locator(".plan-room a").first.click()
        page.screenshot(path=HERE / "room.png", full_page=True)

        page.goto(f"{base}/book/")
        page.fill("#id_title", "Jour fixe")
        page.select_option("#id_room", index=3)
        page.check("input[name=freq][value=weekly]")
        page.click("button[name=action][value=preview]")
        page.screenshot(path=HERE / "booking-dialog.png", full_page=True)

        phone = browser.new_context(
            locale="de-DE", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        )
        phone.add_cookies(desktop.cookies())
        mobile = phone.new_page()
        mobile.goto(f"{base}/")
        mobile.screenshot(path=HERE / "finder-phone.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
