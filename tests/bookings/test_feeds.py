"""Calendar subscriptions: the .ics behind a secret URL, and the page that manages them.

Personas (tests/conftest.py): alice subscribes, bob books the same room (privately) and
must not revoke alice's feeds, fiona is a facility admin.
"""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.errors import NotAllowed
from bookings.models import Booking, CalendarFeed
from bookings.services.feeds import create_feed, feed_for_token, revoke_feed
from raumfuerraum import read_only
from tests import factories
from tests.helpers import text

pytestmark = pytest.mark.django_db

LONG_TITLE = " ".join(["Quartalsplanung Größenordnung Übergabe – Außendienst und Bürokommunikation"] * 2)


def ics_path(raw: str) -> str:
    return f"/calendar/{raw}.ics"


def events(response) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def summaries(response) -> list[str]:
    return [str(e["SUMMARY"]) for e in events(response)]


def hours_from_now(hours: int):
    return timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


# --- the feed ---------------------------------------------------------------------------


def test_it_serves_valid_rfc_5545_with_the_users_own_bookings(client, alice, room):
    factories.booking(room, alice, hours_from_now(24), title=LONG_TITLE)
    factories.booking(room, alice, hours_from_now(48), title="Angefragt", status=Booking.Status.PENDING)
    _feed, raw = create_feed(user=alice)

    response = client.get(ics_path(raw))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response["ETag"]
    cal = icalendar.Calendar.from_ical(response.content)
    assert str(cal["VERSION"]) == "2.0"
    assert cal["PRODID"]
    vevents = events(response)
    assert len(vevents) == 2
    for event in vevents:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            assert prop in event, prop
    by_title = {str(e["SUMMARY"]): e for e in vevents}
    assert by_title[LONG_TITLE]["STATUS"] == "CONFIRMED"
    assert by_title["Angefragt"]["STATUS"] == "TENTATIVE"
    # RFC 5545 3.1: lines end in CRLF and are folded at 75 octets (the umlauts count twice).
    raw_lines = response.content.split(b"\r\n")
    assert raw_lines[-1] == b""
    assert all(len(line) <= 75 for line in raw_lines)
    assert any(line.startswith(b" ") for line in raw_lines), "the long title was folded"
    assert b"\n" not in response.content.replace(b"\r\n", b"")


def test_it_redacts_others_private_titles_in_a_room_feed_but_not_in_their_own_feed(client, alice, bob, room):
    factories.booking(room, bob, hours_from_now(24), title="Personalgespräch Müller", private=True)
    factories.booking(room, bob, hours_from_now(26), title="Teamrunde")
    factories.booking(room, alice, hours_from_now(28), title="Alices Geheimnis", private=True)
    factories.booking(factories.room(), bob, hours_from_now(30), title="Anderer Raum")
    _feed, alices_room_feed = create_feed(user=alice, room=room)
    _feed, bobs_feed = create_feed(user=bob)

    room_feed = client.get(ics_path(alices_room_feed))
    own_feed = client.get(ics_path(bobs_feed))

    assert sorted(summaries(room_feed)) == ["Alices Geheimnis", "Belegt", "Teamrunde"]
    assert "Personalgespräch".encode() not in room_feed.content
    assert b"Anderer Raum" not in room_feed.content
    assert sorted(summaries(own_feed)) == ["Anderer Raum", "Personalgespräch Müller", "Teamrunde"]
    assert b"Alices Geheimnis" not in own_feed.content


def test_it_says_busy_in_english_to_an_english_calendar_client(client, alice, bob, room):
    factories.booking(room, bob, hours_from_now(24), title="Personalgespräch", private=True)
    _feed, raw = create_feed(user=alice, room=room)

    response = client.get(ics_path(raw), headers={"accept-language": "en"})

    assert summaries(response) == ["Busy"]


def test_it_shows_only_active_bookings_from_a_month_back_to_a_year_ahead(client, alice, room):
    factories.booking(room, alice, hours_from_now(24), title="Bleibt")
    factories.booking(room, alice, hours_from_now(-20 * 24), title="Vor drei Wochen")
    for status in (Booking.Status.CANCELLED, Booking.Status.REJECTED, Booking.Status.RELEASED):
        factories.booking(room, alice, hours_from_now(24), title=f"Weg: {status}", status=status)
    factories.booking(room, alice, hours_from_now(-40 * 24), title="Zu alt")
    factories.booking(room, alice, hours_from_now(400 * 24), title="Zu weit weg")
    _feed, raw = create_feed(user=alice)

    response = client.get(ics_path(raw))

    assert sorted(summaries(response)) == ["Bleibt", "Vor drei Wochen"]
    assert b"Weg:" not in response.content


