"""Check-in (web link, API) and the release of no-shows.

A room whose policy requires check-in takes it from 15 minutes before the start until
the check-in deadline (start + grace, 15 minutes here); at the deadline the periodic task
releases the booking: cut at the deadline, marked released, never deleted, room free.

Personas (tests/conftest.py): alice organizes, bob must not touch her bookings, fiona
is a facility admin.
"""

from __future__ import annotations

import threading
import zoneinfo
from datetime import datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connections, transaction
from django.test import override_settings

from bookings.errors import InvalidBooking
from bookings.models import Booking, BookingEvent, OutboxMessage, Policy
from bookings.selectors.noshows import no_show_counts
from bookings.services import create_booking, create_series
from bookings.services.checkin import check_in_booking, release_no_shows
from bookings.tasks import release_no_shows as release_task
from tests import factories
from tests.helpers import booking_channels, frozen_at, on_the_day_of, text

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
DAY = datetime(2027, 3, 2, tzinfo=BERLIN)  # a Tuesday, far from a DST change


at = on_the_day_of(DAY)
clock = frozen_at(at(7))


@pytest.fixture
def room(db):
    room = factories.room(
        floor_obj=factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))), name="Spree"
    )
    Policy.objects.create(room=room, requires_check_in=True, check_in_grace_minutes=15)
    return room


def book(room, user, start, end, title="Planung"):
    return create_booking(room=room, organizer=user, title=title, start=start, end=end, now=at(7))


@pytest.fixture
def meeting(clock, room, alice):
    """Alice's 09:00–10:00 meeting, check-in deadline 09:15."""
    return book(room, alice, at(9), at(10))


