"""Attendees of an edited series: updates and cancellations with each date's UID and a rising SEQUENCE.

A real SMTP server (aiosmtpd) receives the mails; the calendars are parsed with icalendar as a
mail program would. Alice organizes "Jour fixe" on three Thursdays; bob (a colleague) and an
outside guest are invited.
"""

from __future__ import annotations

from datetime import UTC, time, timedelta

import pytest
from django.conf import settings

from bookings import services
from bookings.models import Booking
from tests import factories
from tests.bookings import test_notifications as mailtest
from tests.bookings.test_notifications import calendars, deliver_mail, events, subject, thursday

smtp_server, inbox, monday = mailtest.smtp_server, mailtest.inbox, mailtest.monday

GUEST = "gast@partner.example"


@pytest.fixture
def place(db):
    return factories.room(factories.floor(factories.building(name="Haus A"), name="EG"), name="Spree")


@pytest.fixture
def series(inbox, monday, place, alice, bob):
    result = services.create_series(
        room=place,
        organizer=alice,
        title="Jour fixe",
        start=thursday(10),
        end=thursday(11),
        rrule="FREQ=WEEKLY;COUNT=3",
        attendees=["bob", GUEST],
        invite_attendees=True,
    )
    deliver_mail()
    inbox.envelopes.clear()
    return result.series


def dates(series) -> list[Booking]:
    return list(Booking.objects.filter(series_id=series.pk).order_by("span"))


def uids(items) -> list[str]:
    return sorted(str(e["uid"]) for e in items)


def uid_of(booking: Booking) -> str:
    """The UID the invitations gave the date (bookings.ical.uid)."""
    return f"booking-{booking.pk}@{settings.RFR_CALENDAR_DOMAIN}"


def only_calendar(mail):
    ((method, cal),) = calendars(mail)
    return method, events(cal)


def test_it_sends_the_new_time_of_every_date_with_the_same_uids_and_a_higher_sequence(
    inbox, series, alice, bob
):
    before = dates(series)

    services.update_series(series=series, actor=alice, scope="all", start_time=time(14), end_time=time(15))
    deliver_mail()

    for address in ("bob@example.com", GUEST):
        (mail,) = inbox.to(address)
        method, found = only_calendar(mail)
        assert method == "REQUEST"
        assert uids(found) == sorted(uid_of(b) for b in before)
        assert {e["sequence"] for e in found} == {2}
        starts = sorted(e.decoded("dtstart") for e in found)
        assert starts == [thursday(14).astimezone(UTC) + timedelta(weeks=n) for n in range(3)]


def test_it_moves_only_the_following_dates(inbox, series, alice):
    _first, second, third = dates(series)

    services.update_series(
        series=series,
        actor=alice,
        scope="following",
        from_booking=second,
        start_time=time(8),
        end_time=time(9),
    )
    deliver_mail()

    (mail,) = inbox.to(GUEST)
    method, found = only_calendar(mail)
    assert method == "REQUEST"
    assert {str(e["uid"]).split("@")[0] for e in found} == {f"booking-{second.pk}", f"booking-{third.pk}"}
    assert {e["sequence"] for e in found} == {2}


def test_it_cancels_every_date_for_an_attendee_the_edit_takes_off(inbox, series, alice, bob):
    before = dates(series)

    services.update_series(series=series, actor=alice, scope="all", attendees=[GUEST])
    deliver_mail()

    (to_bob,) = inbox.to("bob@example.com")
    assert subject(to_bob) == "Abgesagt: Jour fixe (3 Termine)"
    method, found = only_calendar(to_bob)
    assert method == "CANCEL"
    assert uids(found) == sorted(uid_of(b) for b in before)  # the UIDs bob's calendar holds
    assert {str(e["status"]) for e in found} == {"CANCELLED"}
    assert {e["sequence"] for e in found} == {2}
    # The guest stays invited: an update, not a cancellation.
    (to_guest,) = inbox.to(GUEST)
    assert only_calendar(to_guest)[0] == "REQUEST"


def test_it_cancels_only_the_following_dates_for_an_attendee_taken_off_from_a_date(inbox, series, alice, bob):
    _first, _second, third = dates(series)

    services.update_series(
        series=series, actor=alice, scope="following", from_booking=third, attendees=[GUEST]
    )
    deliver_mail()

    (to_bob,) = inbox.to("bob@example.com")
    method, found = only_calendar(to_bob)
    assert (method, [str(e["uid"]).split("@")[0] for e in found]) == ("CANCEL", [f"booking-{third.pk}"])


def test_it_cancels_a_removed_date_with_its_own_uid_and_a_higher_sequence(inbox, series, alice):
    first, second, third = dates(series)

    services.cancel_booking(booking=second, actor=alice)
    deliver_mail()

    (mail,) = inbox.to(GUEST)
    method, (event,) = only_calendar(mail)
    assert (method, str(event["uid"]).split("@")[0]) == ("CANCEL", f"booking-{second.pk}")
    assert (event["sequence"], str(event["status"])) == (2, "CANCELLED")
    inbox.envelopes.clear()

    # A later edit of the series sends the remaining dates only; the removed one stays cancelled.
    services.update_series(series=series, actor=alice, scope="all", start_time=time(12), end_time=time(13))
    deliver_mail()

    (mail,) = inbox.to(GUEST)
    method, found = only_calendar(mail)
    assert method == "REQUEST"
    assert {str(e["uid"]).split("@")[0] for e in found} == {f"booking-{first.pk}", f"booking-{third.pk}"}


def test_it_cancels_the_remaining_dates_when_the_series_is_cancelled_after_an_edit(inbox, series, alice):
    services.update_series(series=series, actor=alice, scope="all", title="Jour fixe (neu)")
    deliver_mail()
    inbox.envelopes.clear()

    services.cancel_series(series=series, actor=alice)
    deliver_mail()

    (mail,) = inbox.to(GUEST)
    method, found = only_calendar(mail)
    assert method == "CANCEL"
    assert {e["sequence"] for e in found} == {3}  # created 1, retitled 2, cancelled 3