def test_it_answers_unknown_and_revoked_secrets_with_the_same_404(client, alice, room, caplog):
    factories.booking(room, alice, hours_from_now(24), title="Vertraulich")
    feed, raw = create_feed(user=alice)
    revoke_feed(feed=feed, actor=alice)
    unknown = "cal_" + "x" * 43

    revoked_response = client.get(ics_path(raw))
    unknown_response = client.get(ics_path(unknown))

    assert revoked_response.status_code == unknown_response.status_code == 404
    assert revoked_response.content == unknown_response.content
    assert b"Vertraulich" not in revoked_response.content
    assert b"BEGIN:VCALENDAR" not in revoked_response.content
    assert raw not in caplog.text, "the secret stays out of the log"
    CalendarFeed.objects.filter(pk=feed.pk).update(revoked_at=None)
    assert client.get(ics_path(raw)).status_code == 200, "the revocation alone made the difference"


@pytest.mark.parametrize("token", ["", "abc", "rfr_" + "x" * 43, "cal_" + "x" * 200, "cal_%00", "cal_ä"])
def test_it_answers_malformed_secrets_with_404(client, token):
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_it_does_not_accept_an_api_token_as_a_feed_secret(client, alice, token_for):
    api_token = token_for(alice)["Authorization"].removeprefix("Bearer ")
    assert client.get(ics_path(api_token)).status_code == 404


def test_it_stops_serving_the_feed_of_a_deactivated_user(client, alice, room):
    factories.booking(room, alice, hours_from_now(24), title="Alt")
    _feed, raw = create_feed(user=alice)
    alice.is_active = False
    alice.save()

    response = client.get(ics_path(raw))

    assert response.status_code == 404
    assert b"Alt" not in response.content


def test_it_notes_the_last_use_at_most_every_five_minutes(client, alice):
    feed, raw = create_feed(user=alice)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = timezone.now()
        client.get(ics_path(raw))
        traveller.shift(timedelta(minutes=4))
        with CaptureQueriesContext(connection) as polled:
            assert client.get(ics_path(raw)).status_code == 200
        feed.refresh_from_db()
        assert feed.last_used_at == first
        assert not [q for q in polled.captured_queries if q["sql"].startswith("UPDATE")]
        traveller.shift(timedelta(minutes=2))
        client.get(ics_path(raw))
        feed.refresh_from_db()
        assert feed.last_used_at == first + timedelta(minutes=6)