def writes() -> tuple:
    return (
        Booking.objects.count(),
        Booking.objects.filter(checked_in_at__isnull=False).count(),
        Booking.objects.filter(status="released").count(),
        BookingEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def api_check_in(client, booking_id, headers=None):
    return client.post(f"/api/v1/bookings/{booking_id}/check-in", headers=headers or {})


# --- the window -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sets_the_deadline_from_the_rooms_policy(meeting):
    assert meeting.check_in_deadline == at(9, 15)


@pytest.mark.django_db
def test_it_opens_check_in_exactly_15_minutes_before_the_start(clock, meeting, alice):
    clock.move_to(at(8, 44))
    before = writes()
    with pytest.raises(InvalidBooking) as refused:
        check_in_booking(booking=meeting, actor=alice)
    assert refused.value.field == "start"
    assert writes() == before

    clock.move_to(at(8, 45))
    checked = check_in_booking(booking=meeting, actor=alice)
    assert checked.checked_in_at == at(8, 45)
    assert checked.version == 2


@pytest.mark.django_db
def test_it_takes_a_check_in_one_minute_before_the_deadline(clock, meeting, alice):
    clock.move_to(at(9, 14))
    assert check_in_booking(booking=meeting, actor=alice).checked_in_at == at(9, 14)
    assert BookingEvent.objects.filter(booking=meeting, kind="checked_in").count() == 1


@pytest.mark.django_db
def test_it_refuses_a_check_in_exactly_at_the_deadline(clock, meeting, alice):
    clock.move_to(at(9, 15))
    before = writes()
    with pytest.raises(InvalidBooking) as refused:
        check_in_booking(booking=meeting, actor=alice)
    assert refused.value.field == "check_in_deadline"
    assert "09:15" in refused.value.message
    assert writes() == before


@pytest.mark.django_db
def test_it_keeps_the_whole_booking_open_for_check_in_in_rooms_without_the_policy(clock, alice):
    free_room = factories.room(name="Havel")
    booking = book(free_room, alice, at(9), at(10))
    assert booking.check_in_deadline is None
    clock.move_to(at(9, 59))
    assert check_in_booking(booking=booking, actor=alice).checked_in_at == at(9, 59)


# --- the release ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_releases_a_no_show_at_the_deadline_and_frees_the_room(clock, meeting, bob):
    clock.move_to(at(9, 14))
    assert release_no_shows() == []  # not yet

    clock.move_to(at(9, 15))
    bookings_before = Booking.objects.count()
    assert release_no_shows() == [meeting.pk]

    meeting.refresh_from_db()
    assert meeting.status == "released"
    assert (meeting.start, meeting.end) == (at(9), at(9, 15))
    assert meeting.version == 2
    assert Booking.objects.count() == bookings_before  # never deleted
    # Bob can take the rest of the hour right away.
    rest = create_booking(room=meeting.room, organizer=bob, title="Spontan", start=at(9, 15), end=at(10))
    assert rest.status == "confirmed"


@pytest.mark.django_db
def test_it_records_the_release_in_the_audit_log_and_the_outbox(clock, meeting):
    clock.move_to(at(9, 20))
    release_no_shows()

    event = BookingEvent.objects.get(booking=meeting, kind="released")
    assert event.actor is None
    assert event.at == at(9, 20)
    assert event.changes["status"] == ["confirmed", "released"]
    assert datetime.fromisoformat(event.changes["end"][1]) == at(9, 15)
    messages = OutboxMessage.objects.filter(topic="booking.released")
    assert sorted(m.channel for m in messages) == booking_channels()
    payload = messages[0].payload
    assert (payload["id"], payload["status"], payload["version"]) == (meeting.pk, "released", 2)
    assert datetime.fromisoformat(payload["end"]) == at(9, 15)


@pytest.mark.django_db
def test_it_releases_only_once(clock, meeting):
    clock.move_to(at(9, 30))
    assert release_no_shows() == [meeting.pk]
    before = writes()
    assert release_no_shows() == []
    assert release_task() == 0
    assert writes() == before


@pytest.mark.django_db
def test_it_leaves_checked_in_bookings_and_rooms_without_the_policy_alone(clock, meeting, alice):
    other = book(factories.room(name="Havel"), alice, at(9), at(10))
    clock.move_to(at(9, 5))
    check_in_booking(booking=meeting, actor=alice)
    clock.move_to(at(11))
    before = writes()

    assert release_no_shows() == []

    assert writes() == before
    assert {b.status for b in Booking.objects.filter(pk__in=[meeting.pk, other.pk])} == {"confirmed"}
    meeting.refresh_from_db()
    assert meeting.end == at(10)


@pytest.mark.django_db
def test_it_never_lengthens_a_booking_shorter_than_the_grace(clock, room, alice):
    short = book(room, alice, at(12), at(12, 10))
    assert short.check_in_deadline == at(12, 15)
    clock.move_to(at(12, 15))
    assert release_no_shows() == [short.pk]
    short.refresh_from_db()
    assert (short.status, short.start, short.end) == ("released", at(12), at(12, 10))


@pytest.mark.django_db
def test_it_runs_as_a_celery_task(clock, meeting):
    clock.move_to(at(9, 15))
    assert release_task.apply().get() == 1
    meeting.refresh_from_db()
    assert meeting.status == "released"


def test_it_runs_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["release-no-shows"]
    assert entry == {"task": "bookings.tasks.release_no_shows", "schedule": 60.0}


@pytest.mark.django_db(transaction=True)
def test_it_skips_a_booking_another_transaction_holds_instead_of_waiting(room, alice):
    with time_machine.travel(at(7), tick=False) as clock:
        booking = book(room, alice, at(9), at(10))
        clock.move_to(at(9, 30))
        locked, done = threading.Event(), threading.Event()

        def hold():
            try:
                with transaction.atomic():
                    Booking.objects.select_for_update().get(pk=booking.pk)
                    locked.set()
                    done.wait(10)
            finally:
                connections.close_all()

        worker = threading.Thread(target=hold)
        worker.start()
        assert locked.wait(10)
        try:
            assert release_no_shows() == []  # skipped, not blocked
        finally:
            done.set()
            worker.join(10)
        assert release_no_shows() == [booking.pk]
        assert Booking.objects.get(pk=booking.pk).status == "released"


# --- series and counts ----------------------------------------------------------------------


def daily_series(room, user, count=6):
    return create_series(
        room=room,
        organizer=user,
        title="Daily",
        start=at(9),
        end=at(9, 30),
        rrule=f"FREQ=DAILY;COUNT={count}",
        now=at(7),
    ).series


def reports() -> list[dict]:
    """The series.no_shows payloads, one per announcement (the outbox writes one per channel)."""
    channel = next(iter(settings.RFR_OUTBOX_CHANNELS))
    return list(
        OutboxMessage.objects.filter(topic="series.no_shows", channel=channel)
        .order_by("pk")
        .values_list("payload", flat=True)
    )


@pytest.mark.django_db
def test_it_reports_a_series_once_its_no_shows_reach_the_threshold(clock, room, alice):
    series = daily_series(room, alice)
    for day in range(2):
        clock.move_to(at(9, 15, days=day))
        assert len(release_no_shows()) == 1
    assert reports() == []

    clock.move_to(at(9, 15, days=2))
    release_no_shows()
    assert reports() == [{"series": series.pk, "organizer": alice.pk, "count": 3}]
    assert OutboxMessage.objects.filter(topic="series.no_shows").count() == len(booking_channels())

    for day in (3, 4):
        clock.move_to(at(9, 15, days=day))
        release_no_shows()
    release_no_shows()
    assert len(reports()) == 1  # the fourth and fifth no-show say nothing new

    clock.move_to(at(9, 15, days=5))
    release_no_shows()
    assert reports()[-1] == {"series": series.pk, "organizer": alice.pk, "count": 6}
    assert len(reports()) == 2


@pytest.mark.django_db
@override_settings(RFR_NO_SHOW_REPORT_AFTER=2)
def test_it_reports_once_when_one_run_releases_several_occurrences(clock, room, alice):
    series = daily_series(room, alice, count=3)
    clock.move_to(at(10, days=2))  # the worker was down: three no-shows at once
    assert len(release_no_shows()) == 3
    assert reports() == [{"series": series.pk, "organizer": alice.pk, "count": 3}]


@pytest.mark.django_db
def test_it_does_not_count_checked_in_occurrences(clock, room, alice):
    series = daily_series(room, alice, count=4)
    clock.move_to(at(9, 15))
    release_no_shows()
    clock.move_to(at(9, days=1))
    check_in_booking(booking=series.occurrences.order_by("span")[1], actor=alice)
    clock.move_to(at(10, days=3))
    release_no_shows()
    assert series.occurrences.filter(status="released").count() == 3
    assert reports() == [{"series": series.pk, "organizer": alice.pk, "count": 3}]


@pytest.mark.django_db
def test_it_counts_no_shows_per_organizer(clock, room, alice, bob):
    book(room, alice, at(11), at(12))
    book(room, bob, at(13), at(14))
    book(room, alice, at(9), at(10), title="Checked in")
    clock.move_to(at(9))
    check_in_booking(booking=Booking.objects.get(title="Checked in"), actor=alice)
    book(room, alice, at(12), at(13))  # released below, starts after "since"
    clock.move_to(at(15))
    release_no_shows()

    assert no_show_counts() == {alice.pk: 2, bob.pk: 1}
    assert no_show_counts(since=at(11, 30)) == {alice.pk: 1, bob.pk: 1}
    assert no_show_counts(organizer=bob) == {bob.pk: 1}


# --- check-in through the API ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_checks_in_through_the_api(clock, client, meeting, alice, token_for):
    clock.move_to(at(9, 5))
    response = api_check_in(client, meeting.pk, token_for(alice))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["version"], body["title"]) == (
        meeting.pk,
        "confirmed",
        2,
        "Planung",
    )
    event = BookingEvent.objects.get(booking=meeting, kind="checked_in")
    assert (event.actor, event.changes) == (alice, {"source": "api"})
    again = api_check_in(client, meeting.pk, token_for(alice))
    assert again.status_code == 200
    assert BookingEvent.objects.filter(booking=meeting, kind="checked_in").count() == 1


