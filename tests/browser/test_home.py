import re

import pytest


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_shows_the_start_page_in_german_and_switches_to_english(gunicorn_server, page, alice):
    page.goto(f"{gunicorn_server}/")
    assert "/accounts/login/" in page.url  # the start page needs a sign-in
    assert page.locator("h1").inner_text() == "Anmelden"
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-pw-123")
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(gunicorn_server) + r"/$"))
    assert page.locator("h1").inner_text() == "Find a room"
    page.get_by_role("button", name="Deutsch").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Raum finden"
