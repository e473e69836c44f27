import pytest


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_shows_the_start_page_in_german_and_switches_to_english(gunicorn_server, page):
    page.goto(f"{gunicorn_server}/")
    assert page.locator("h1").inner_text() == "Raumbuchung"
    # The switch posts a form: wait for the page it leads to, not the one we are on.
    with page.expect_navigation():
        page.select_option("#language", "en")
    assert page.locator("h1").inner_text() == "Room booking"