@pytest.mark.django_db
def test_it_refuses_someone_elses_check_in_through_the_api(clock, client, meeting, bob, token_for):
    clock.move_to(at(9, 5))
    before = writes()
    response = api_check_in(client, meeting.pk, token_for(bob))
    assert response.status_code == 403
    assert response.json()["detail"]
    assert api_check_in(client, 999999, token_for(bob)).status_code == 404
    assert api_check_in(client, meeting.pk).status_code == 401
    assert writes() == before


@pytest.mark.django_db
def test_it_answers_422_outside_the_window_and_for_a_released_booking(
    clock, client, meeting, alice, token_for
):
    headers = token_for(alice)
    clock.move_to(at(8, 44))
    before = writes()
    early = api_check_in(client, meeting.pk, headers)
    assert (early.status_code, early.json()["field"]) == (422, "start")
    assert writes() == before

    clock.move_to(at(9, 16))
    late = api_check_in(client, meeting.pk, headers)
    assert (late.status_code, late.json()["field"]) == (422, "check_in_deadline")
    assert "09:15" in late.json()["detail"]

    release_no_shows()
    before = writes()
    released = api_check_in(client, meeting.pk, headers)
    assert (released.status_code, released.json()["field"]) == (422, "status")
    assert "09:15" in released.json()["detail"]
    assert writes() == before


