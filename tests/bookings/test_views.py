"""The staff pages: each view's happy path, a user without access, and bad input.

Personas (tests/conftest.py): alice books, bob must not touch alice's bookings, fiona
is a facility admin. Pages answer in German unless the user switched to English.
"""

from __future__ import annotations

import gzip
import io
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from bookings import services
from bookings.models import Booking, BookingEvent, IdempotencyKey, OutboxMessage, Policy, Series
from tests import factories
from tests.helpers import post_booking, text

PAGES = ["/", "/book/", "/plan/", "/my/"]


@pytest.fixture
def house(db):
    """A building with a small, a middle and a big room (and equipment on the big one)."""
    building = factories.building(name="Haus A")
    floor = factories.floor(building, name="EG")
    return {
        "building": building,
        "small": factories.room(floor, name="Spree", capacity=4),
        "middle": factories.room(floor, name="Havel", capacity=8),
        "big": factories.room(floor, name="Elbe", capacity=20, equipment_codes=("projector",)),
    }


# --- sign in, sign out, language ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [*PAGES, "/rooms/1/", "/bookings/1/change/", "/bookings/1/cancel/", "/series/1/cancel/"]
)
def test_it_sends_anonymous_visitors_to_the_sign_in_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.django_db
def test_it_signs_in_with_a_local_account_and_signs_out_by_post(client, alice):
    page = client.get("/accounts/login/")
    assert "Anmelden" in text(page)
    assert 'lang="de"' in text(page)
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-pw-123", "next": "/my/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/my/"
    assert client.get("/my/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405  # signing out takes a POST
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert client.get("/my/").status_code == 302


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_in_german(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Bitte Benutzername und Passwort eingeben." in text(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_refuses_an_inactive_user(client):
    factories.user("gone", is_active=False)
    response = client.post("/accounts/login/", {"username": "gone", "password": "pw-gone"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_switches_the_language_to_english_and_back(client, alice):
    client.force_login(alice)
    assert "Raum finden" in text(client.get("/"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = text(client.get("/"))
    assert "Find a room" in english and 'lang="en"' in english
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert "Raum finden" in text(client.get("/"))


# --- the room finder ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_free_rooms_smallest_fitting_first(client, alice, bob, house, day):
    factories.booking(house["middle"], bob, factories.on(day, 9))
    client.force_login(alice)
    response = client.get(
        "/", {"place": f"building-{house['building'].pk}", "date": day, "start": "09:00", "end": "10:00"}
    )
    assert response.status_code == 200
    names = [o.room.name for o in response.context["results"]]
    assert names == ["Spree", "Elbe"]  # Havel is taken
    assert "2 freie Räume" in text(response)


@pytest.mark.django_db
def test_it_says_before_booking_which_rooms_need_approval_or_a_check_in(client, alice, house, day):
    # Approval set on the building, check-in on one room: each room inherits like the rules do.
    Policy.objects.create(building=house["building"], requires_approval=True)
    Policy.objects.create(room=house["small"], requires_approval=False, requires_check_in=True)
    client.force_login(alice)
    query = {"place": f"building-{house['building'].pk}", "date": day, "start": "09:00", "end": "10:00"}

    response = client.get("/", query)

    flags = {o.room.name: (o.needs_approval, o.needs_check_in) for o in response.context["results"]}
    assert flags == {"Spree": (False, True), "Havel": (True, False), "Elbe": (True, False)}
    page = text(response)
    assert page.count(">Anfragen<") == 2 and page.count(">Buchen<") == 1
    assert page.count("Mit Freigabe") == 2 and page.count("Check-in nötig") == 1
    # Booking one that needs approval says "requested" plainly.
    booked = post_booking(client, house["middle"], day, title="Jour fixe")
    assert booked.status_code == 302
    assert "„Jour fixe“ angefragt: Havel" in text(client.get("/my/"))


@pytest.mark.django_db
def test_the_plan_badges_the_rooms_that_need_approval_or_a_check_in(client, alice, house, day):
    Policy.objects.create(room=house["middle"], requires_approval=True)
    Policy.objects.create(room=house["big"], requires_check_in=True)
    client.force_login(alice)

    body = text(client.get("/plan/", {"building": house["building"].pk, "date": day.isoformat()}))

    rows = {
        name: row
        for row in body.split('<li class="plan-row')
        for name in ("Spree", "Havel", "Elbe")
        if f">{name}</a>" in row
    }
    assert "Mit Freigabe" in rows["Havel"] and "Check-in nötig" not in rows["Havel"]
    assert "Check-in nötig" in rows["Elbe"] and "Mit Freigabe" not in rows["Elbe"]
    assert "badge" not in rows["Spree"]


@pytest.mark.django_db
def test_an_empty_result_names_the_blocking_that_closed_the_rooms(client, alice, fiona, house, day):
    from bookings.models import Blocking
    from bookings.spans import make_span

    Blocking.objects.create(
        building=house["building"],
        span=make_span(factories.on(day, 8), factories.on(day, 12)),
        reason="Wartung",
    )
    elsewhere = factories.building(house["building"].site, name="Haus B")
    Blocking.objects.create(
        building=elsewhere, span=make_span(factories.on(day, 8), factories.on(day, 12)), reason="Umzug"
    )
    client.force_login(alice)
    query = {"place": f"building-{house['building'].pk}", "date": day, "start": "09:00", "end": "10:00"}

    page = text(client.get("/", query))

    assert "Zu dieser Zeit passt kein Raum." in page
    assert "Haus A (" in page and "gesperrt, 08:00–12:00: Wartung" in page
    assert "Umzug" not in page  # another building's blocking is not the reason here
    # Outside the blocking, rooms are found and nothing is said about it.
    later = text(client.get("/", {**query, "start": "13:00", "end": "14:00"}))
    assert "Wartung" not in later


@pytest.mark.django_db
def test_it_filters_by_people_and_equipment(client, alice, house, day):
    client.force_login(alice)
    query = {"date": day, "start": "09:00", "end": "10:00"}
    assert [o.room.name for o in client.get("/", {**query, "people": 5}).context["results"]] == [
        "Havel",
        "Elbe",
    ]
    only_projector = client.get("/", {**query, "equipment": "projector"}).context["results"]
    assert [o.room.name for o in only_projector] == ["Elbe"]


@pytest.mark.django_db
def test_it_searches_now_for_thirty_minutes(client, alice, house):
    client.force_login(alice)
    response = client.get("/", {"now": "30"})
    start, end = response.context["start"], response.context["end"]
    assert end - start == timedelta(minutes=30)
    assert abs(start - timezone.now()) < timedelta(minutes=1)


@pytest.mark.django_db
def test_it_offers_other_times_and_buildings_when_nothing_fits(client, alice, bob, house, day):
    other = factories.building(house["building"].site, name="Haus B")
    factories.room(factories.floor(other), name="Oder", capacity=30)
    for room in ("small", "middle", "big"):
        factories.booking(house[room], bob, factories.on(day, 9), minutes=60)
    client.force_login(alice)
    response = client.get(
        "/",
        {
            "place": f"building-{house['building'].pk}",
            "date": day,
            "start": "09:00",
            "end": "10:00",
            "people": 2,
        },
    )
    assert response.context["results"] == []
    body = text(response)
    assert "Zu dieser Zeit passt kein Raum." in body
    alternatives = response.context["alternatives"]
    assert {(o.room.name, o.start.hour) for o in alternatives["shifted"]} >= {("Spree", 10), ("Spree", 8)}
    assert [o.room.name for o in alternatives["elsewhere"]] == ["Oder"]
    assert "Andere Gebäude zur selben Zeit" in body


@pytest.mark.django_db
def test_it_never_suggests_a_slot_the_rules_would_refuse(client, alice, bob, house, day):
    from bookings.models import Blocking
    from bookings.spans import make_span

    for room in ("small", "middle", "big"):
        factories.booking(house[room], bob, factories.on(day, 9), minutes=60)
    # Later is blocked for Spree; Havel may not be booked for longer than an hour from 8.
    Blocking.objects.create(
        room=house["small"], span=make_span(factories.on(day, 10), factories.on(day, 11)), reason="Wartung"
    )
    Policy.objects.create(room=house["middle"], min_notice_minutes=60 * 24 * 30)
    client.force_login(alice)
    response = client.get(
        "/",
        {"place": f"building-{house['building'].pk}", "date": day, "start": "09:00", "end": "10:00"},
    )
    shifted = {(o.room.name, o.start.hour) for o in response.context["alternatives"]["shifted"]}
    assert ("Spree", 10) not in shifted  # the blocking refuses it
    assert not any(name == "Havel" for name, _hour in shifted)  # the notice rule refuses it
    assert ("Spree", 8) in shifted and ("Elbe", 10) in shifted
    # Each offer is bookable: "Buchen" on it books instead of refusing.
    offer = next(o for o in response.context["alternatives"]["shifted"] if o.room.name == "Elbe")
    booked = post_booking(client, offer.room, day, start=offer.start_value, end=offer.end_value)
    assert booked.status_code == 302


@pytest.mark.django_db
def test_it_suggests_no_room_the_booking_would_refuse_after_a_conflict(client, alice, bob, house, day):
    from bookings.models import Blocking
    from bookings.spans import make_span

    factories.booking(house["small"], bob, factories.on(day, 9), minutes=60)
    Blocking.objects.create(
        room=house["middle"], span=make_span(factories.on(day, 8), factories.on(day, 12)), reason="Umbau"
    )
    client.force_login(alice)
    response = post_booking(client, house["small"], day, title="Planung")
    assert response.status_code == 409
    assert [o.room.name for o in response.context["alternatives"]["elsewhere"]] == ["Elbe"]


@pytest.mark.django_db
def test_it_offers_a_shorter_slot(client, alice, bob, house, day):
    for room in ("small", "middle", "big"):
        factories.booking(house[room], bob, factories.on(day, 10), minutes=60)
    client.force_login(alice)
    response = client.get("/", {"date": day, "start": "09:00", "end": "11:00"})
    shorter = response.context["alternatives"]["shorter"]
    assert shorter and all((o.start_value, o.end_value) == ("09:00", "10:00") for o in shorter)


@pytest.mark.django_db
def test_it_explains_a_bad_search_in_german_and_lists_nothing(client, alice, house, day):
    client.force_login(alice)
    response = client.get("/", {"date": day, "start": "10:00", "end": "09:00"})
    assert response.status_code == 200
    assert "Das Ende muss nach dem Beginn liegen." in text(response)
    assert "results" not in response.context


@pytest.mark.django_db
def test_it_says_when_there_are_no_rooms_at_all(client, alice):
    client.force_login(alice)
    assert "Es gibt noch keine Räume." in text(client.get("/"))


# --- booking --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_books_in_one_click_through_the_service(client, alice, house, day):
    client.force_login(alice)
    response = post_booking(client, house["small"], day, title="Planung")
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert response["Location"] == f"/my/#booking-{booking.pk}"
    assert (booking.organizer, booking.title, booking.source) == (alice, "Planung", "web")
    assert booking.start == factories.on(day, 9)
    assert BookingEvent.objects.filter(booking=booking, kind="created").count() == 1
    assert OutboxMessage.objects.filter(topic="booking.created").exists()
    page = text(client.get("/my/"))
    assert "„Planung“ gebucht: Spree" in page


@pytest.mark.django_db
def test_it_books_once_when_the_same_form_is_sent_twice(client, alice, house, day):
    client.force_login(alice)
    key = uuid.uuid4().hex
    first = post_booking(client, house["small"], day, key=key)
    second = post_booking(client, house["small"], day, key=key)
    assert first["Location"] == second["Location"]
    assert Booking.objects.count() == 1
    assert IdempotencyKey.objects.filter(user=alice, key=key).count() == 1
    assert "nichts wurde doppelt gebucht" in text(client.get("/my/"))


@pytest.mark.django_db
def test_it_refuses_a_key_sent_again_with_other_values(client, alice, house, day):
    client.force_login(alice)
    key = uuid.uuid4().hex
    post_booking(client, house["small"], day, key=key, title="Eins")
    response = post_booking(client, house["small"], day, key=key, title="Zwei")
    assert response.status_code == 409
    assert "bereits mit anderen Angaben gesendet" in text(response)
    assert list(Booking.objects.values_list("title", flat=True)) == ["Eins"]
    assert response.context["form"]["key"].value() != key


@pytest.mark.django_db
def test_it_shows_a_conflict_in_words_with_alternatives_and_writes_nothing(client, alice, bob, house, day):
    taken = factories.booking(house["small"], alice, factories.on(day, 9), title="Geheim", private=True)
    client.force_login(bob)
    response = post_booking(client, house["small"], day, title="Mein Termin")
    assert response.status_code == 409
    body = text(response)
    assert "Der Raum ist zu dieser Zeit bereits gebucht." in body
    assert "Belegt" in body and "Geheim" not in body  # someone else's private title stays hidden
    alternatives = response.context["alternatives"]
    assert [o.room.name for o in alternatives["elsewhere"]][:1] == ["Havel"]
    assert any(o.room == house["small"] and o.start.hour == 10 for o in alternatives["shifted"])
    assert list(Booking.objects.all()) == [taken]
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_it_explains_bad_input_in_german_and_writes_nothing(client, alice, house, day):
    client.force_login(alice)
    response = post_booking(client, house["small"], day, title="")
    assert response.status_code == 422
    assert "Dieses Feld ist erforderlich." in text(response)
    response = post_booking(client, house["small"], day, start="11:00", end="10:00")
    assert "Das Ende muss nach dem Beginn liegen." in text(response)
    yesterday = day - timedelta(days=3)
    response = post_booking(client, house["small"], yesterday)
    assert "Dieser Zeitpunkt ist bereits vorbei." in text(response)
    response = client.post("/book/", {"key": "k", "room": "999999", "date": day, "title": "x"})
    assert response.status_code == 422
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_it_does_not_offer_a_room_that_cannot_be_booked(client, alice, house, day):
    closed = factories.room(house["small"].floor, name="Lager", bookable=False)
    client.force_login(alice)
    response = post_booking(client, closed, day)
    assert response.status_code == 422
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_it_prefills_the_dialog_from_a_link(client, alice, house, day):
    client.force_login(alice)
    response = client.get("/book/", {"room": house["big"].pk, "date": day, "start": "14:00", "end": "15:30"})
    form = response.context["form"]
    assert form["room"].value() == house["big"].pk
    assert (form["date"].value(), form["start"].value(), form["end"].value()) == (
        day.isoformat(),
        "14:00",
        "15:30",
    )
    assert form["key"].value()


@pytest.mark.django_db
def test_it_previews_a_weekly_series_with_its_conflicts_and_writes_nothing(client, alice, bob, house, day):
    factories.booking(house["small"], bob, factories.on(day + timedelta(days=7), 9), title="Im Weg")
    client.force_login(alice)
    response = post_booking(
        client, house["small"], day, freq="weekly", ends="count", count=3, interval=1, action="preview"
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert [bool(o.conflicts) for o in preview] == [False, True, False]
    assert "„Im Weg“" in text(response)
    assert not Booking.objects.filter(organizer=alice).exists()
    assert not Series.objects.exists()


@pytest.mark.django_db
def test_it_books_a_series_and_can_leave_out_taken_dates(client, alice, bob, house, day):
    factories.booking(house["small"], bob, factories.on(day + timedelta(days=7), 9))
    client.force_login(alice)
    refused = post_booking(client, house["small"], day, freq="weekly", ends="count", count=3)
    assert refused.status_code == 409
    assert "1 Termin der Serie ist bereits belegt." in text(refused)
    assert not Series.objects.exists()
    response = post_booking(
        client, house["small"], day, freq="weekly", ends="count", count=3, skip_conflicts="on"
    )
    assert response.status_code == 302
    series = Series.objects.get()
    assert series.rrule.startswith("FREQ=WEEKLY;BYDAY=")
    assert series.rrule.endswith("COUNT=3")
    assert series.occurrences.count() == 2
    assert "1 belegter Termin wurde ausgelassen" in text(client.get("/my/"))


@pytest.mark.django_db
def test_it_builds_monthly_and_until_rules(client, alice, house, day):
    client.force_login(alice)
    until = day + timedelta(days=70)
    post_booking(client, house["small"], day, freq="monthly", monthly="date", ends="until", until=until)
    assert Series.objects.get().rrule == f"FREQ=MONTHLY;BYMONTHDAY={day.day};UNTIL={until:%Y%m%d}"


@pytest.mark.django_db
def test_it_refuses_a_series_ending_before_it_starts(client, alice, house, day):
    client.force_login(alice)
    response = post_booking(
        client, house["small"], day, freq="daily", ends="until", until=day - timedelta(days=1)
    )
    assert response.status_code == 422
    assert "Das letzte Datum darf nicht vor dem ersten liegen." in text(response)
    assert not Booking.objects.exists()


# --- the day plan ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_day_plan_with_private_bookings_as_busy(client, alice, bob, house, day):
    factories.booking(house["small"], bob, factories.on(day, 9), title="Vertraulich", private=True)
    factories.booking(house["middle"], bob, factories.on(day, 11), title="Sprint-Review")
    mine = factories.booking(house["big"], alice, factories.on(day, 13), title="Meins", private=True)
    client.force_login(alice)
    response = client.get("/plan/", {"building": house["building"].pk, "date": day.isoformat()})
    body = text(response)
    assert response.status_code == 200
    assert "Vertraulich" not in body and "Belegt" in body
    assert "Sprint-Review" in body and "Meins" in body
    assert f"/bookings/{mine.pk}/change/" in body
    free_after_nine = (
        f"/book/?room={house['small'].pk}&amp;date={day.isoformat()}&amp;start=10%3A00&amp;end=11%3A00"
    )
    assert free_after_nine in body
    assert "Haus A" in body


@pytest.mark.django_db
def test_it_shows_a_whole_site_on_one_plan(client, alice, bob, house, day):
    site = house["building"].site
    haus_b = factories.building(site, name="Haus B")
    other = factories.room(factories.floor(haus_b, name="1. OG"), name="Main")
    elsewhere = factories.room(name="Anderswo")  # another site: not on this plan
    factories.booking(other, bob, factories.on(day, 9), title="Vertraulich", private=True)
    factories.booking(house["middle"], bob, factories.on(day, 11), title="Sprint-Review")
    client.force_login(alice)

    response = client.get("/plan/", {"place": f"site-{site.pk}", "date": day.isoformat()})

    body = text(response)
    assert response.status_code == 200
    assert f"Alle Gebäude in {site.name}" in body
    assert [name for name, _tracks in response.context["plan"].floors] == ["Haus A · EG", "Haus B · 1. OG"]
    assert "Main" in body and "Spree" in body and elsewhere.name not in body
    assert "Ortszeit Berlin" in body and "Europe/Berlin" not in body
    assert "Vertraulich" not in body and "Belegt" in body and "Sprint-Review" in body
    assert f"?place=site-{site.pk}&amp;date=" in body  # previous/next day stay on the site
    # The choice is remembered: the plan without parameters shows the site again.
    assert client.get("/plan/").context["building"] is None


@pytest.mark.django_db
def test_it_sends_the_plan_compressed_to_a_client_that_takes_gzip(client, alice, bob, house, day):
    factories.booking(house["middle"], bob, factories.on(day, 11), title="Sprint-Review")
    client.force_login(alice)
    query = {"building": house["building"].pk, "date": day.isoformat()}

    plain = client.get("/plan/", query)
    packed = client.get("/plan/", query, headers={"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    unpacked = gzip.decompress(packed.content).decode()
    assert "Sprint-Review" in unpacked and unpacked.rstrip().endswith("</html>")
    # The same page apart from the per-answer CSRF token, in far fewer bytes (this small
    # plan to a third; the 200-room site's to a fourteenth, see docs/performance.md).
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub("", unpacked) == csrf.sub("", plain.content.decode())
    assert len(packed.content) < len(plain.content) / 2.5


def plan_rooms(response) -> list[str]:
    return [t.room.name for _floor, tracks in response.context["plan"].floors for t in tracks]


@pytest.mark.django_db
def test_the_plan_shows_only_the_rooms_with_enough_seats_and_the_equipment(client, alice, bob, house, day):
    factories.booking(house["big"], bob, factories.on(day, 11), title="Sprint-Review")
    client.force_login(alice)
    place = f"building-{house['building'].pk}"

    by_seats = client.get("/plan/", {"place": place, "date": day.isoformat(), "people": "8"})
    with_projector = client.get(
        "/plan/", {"place": place, "date": day.isoformat(), "people": "5", "equipment": "projector"}
    )
    nothing = client.get("/plan/", {"place": place, "date": day.isoformat(), "people": "21"})

    assert plan_rooms(by_seats) == ["Elbe", "Havel"]
    assert plan_rooms(with_projector) == ["Elbe"]
    body = text(with_projector)
    assert "Mindestens so viele Plätze" in body and "Sprint-Review" in body
    assert re.search(r'value="projector"[^>]*checked', body)  # the form shows the filter
    # The other days keep the filter; one link clears it.
    following = (day + timedelta(days=1)).isoformat()
    assert f"?place={place}&amp;date={following}&amp;people=5&amp;equipment=projector" in body
    assert plan_rooms(nothing) == []
    assert "Kein Raum hier hat so viele Plätze und diese Ausstattung." in text(nothing)
    assert f'href="?place={place}&amp;date={day.isoformat()}">Alle Räume zeigen' in text(nothing)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "At least this many seats" in text(client.get("/plan/", {"place": place, "people": "8"}))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad, message",
    [
        ({"people": "viele"}, "Bitte eine ganze Zahl eingeben."),
        ({"people": "0"}, "größer oder gleich 1"),
        ({"equipment": "teleporter"}, "Bitte eine gültige Auswahl treffen."),
    ],
)
def test_the_plan_says_why_a_filter_is_refused_and_shows_every_room(client, alice, house, day, bad, message):
    client.force_login(alice)
    place = f"building-{house['building'].pk}"

    response = client.get("/plan/", {"place": place, "date": day.isoformat(), **bad})

    assert response.status_code == 200
    body = text(response)
    assert message in body
    assert "Der Filter konnte nicht angewandt werden; alle Räume werden gezeigt." in body
    assert plan_rooms(response) == ["Elbe", "Havel", "Spree"]
    # The links to other days do not carry the refused filter along.
    assert f'?place={place}&amp;date={(day + timedelta(days=1)).isoformat()}"' in body


@pytest.mark.django_db
@pytest.mark.parametrize("place", ["site-999999", "building-999999", "room-1", "site-x"])
def test_it_answers_an_unknown_place_with_404(client, alice, house, place):
    client.force_login(alice)
    assert client.get("/plan/", {"place": place}).status_code == 404


@pytest.mark.django_db
def test_it_moves_between_days_and_ignores_a_bad_date(client, alice, house, day):
    client.force_login(alice)
    response = client.get("/plan/", {"building": house["building"].pk, "date": day.isoformat()})
    assert response.context["next"] == day + timedelta(days=1)
    response = client.get("/plan/", {"building": house["building"].pk, "date": "kein-datum"})
    assert response.status_code == 200
    assert response.context["day"] == response.context["today"]
    assert client.get("/plan/", {"building": "999999"}).status_code == 404


@pytest.mark.django_db
def test_it_draws_a_line_at_the_current_time(client, alice, house):
    berlin = ZoneInfo("Europe/Berlin")
    with time_machine.travel(datetime(2030, 6, 12, 10, 30, tzinfo=berlin), tick=False):
        client.force_login(alice)
        body = text(client.get("/plan/", {"building": house["building"].pk}))
    # 07:00 to 20:00 is 780 minutes; 10:30 lies 210 minutes in: 26.9 % (bookings/static/bookings/plan.css).
    assert 'class="now x269"' in body
    assert "Mittwoch, 12. Juni 2030" in body


@pytest.mark.django_db
def test_it_draws_a_daylight_saving_day_in_local_hours(client, alice, bob, house):
    berlin = ZoneInfo("Europe/Berlin")
    # 31 March 2030: clocks jump from 02:00 to 03:00; a booking 01:30 to 03:30 lasts one hour.
    factories.booking(
        house["small"], bob, datetime(2030, 3, 31, 1, 30, tzinfo=berlin), minutes=60, title="Nacht"
    )
    client.force_login(alice)
    response = client.get("/plan/", {"building": house["building"].pk, "date": "2030-03-31"})
    axis = response.context["plan"].axis
    labels = [tick.astimezone(berlin).strftime("%H:%M") for tick, _left in axis.hours]
    assert labels[:3] == ["01:00", "03:00", "04:00"]  # 02:00 does not exist that night
    assert "01:30–03:30" in text(response)


# --- my bookings, change, cancel --------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_my_upcoming_and_past_bookings_only(client, alice, bob, house, day):
    factories.booking(house["small"], alice, factories.on(day, 9), title="Kommt noch")
    past = timezone.now() - timedelta(days=2)
    factories.booking(house["small"], alice, past, title="War schon")
    factories.booking(house["middle"], bob, factories.on(day, 9), title="Von Bob")
    client.force_login(alice)
    response = client.get("/my/")
    assert [b.title for b in response.context["upcoming"]] == ["Kommt noch"]
    assert [b.title for b in response.context["past"]] == ["War schon"]
    assert "Von Bob" not in text(response)


@pytest.mark.django_db
def test_my_bookings_shows_a_page_at_a_time(client, alice, house, day):
    for n in range(23):
        factories.booking(house["small"], alice, factories.on(day + timedelta(days=n), 9), title=f"T{n:02d}")
    client.force_login(alice)

    first = client.get("/my/")
    assert [b.title for b in first.context["upcoming"]] == [f"T{n:02d}" for n in range(20)]
    assert "Seite 1 von 2" in text(first) and 'href="?page=2" rel="next"' in text(first)

    second = client.get("/my/", {"page": 2})
    assert [b.title for b in second.context["upcoming"]] == ["T20", "T21", "T22"]
    assert 'href="?page=1" rel="prev"' in text(second)
    assert [b.title for b in client.get("/my/", {"page": "x"}).context["upcoming"]][:1] == ["T00"]


@pytest.mark.django_db
def test_my_bookings_filters_past_cancelled_by_room_and_by_day(client, alice, bob, house, day):
    two_days_ago = timezone.now() - timedelta(days=2)
    factories.booking(house["small"], alice, two_days_ago, title="Vorbei Spree")
    factories.booking(house["middle"], alice, two_days_ago - timedelta(days=7), title="Vorbei Havel")
    factories.booking(house["small"], alice, factories.on(day, 9), title="Storniert", status="cancelled")
    factories.booking(house["small"], alice, factories.on(day, 11), title="Kommt")
    factories.booking(house["small"], bob, two_days_ago + timedelta(hours=3), title="Von Bob")
    client.force_login(alice)

    def titles(**query):
        response = client.get("/my/", query)
        assert response.status_code == 200
        return [b.title for b in response.context["past" if query.get("show") != "upcoming" else "upcoming"]]

    assert titles(show="past") == ["Vorbei Spree", "Vorbei Havel"]
    assert titles(show="cancelled") == ["Storniert"]
    assert titles(show="upcoming") == ["Kommt"]
    assert titles(show="past", room=house["middle"].pk) == ["Vorbei Havel"]
    day_before = (two_days_ago - timedelta(days=1)).date().isoformat()
    assert titles(show="past", date_from=day_before) == ["Vorbei Spree"]
    assert titles(show="past", date_to=day_before) == ["Vorbei Havel"]
    page = text(client.get("/my/", {"show": "past"}))
    assert "Vergangene <span" in page and "Kommt" not in page and "Von Bob" not in page
    # Only rooms of one's own bookings are offered, named by place.
    assert house["big"].place_label not in page and house["middle"].place_label in page


@pytest.mark.django_db
def test_my_bookings_explains_a_bad_filter_in_german_and_shows_the_overview(client, alice, house, day):
    factories.booking(house["small"], alice, factories.on(day, 9), title="Kommt")
    client.force_login(alice)
    response = client.get("/my/", {"show": "past", "date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert "Das Enddatum darf nicht vor dem Anfangsdatum liegen." in text(response)
    assert [b.title for b in response.context["upcoming"]] == ["Kommt"]
    response = client.get("/my/", {"show": "irgendwas", "room": "abc"})
    assert response.status_code == 200 and "Bitte eine gültige Auswahl treffen." in text(response)


@pytest.mark.django_db
def test_my_bookings_filter_speaks_english(client, alice, house, day):
    factories.booking(house["small"], alice, factories.on(day, 9), status="cancelled")
    client.force_login(alice)
    page = text(client.get("/my/", {"show": "cancelled"}, headers={"accept-language": "en"}))
    assert ">Cancelled <span" in page and "Show bookings" in page and "All rooms" in page


@pytest.mark.django_db
def test_it_names_the_zone_of_each_time_when_my_rooms_are_in_several(client, alice, house, day):
    factories.booking(house["small"], alice, factories.on(day, 9), title="Berlin")
    client.force_login(alice)
    assert 'class="tz"' not in text(client.get("/my/"))  # one zone: nothing to say

    new_york = factories.site("Hudson Yards", time_zone="America/New_York")
    room = factories.room(factories.floor(factories.building(new_york)), name="H1.03")
    factories.booking(room, alice, factories.on(day, 10, tz=ZoneInfo("America/New_York")), title="New York")
    page = text(client.get("/my/"))

    assert '09:00–10:00 <span class="tz">Berlin</span>' in page
    assert '10:00–11:00 <span class="tz">New York</span>' in page


@pytest.mark.django_db
def test_my_bookings_flags_a_blocked_booking_and_moves_it_in_one_click(client, alice, bob, house, day):
    from bookings.models import Blocking
    from bookings.spans import make_span

    nine, ten = factories.on(day, 9), factories.on(day, 10)
    mine = services.create_booking(
        room=house["small"], organizer=alice, title="Jour fixe", start=nine, end=ten
    )
    factories.booking(house["middle"], bob, nine, title="Besetzt")  # taken: Elbe is offered
    morning = make_span(factories.on(day, 8), factories.on(day, 12))
    Blocking.objects.create(room=house["small"], span=morning, reason="Wasserschaden")
    client.force_login(alice)

    page = text(client.get("/my/"))
    assert "Eine Sperrung trifft diese Buchung: Wasserschaden" in page
    assert "Nach Elbe verlegen" in page
    action = f'<form method="post" action="/bookings/{mine.pk}/change/"'
    form = page[page.index(action) : page.index("</form>", page.index(action))]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))

    moved = client.post(f"/bookings/{mine.pk}/change/", fields)

    assert moved.status_code == 302
    mine.refresh_from_db()
    assert (mine.room, mine.title, mine.start) == (house["big"], "Jour fixe", nine)
    assert BookingEvent.objects.filter(booking=mine, kind="updated").count() == 1
    assert "Wasserschaden" not in text(client.get("/my/"))  # the new room is not blocked


@pytest.mark.django_db
def test_it_changes_a_booking_through_the_service(client, alice, house, day):
    booking = factories.booking(house["small"], alice, factories.on(day, 9))
    client.force_login(alice)
    form = client.get(f"/bookings/{booking.pk}/change/").context["form"]
    assert form["title"].value() == "Meeting"
    response = client.post(
        f"/bookings/{booking.pk}/change/",
        {
            "title": "Neuer Titel",
            "room": house["middle"].pk,
            "date": day,
            "start": "10:00",
            "end": "11:30",
            "attendees": "bob@example.com, carol@example.com",
            "version": booking.version,
        },
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.title, booking.room, booking.start, booking.end) == (
        "Neuer Titel",
        house["middle"],
        factories.on(day, 10),
        factories.on(day, 11, 30),
    )
    assert booking.attendees == ["bob@example.com", "carol@example.com"]
    assert BookingEvent.objects.filter(booking=booking, kind="updated").count() == 1


@pytest.mark.django_db
def test_it_refuses_a_stale_or_conflicting_change_in_german(client, alice, bob, house, day):
    booking = factories.booking(house["small"], alice, factories.on(day, 9))
    factories.booking(house["small"], bob, factories.on(day, 11))
    client.force_login(alice)
    data = {"title": "X", "room": house["small"].pk, "date": day, "start": "09:00", "end": "10:00"}
    stale = client.post(f"/bookings/{booking.pk}/change/", {**data, "version": booking.version + 5})
    assert stale.status_code == 422
    assert "Die Buchung wurde inzwischen geändert" in text(stale)
    clash = client.post(
        f"/bookings/{booking.pk}/change/", {**data, "end": "11:30", "version": booking.version}
    )
    assert clash.status_code == 409
    assert "Der Raum ist zu dieser Zeit bereits gebucht." in text(clash)
    booking.refresh_from_db()
    assert (booking.title, booking.version) == ("Meeting", 1)


@pytest.mark.django_db
def test_it_lets_only_the_organizer_or_an_admin_change_or_cancel(client, alice, bob, fiona, house, day):
    booking = factories.booking(house["small"], alice, factories.on(day, 9))
    client.force_login(bob)
    for url in (f"/bookings/{booking.pk}/change/", f"/bookings/{booking.pk}/cancel/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Nur der Organisator kann diese Buchung ändern." in text(response)
        assert client.post(url, {"title": "Übernommen"}).status_code == 403
    booking.refresh_from_db()
    assert (booking.title, booking.status) == ("Meeting", "confirmed")
    client.force_login(fiona)
    assert client.get(f"/bookings/{booking.pk}/cancel/").status_code == 200
    assert client.get("/bookings/999999/cancel/").status_code == 404


@pytest.mark.django_db
def test_it_asks_before_cancelling_and_cancels_through_the_service(client, alice, house, day):
    booking = factories.booking(house["small"], alice, factories.on(day, 9), title="Absagen")
    client.force_login(alice)
    confirm = client.get(f"/bookings/{booking.pk}/cancel/")
    assert "Buchung stornieren?" in text(confirm)
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    response = client.post(f"/bookings/{booking.pk}/cancel/")
    assert response["Location"] == "/my/"
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert BookingEvent.objects.filter(booking=booking, kind="cancelled").count() == 1
    assert "wurde storniert" in text(client.get("/my/"))
    client.post(f"/bookings/{booking.pk}/cancel/")  # again: harmless
    assert BookingEvent.objects.filter(booking=booking, kind="cancelled").count() == 1


@pytest.mark.django_db
def test_it_cancels_the_rest_of_a_series_with_one_event_each(client, alice, bob, house, day):
    client.force_login(alice)
    post_booking(client, house["small"], day, freq="daily", ends="count", count=4)
    series = Series.objects.get()
    client.force_login(bob)
    assert client.post(f"/series/{series.pk}/cancel/").status_code == 403
    client.force_login(alice)
    confirm = client.get(f"/series/{series.pk}/cancel/")
    assert "4 Termine, die noch nicht begonnen haben, werden storniert" in text(confirm)
    response = client.post(f"/series/{series.pk}/cancel/")
    assert response.status_code == 302
    assert set(series.occurrences.values_list("status", flat=True)) == {"cancelled"}
    assert BookingEvent.objects.filter(booking__series=series, kind="cancelled").count() == 4
    channels = list(OutboxMessage.objects.filter(topic="series.cancelled").values_list("channel", flat=True))
    assert channels and len(channels) == len(set(channels))  # one announcement per channel
    series.refresh_from_db()
    assert series.cancelled_at is not None


# --- room page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_a_room_with_its_week(client, alice, bob, house, day):
    factories.booking(house["big"], bob, factories.on(day, 9), title="Wochenrunde")
    client.force_login(alice)
    response = client.get(f"/rooms/{house['big'].pk}/", {"week": day.isoformat()})
    body = text(response)
    assert response.status_code == 200
    assert "Elbe" in body and "20" in body and "projector" in body
    assert "Wochenrunde" in body
    assert f"/book/?room={house['big'].pk}" in body
    assert client.get("/rooms/999999/").status_code == 404


@pytest.mark.django_db
def test_it_shows_the_room_photo(client, alice, house):
    png = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(png, "PNG")
    room = house["big"]
    room.photo = SimpleUploadedFile("elbe.png", png.getvalue(), content_type="image/png")
    room.save()
    client.force_login(alice)
    body = text(client.get(f"/rooms/{room.pk}/"))
    assert f'src="{room.photo.url}" alt="Foto von Raum Elbe"' in body


# --- bounded queries ------------------------------------------------------------------


def fill_building(building, rooms: int, organizer, day):
    floor = factories.floor(building)
    for n in range(rooms):
        room = factories.room(floor, capacity=4 + n % 10, equipment_codes=("projector",))
        factories.booking(room, organizer, factories.on(day, 9 + n % 8), title=f"B{n}")
        factories.booking(room, organizer, factories.on(day + timedelta(days=1), 14), title=f"C{n}")


@pytest.mark.django_db
@pytest.mark.parametrize("rooms", [2, 60])
def test_it_renders_every_page_with_a_bounded_number_of_queries(client, alice, bob, day, rooms):
    building = factories.building(name="Groß")
    fill_building(building, rooms, bob, day)
    for n in range(rooms):
        factories.booking(
            factories.room(factories.floor(building)), alice, factories.on(day, 8) + timedelta(days=n % 5)
        )
    room = building.floors.first().rooms.first()
    client.force_login(alice)
    day_s = day.isoformat()
    pages = {
        # The finder also asks which of the found rooms the viewer may not book then
        # (who may book, blockings): two queries, however many rooms. Every page also
        # asks once whether the viewer works at a reception (the header link).
        # Both also name the parts of the combined rooms found (one query).
        f"/?date={day_s}&start=09:00&end=10:00": 12,
        f"/?date={day_s}&start=09:00&end=10:00&people=999": 12,  # nothing fits: alternatives
        # The plan also reads the policies (who may book) and, like every page, asks
        # whether the viewer manages a room (the approvals link), and which rooms share a
        # part (combinable rooms); the first visit remembers the place in the session (a
        # write: three statements). One more reads, for all rooms at once, which need
        # approval or a check-in (the badges), and one the combined rooms' parts. The
        # rooms, buildings and parts come from memory while the catalogue's version (one
        # query) stays the same; this first visit loads them, and the equipment the
        # filter offers (one more).
        f"/plan/?building={building.pk}&date={day_s}": 17,
        f"/plan/?place=site-{building.site_id}&date={day_s}": 17,
        # Filtered by equipment: the rooms' equipment from the catalogue in memory (its
        # first use in this process loads it: one query, instead of the equipment's).
        f"/plan/?place=site-{building.site_id}&date={day_s}&people=8&equipment=projector": 17,
        # also the viewer's waiting list, the bookings they attend, and whether a blocking
        # meets any of them (one query; more only for the bookings one meets), the meetings
        # in several rooms they organize (one query), and the rooms of the filter and the
        # count of pages (two)
        "/my/": 13,
        f"/rooms/{room.pk}/?week={day_s}": 9,  # also the week's blockings, drawn with their reason
        # also for whom the viewer may book (delegates), and whether anyone (managers, admins)
        f"/book/?room={room.pk}": 8,
    }
    for url, limit in pages.items():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        # The read-only probe runs once per process every few seconds, in whichever
        # request comes then: a cost of the process, not of the page.
        sqls = [q["sql"] for q in ctx.captured_queries if "pg_is_in_recovery" not in q["sql"]]
        assert len(sqls) <= limit, f"{url}: {len(sqls)} queries\n" + "\n".join(s[:160] for s in sqls)


@pytest.mark.django_db
def test_it_hides_others_private_titles_among_the_taken_dates_of_a_series(client, alice, bob, house, day):
    factories.booking(
        house["small"], bob, factories.on(day + timedelta(days=7), 9), title="Geheimprojekt", private=True
    )
    client.force_login(alice)
    refused = post_booking(client, house["small"], day, freq="weekly", ends="count", count=3)
    assert refused.status_code == 409
    page = text(refused)
    assert "Geheimprojekt" not in page and "Belegt" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, unit", [("de", "Tag(e), Woche(n) oder Monat(e)"), ("en", "day(s), week(s) or month(s)")]
)
def test_the_repetition_starts_on_the_booking_s_weekday_and_names_its_unit(
    client, alice, house, language, unit
):
    wednesday = timezone.localdate() + timedelta(days=(2 - timezone.localdate().weekday()) % 7 + 7)
    client.force_login(alice)
    page = text(
        client.get(
            "/book/",
            {"room": house["small"].pk, "date": wednesday.isoformat()},
            headers={"accept-language": language},
        )
    )
    assert re.search(r'<input type="checkbox" name="weekdays" value="WE"[^>]*checked', page)
    assert not re.search(r'<input type="checkbox" name="weekdays" value="MO"[^>]*checked', page)
    assert '<span class="unit" id="interval-unit"' in page and unit in page
    assert re.search(r'<input type="number" name="interval"[^>]*aria-describedby="interval-unit"', page)