def test_it_answers_304_until_a_booking_changes(client, alice, room):
    booking = factories.booking(room, alice, hours_from_now(24), title="Planung")
    _feed, raw = create_feed(user=alice)
    etag = client.get(ics_path(raw))["ETag"]

    unchanged = client.get(ics_path(raw), headers={"if-none-match": etag})
    booking.title, booking.version = "Planung (verschoben)", booking.version + 1
    booking.save()
    changed = client.get(ics_path(raw), headers={"if-none-match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert changed.status_code == 200
    assert summaries(changed) == ["Planung (verschoben)"]


@pytest.mark.parametrize("room_feed", [False, True])
def test_it_reads_the_same_number_of_queries_for_5_and_50_bookings(client, bob, room_feed):
    def queries_for(n: int) -> int:
        room, owner = factories.room(), factories.user()
        for i in range(n):
            factories.booking(room, owner if i % 2 else bob, hours_from_now(24 + i), private=True)
        _feed, raw = create_feed(user=owner, room=room if room_feed else None)
        # The first fetch, the dearest: it notes last_used_at and asks whether the database is read-only.
        read_only.forget()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(ics_path(raw))
        assert len(events(response)) == (n if room_feed else n // 2), "the owner's own, or all of the room"
        return len(ctx.captured_queries)

    few, many = queries_for(5), queries_for(50)

    assert few == many
    assert many <= 4


# --- the page ---------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in_but_serves_the_feed_without(client, alice):
    _feed, raw = create_feed(user=alice)

    assert client.get("/calendar/")["Location"] == "/accounts/login/?next=/calendar/"
    assert client.post("/calendar/", {"room": ""}).status_code == 302
    assert CalendarFeed.objects.count() == 1
    assert client.get(ics_path(raw)).status_code == 200


def test_it_creates_a_personal_feed_and_shows_its_url_exactly_once(client, alice, room):
    factories.booking(room, alice, hours_from_now(24), title="Meine Planung")
    client.force_login(alice)
    empty = client.get("/calendar/")
    assert "Kalender-Abos" in text(empty)
    assert "Sie haben keine Kalender-Abos." in text(empty)

    created = client.post("/calendar/", {"room": ""})

    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    page = text(created)
    match = re.search(r'value="(?P<url>[^"]+/calendar/(?P<raw>cal_[^"]+)\.ics)"', page)
    assert match, page
    assert match["url"].startswith(settings.RFR_PUBLIC_URL + "/calendar/")
    assert "wie ein Passwort" in page
    assert "Meine Buchungen" in page
    feed = CalendarFeed.objects.get()
    assert (feed.user, feed.room) == (alice, None)
    assert summaries(client.get(ics_path(match["raw"]))) == ["Meine Planung"]
    again = text(client.get("/calendar/"))
    assert match["raw"] not in again
    row = re.search(rf'<tr id="feed-{feed.pk}">.*?</tr>', again, re.S)[0]
    assert feed.prefix in row
    assert "Meine Buchungen" in row
    assert ">nie<" not in row, "the calendar app has fetched it once by now"


def test_it_creates_a_room_feed_from_the_room_page(client, alice, bob, room):
    factories.booking(room, bob, hours_from_now(24), title="Bobs Termin", private=True)
    client.force_login(alice)
    room_page = text(client.get(f"/rooms/{room.pk}/"))
    assert "Kalender dieses Raums abonnieren" in room_page
    assert f'name="room" value="{room.pk}"' in room_page

    created = client.post("/calendar/", {"room": str(room.pk)})

    assert created.status_code == 201
    raw = re.search(r"/calendar/(cal_[^\"]+)\.ics", text(created))[1]
    assert CalendarFeed.objects.get().room == room
    assert summaries(client.get(ics_path(raw))) == ["Belegt"]
    assert room.name in text(client.get("/calendar/"))


@pytest.mark.parametrize("value", ["abc", "99999", "-1", "1.5"])
def test_it_refuses_an_unknown_room_and_creates_nothing(client, alice, value):
    client.force_login(alice)

    response = client.post("/calendar/", {"room": value})

    assert response.status_code == 400
    assert "Diesen Raum gibt es nicht." in text(response)
    assert CalendarFeed.objects.count() == 0


def test_it_revokes_a_feed_and_its_url_stops_working(client, alice, room):
    factories.booking(room, alice, hours_from_now(24), title="Planung")
    feed, raw = create_feed(user=alice)
    client.force_login(alice)

    response = client.post(f"/calendar/{feed.pk}/revoke/", follow=True)

    assert "widerrufen" in text(response)
    assert feed.prefix not in text(response)
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert client.get(ics_path(raw)).status_code == 404
    first = feed.revoked_at
    assert client.post(f"/calendar/{feed.pk}/revoke/").status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at == first, "revoking twice keeps the first time"


def test_it_does_not_let_bob_revoke_alices_feed(client, alice, bob):
    feed, raw = create_feed(user=alice)
    client.force_login(bob)

    refused = client.post(f"/calendar/{feed.pk}/revoke/")
    missing = client.post("/calendar/99999/revoke/")
    by_get = client.get(f"/calendar/{feed.pk}/revoke/")

    assert refused.status_code == 403
    assert missing.status_code == 404
    assert by_get.status_code == 405
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert client.get(ics_path(raw)).status_code == 200
    assert feed.prefix not in text(client.get("/calendar/")), "bob does not see alice's feeds"


def test_it_lets_staff_revoke_any_feed_but_nobody_else(alice, bob, fiona):
    feed, raw = create_feed(user=alice)
    with pytest.raises(NotAllowed):
        revoke_feed(feed=feed, actor=bob)
    assert feed_for_token(raw) is not None

    revoke_feed(feed=feed, actor=fiona)

    assert feed_for_token(raw) is None


def test_it_links_the_page_from_my_bookings(client, alice):
    client.force_login(alice)
    assert 'href="/calendar/"' in text(client.get("/my/"))


# --- the admin --------------------------------------------------------------------------


def test_it_lists_and_revokes_feeds_in_the_admin_without_adding_or_editing(client, alice, fiona, room):
    feed, raw = create_feed(user=alice, room=room)
    client.force_login(fiona)

    listing = client.get("/admin/bookings/calendarfeed/")
    assert listing.status_code == 200
    assert feed.prefix in text(listing)
    assert client.get("/admin/bookings/calendarfeed/add/").status_code == 403
    detail = text(client.get(f"/admin/bookings/calendarfeed/{feed.pk}/change/"))
    assert feed.key_hash not in detail
    assert 'name="revoked_at"' not in detail

    client.post(
        "/admin/bookings/calendarfeed/",
        {"action": "revoke_selected", "_selected_action": [feed.pk]},
    )

    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert client.get(ics_path(raw)).status_code == 404