# --- check-in by web link, My bookings, admin -----------------------------------------------


@pytest.mark.django_db
def test_it_offers_check_in_on_my_bookings_only_while_the_window_is_open(clock, client, meeting, alice):
    client.force_login(alice)
    button = f'action="/bookings/{meeting.pk}/check-in/"'
    clock.move_to(at(8, 44))
    assert button not in text(client.get("/my/"))

    clock.move_to(at(8, 45))
    page = text(client.get("/my/"))
    assert button in page
    assert "Einchecken" in page
    assert "09:15" in page  # by when

    clock.move_to(at(9, 15))
    assert button not in text(client.get("/my/"))


@pytest.mark.django_db
def test_it_checks_in_by_web_link(clock, client, meeting, alice):
    client.force_login(alice)
    clock.move_to(at(9, 2))
    response = client.post(f"/bookings/{meeting.pk}/check-in/")

    assert response.status_code == 302
    assert response["Location"] == "/my/"
    meeting.refresh_from_db()
    assert meeting.checked_in_at == at(9, 2)
    assert BookingEvent.objects.get(booking=meeting, kind="checked_in").changes == {"source": "web"}
    page = text(client.get("/my/"))
    assert "Planung" in page and "Spree" in page
    assert f'action="/bookings/{meeting.pk}/check-in/"' not in page  # done: no button any more
    clock.move_to(at(9, 30))
    assert release_no_shows() == []


@pytest.mark.django_db
def test_it_refuses_the_web_link_to_others_late_requests_and_gets(clock, client, meeting, alice, bob):
    clock.move_to(at(9, 5))
    url = f"/bookings/{meeting.pk}/check-in/"
    before = writes()
    client.force_login(bob)
    assert client.post(url).status_code == 403
    assert client.post("/bookings/999999/check-in/").status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 405

    clock.move_to(at(9, 15))
    response = client.post(url, follow=True)
    assert response.redirect_chain == [("/my/", 302)]
    assert "09:15" in text(response)  # the message says when check-in closed
    assert writes() == before
    client.logout()
    assert client.post(url).status_code == 302  # to the sign-in page
    assert writes() == before


@pytest.mark.django_db
def test_it_shows_the_no_show_count_to_the_user_and_to_admins(clock, client, meeting, alice, bob, fiona):
    client.force_login(alice)
    clock.move_to(at(8))
    assert 'id="no-shows"' not in text(client.get("/my/"))
    clock.move_to(at(9, 15))
    release_no_shows()

    page = text(client.get("/my/"))
    assert "In den letzten 30 Tagen wurde 1 Ihrer Buchungen freigegeben" in page
    # Only recent ones: a month later the notice is gone (the admin still counts it).
    clock.move_to(at(9, 15, days=31))
    assert 'id="no-shows"' not in text(client.get("/my/"))

    client.force_login(fiona)
    admin = text(client.get("/admin/bookings/booking/?o=6"))
    assert "column-organizer_no_shows" in admin
    assert 'field-organizer_no_shows">1<' in admin
    client.force_login(bob)
    assert client.get("/admin/bookings/booking/").status_code == 302  # not staff
