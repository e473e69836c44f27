"""Mail through the outbox: a real SMTP server on loopback (aiosmtpd) receives every mail,
and the test reads it as a person's mail program would: headers, text, and the .ics.

Services make the changes; ``outbox.deliver`` hands the channel "mail" to the sink, as
the worker does.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings import outbox, services, tasks
from bookings.models import Booking, OutboxMessage, Policy
from bookings.notifications.reminders import send_reminders
from bookings.services.blockings import create_blocking
from bookings.services.checkin import release_no_shows
from tests import factories
from tests.conftest import ROOT, free_port

# Monday 23 November 2026, 09:00 in Berlin; the bookings below are on Thursday the 26th.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GONE = "gone@example.com"


class Inbox:
    """The SMTP server's side: every accepted mail, and a recipient it refuses for good."""

    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == GONE:
            return "550 5.1.1 <gone@example.com>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def mails(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.mails() if m["To"] == address]


@pytest.fixture(scope="module")
def smtp_server():
    controller = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(smtp_server, settings) -> Inbox:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = '"raum]für[raum" <raum@firma.example>'
    settings.RFR_MAIL_LANGUAGE = "de"
    smtp_server.handler.envelopes.clear()
    return smtp_server.handler


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=True):
        yield


def thursday(hour: int, minute: int = 0) -> datetime:
    return factories.on(datetime(2026, 11, 26).date(), hour, minute)


def deliver_mail() -> list[bool]:
    """What the worker does: deliver each due message of the channel "mail"."""
    ids = OutboxMessage.objects.filter(channel="mail", delivered_at__isnull=True).order_by("pk")
    return [outbox.deliver(pk) for pk in ids.values_list("pk", flat=True)]


def subject(mail) -> str:
    # Django folds a long encoded subject right after "Subject:"; mail programs drop
    # the space that leaves, Python's parser keeps it.
    return str(mail["Subject"]).strip()


def calendars(mail) -> list[tuple[str, icalendar.Calendar]]:
    """(method parameter of the part, parsed calendar) of each text/calendar part."""
    return [
        (part.get_param("method"), icalendar.Calendar.from_ical(part.get_content()))
        for part in mail.walk()
        if part.get_content_type() == "text/calendar"
    ]


def events(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return list(cal.walk("VEVENT"))


def book(room, organizer, **extra) -> Booking:
    return services.create_booking(
        room=room,
        organizer=organizer,
        title=extra.pop("title", "Planung Q1"),
        start=extra.pop("start", thursday(10)),
        end=extra.pop("end", thursday(11)),
        **extra,
    )


# --- one booking: created, changed, cancelled ----------------------------------------------


@pytest.mark.django_db
def test_it_mails_an_invitation_that_a_calendar_updates_and_then_cancels(inbox, monday, room, alice):
    booking = book(room, alice, private=True)
    assert deliver_mail() == [True]
    services.update_booking(booking=booking, actor=alice, start=thursday(14), end=thursday(15, 30))
    assert deliver_mail() == [True]
    services.cancel_booking(booking=Booking.objects.get(pk=booking.pk), actor=alice)
    assert deliver_mail() == [True]

    created, updated, cancelled = inbox.to("alice@example.com")
    assert [subject(m) for m in (created, updated, cancelled)] == [
        # The title is private, but this is its organizer; the time is Berlin's, in German.
        f"{prefix}: Planung Q1, Donnerstag, 26. November 2026, {time}"
        for prefix, time in (
            ("Gebucht", "10:00–11:00"),
            ("Geändert", "14:00–15:30"),
            ("Storniert", "14:00–15:30"),
        )
    ]
    invitations = [calendars(m) for m in (created, updated, cancelled)]
    assert [[method for method, _cal in c] for c in invitations] == [["REQUEST"], ["REQUEST"], ["CANCEL"]]
    assert [c[0][1]["METHOD"] for c in invitations] == ["REQUEST", "REQUEST", "CANCEL"]
    entries = [events(c[0][1])[0] for c in invitations]
    assert len({str(e["UID"]) for e in entries}) == 1
    assert str(entries[0]["UID"]) == f"booking-{booking.pk}@raumfuerraum.invalid"
    assert [int(e["SEQUENCE"]) for e in entries] == [1, 2, 3]
    assert [str(e["STATUS"]) for e in entries] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert [e.decoded("DTSTART").astimezone(UTC) for e in entries] == [
        datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 13, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 13, 0, tzinfo=UTC),
    ]
    assert str(entries[0]["SUMMARY"]) == "Planung Q1"
    assert str(entries[0]["ATTENDEE"]) == "mailto:alice@example.com"
    assert str(entries[0]["ORGANIZER"]) == "mailto:raum@firma.example"


@pytest.mark.django_db
def test_it_names_the_mail_after_its_outbox_message_so_a_second_delivery_is_recognisable(
    inbox, monday, room, alice
):
    book(room, alice)
    message = OutboxMessage.objects.get(channel="mail")
    from bookings.notifications.mail import mail_sink

    # A worker that crashed after sending but before recording it sends the message again.
    mail_sink(message)
    mail_sink(message)

    first, again = inbox.to("alice@example.com")
    assert first["Message-ID"] == again["Message-ID"] == f"<outbox-{message.pk}@raumfuerraum.invalid>"
    assert first["From"].addresses[0].display_name == "raum]für[raum"
    assert "Donnerstag, 26. November 2026, 10:00–11:00" in first.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_it_speaks_the_configured_language(inbox, monday, settings, room, alice):
    settings.RFR_MAIL_LANGUAGE = "en"
    book(room, alice)
    deliver_mail()

    (mail,) = inbox.to("alice@example.com")
    assert subject(mail).startswith("Booked: Planung Q1, Thursday, ")
    assert "Your booking is confirmed." in mail.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_it_gives_times_in_the_rooms_time_zone(inbox, monday, alice):
    room = factories.room(factories.floor(factories.building(factories.site(time_zone="America/New_York"))))
    book(
        room,
        alice,
        start=datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
        end=datetime(2026, 11, 26, 16, 0, tzinfo=UTC),
    )
    deliver_mail()

    (mail,) = inbox.to("alice@example.com")
    assert subject(mail).endswith("Donnerstag, 26. November 2026, 10:00–11:00 (America/New_York)")


# --- approvals --------------------------------------------------------------------------------


@pytest.fixture
def approval_room(room, bob):
    managers = Group.objects.create(name="Raumverwaltung")
    bob.groups.add(managers)
    Policy.objects.create(room=room, requires_approval=True).managers.add(managers)
    return room


@pytest.mark.django_db
def test_it_asks_the_room_managers_to_decide_a_request_with_their_own_links(
    inbox, monday, approval_room, alice, bob
):
    booking = book(approval_room, alice)
    assert booking.status == Booking.Status.PENDING
    assert deliver_mail() == [True]

    (request,) = inbox.to("alice@example.com")
    ((method, cal),) = calendars(request)
    assert method == "REQUEST"
    assert str(events(cal)[0]["STATUS"]) == "TENTATIVE"

    (ask,) = inbox.to("bob@example.com")
    assert (
        subject(ask) == f"Bitte bestätigen: {approval_room.name}, Donnerstag, 26. November 2026, 10:00–11:00"
    )
    assert calendars(ask) == []
    text = ask.get_body(("plain",)).get_content()
    links = [word for word in text.split() if word.startswith("http://127.0.0.1:8000/")]
    token = services.approvals.decision_token(booking_id=booking.pk, manager_id=bob.pk)
    assert links == [
        services.approvals.decision_link(booking_id=booking.pk, manager_id=bob.pk) + "?decision=approve",
        services.approvals.decision_link(booking_id=booking.pk, manager_id=bob.pk) + "?decision=reject",
    ]
    assert token in links[0]
    assert "alice" in text
    assert ask["Message-ID"] != request["Message-ID"]


@pytest.mark.django_db
def test_it_tells_the_organizer_of_a_rejection_and_its_reason(inbox, monday, approval_room, alice, bob):
    booking = book(approval_room, alice)
    services.reject_booking(booking=booking, actor=bob, reason="Raum ist für den Vorstand reserviert")
    deliver_mail()

    *_request, rejected = inbox.to("alice@example.com")
    assert "Raum ist für den Vorstand reserviert" in rejected.get_body(("plain",)).get_content()
    ((method, cal),) = calendars(rejected)
    assert method == "CANCEL"
    assert int(events(cal)[0]["SEQUENCE"]) == 2


# --- series -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_one_mail_for_a_series_with_an_entry_per_date(inbox, monday, room, alice):
    result = services.create_series(
        room=room,
        organizer=alice,
        title="Jour fixe",
        start=thursday(9),
        end=thursday(9, 30),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    deliver_mail()
    services.cancel_series(series=result.series, actor=alice)
    deliver_mail()

    created, cancelled = inbox.to("alice@example.com")
    ((method, cal),) = calendars(created)
    assert method == "REQUEST"
    uids = [str(e["UID"]) for e in events(cal)]
    assert uids == [f"booking-{b.pk}@raumfuerraum.invalid" for b in result.created]
    assert [e.decoded("DTSTART").astimezone(UTC).day for e in events(cal)] == [26, 3, 10]
    ((method, cal),) = calendars(cancelled)
    assert method == "CANCEL"
    assert [str(e["UID"]) for e in events(cal)] == uids
    assert {int(e["SEQUENCE"]) for e in events(cal)} == {2}
    assert "Donnerstag, 10. Dezember 2026, 09:00–09:30" in created.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_it_sends_the_changed_dates_of_a_series_as_updates_of_their_entries(inbox, monday, room, alice):
    result = services.create_series(
        room=room,
        organizer=alice,
        title="Jour fixe",
        start=thursday(9),
        end=thursday(9, 30),
        rrule="FREQ=WEEKLY;COUNT=2",
    )
    deliver_mail()
    services.update_series(
        series=result.series, actor=alice, scope="all", start_time=time(15), end_time=time(16)
    )
    deliver_mail()

    _created, changed = inbox.to("alice@example.com")
    ((method, cal),) = calendars(changed)
    assert method == "REQUEST"
    assert [str(e["UID"]) for e in events(cal)] == [
        f"booking-{b.pk}@raumfuerraum.invalid" for b in result.created
    ]
    assert [int(e["SEQUENCE"]) for e in events(cal)] == [2, 2]
    assert [e.decoded("DTSTART").astimezone(UTC).hour for e in events(cal)] == [14, 14]
    assert "Donnerstag, 3. Dezember 2026, 15:00–16:00" in changed.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_it_tells_of_a_released_no_show_and_reports_the_series_to_its_owner(inbox, settings, room, alice):
    settings.RFR_NO_SHOW_REPORT_AFTER = 1
    Policy.objects.create(room=room, requires_check_in=True, check_in_grace_minutes=15)
    with time_machine.travel(MONDAY, tick=False):
        result = services.create_series(
            room=room,
            organizer=alice,
            title="Jour fixe",
            start=thursday(9),
            end=thursday(10),
            rrule="FREQ=WEEKLY;COUNT=2",
        )
        deliver_mail()
    with time_machine.travel(thursday(9, 16), tick=False):
        assert release_no_shows() == [result.created[0].pk]
        assert deliver_mail() == [True, True]

    _created, released, report = inbox.to("alice@example.com")
    assert subject(released) == "Freigegeben: Jour fixe, Donnerstag, 26. November 2026, 09:00–10:00"
    ((method, cal),) = calendars(released)
    assert method == "CANCEL"
    assert str(events(cal)[0]["UID"]) == f"booking-{result.created[0].pk}@raumfuerraum.invalid"
    assert subject(report) == "Serie nicht genutzt: Jour fixe"
    text = report.get_body(("plain",)).get_content()
    assert "1 Termin Ihrer Serie „Jour fixe“" in text
    assert f"/series/{result.series.pk}/cancel/" in text


# --- blockings --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_tells_each_organizer_of_a_blocking_once_with_its_reason(inbox, monday, room, alice, bob, fiona):
    book(room, alice, start=thursday(9), end=thursday(10))
    book(room, alice, start=thursday(11), end=thursday(12))
    book(room, bob, start=thursday(14), end=thursday(15))
    create_blocking(place=room, start=thursday(8), end=thursday(18), reason="Wasserschaden", actor=fiona)
    OutboxMessage.objects.filter(channel="mail").exclude(topic="blocking.created").update(
        delivered_at=timezone.now()
    )
    assert deliver_mail() == [True]

    (to_alice,) = inbox.to("alice@example.com")
    (to_bob,) = inbox.to("bob@example.com")
    text = to_alice.get_body(("plain",)).get_content()
    assert "Wasserschaden" in text
    assert "Donnerstag, 26. November 2026, 08:00–18:00" in text
    assert text.count("Planung Q1") == 2
    assert to_alice["Message-ID"] != to_bob["Message-ID"]


# --- who gets no mail, and failures ------------------------------------------------------------


@pytest.mark.django_db
def test_it_skips_an_organizer_without_a_mail_address_and_says_so(inbox, monday, room, alice, caplog):
    alice.email = ""
    alice.save()
    book(room, alice)
    with caplog.at_level(logging.INFO, logger="rfr.mail"):
        assert deliver_mail() == [True]

    assert inbox.mails() == []
    assert "alice has no mail address" in caplog.text
    assert OutboxMessage.objects.get(channel="mail").last_error == ""


@pytest.mark.django_db
def test_it_retries_later_while_the_mail_server_is_down(inbox, monday, settings, room, alice):
    settings.EMAIL_PORT = free_port()  # nobody listens there
    book(room, alice)
    before = timezone.now()
    assert deliver_mail() == [False]

    message = OutboxMessage.objects.get(channel="mail")
    assert message.delivered_at is None and message.given_up_at is None
    assert message.attempts == 1
    assert message.available_at > before + timedelta(seconds=10)
    assert "ConnectionRefusedError" in message.last_error
    assert inbox.mails() == []


@pytest.mark.django_db
def test_it_gives_up_on_a_mailbox_the_server_refuses_for_good(inbox, monday, room, alice):
    alice.email = GONE
    alice.save()
    book(room, alice)
    assert deliver_mail() == [False]

    message = OutboxMessage.objects.get(channel="mail")
    assert message.given_up_at is not None and message.delivered_at is None
    assert "550" in message.last_error and GONE in message.last_error
    assert inbox.mails() == []


# --- reminders --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reminds_the_organizer_once_shortly_before_the_start(inbox, settings, room, alice):
    settings.RFR_REMINDER_MINUTES = 15
    with time_machine.travel(MONDAY, tick=False):
        booking = book(room, alice)
    OutboxMessage.objects.update(delivered_at=MONDAY)
    with time_machine.travel(thursday(9, 44), tick=False):
        assert send_reminders() == 0
    with time_machine.travel(thursday(9, 46), tick=False):
        assert send_reminders() == 1
        assert send_reminders() == 0
        assert deliver_mail() == [True]
    with time_machine.travel(thursday(9, 50), tick=False):
        assert send_reminders() == 0
    with time_machine.travel(thursday(11, 50), tick=False):
        # Booked ten minutes before its start: its organizer needs no reminder.
        late = book(room, alice, start=thursday(12), end=thursday(13))
        assert send_reminders() == 0

    (reminder,) = inbox.to("alice@example.com")
    assert subject(reminder) == "Erinnerung: Planung Q1, Donnerstag, 26. November 2026, 10:00–11:00"
    assert "beginnt bald" in reminder.get_body(("plain",)).get_content()
    assert calendars(reminder) == []
    assert Booking.objects.get(pk=booking.pk).reminded_at == thursday(9, 46)
    assert Booking.objects.get(pk=late.pk).reminded_at is None
    assert OutboxMessage.objects.filter(topic="booking.reminder", channel="mail").count() == 1


@pytest.mark.django_db
def test_it_sends_no_reminders_while_they_are_off(inbox, room, alice):
    with time_machine.travel(MONDAY, tick=False):
        book(room, alice)
    with time_machine.travel(thursday(9, 55), tick=False):
        assert send_reminders() == 0
    assert not OutboxMessage.objects.filter(topic="booking.reminder").exists()


@pytest.mark.django_db
def test_it_queues_reminders_from_the_beat_task(inbox, settings, room, alice):
    settings.RFR_REMINDER_MINUTES = 30
    with time_machine.travel(MONDAY, tick=False):
        book(room, alice)
    with time_machine.travel(thursday(9, 45), tick=False):
        assert tasks.send_reminders() == 1
        assert tasks.send_reminders() == 0


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_writes_mails_to_files_without_a_mail_server(settings, tmp_path, monday, room, alice):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    book(room, alice)
    assert deliver_mail() == [True]

    (path,) = tmp_path.iterdir()
    mail = email.message_from_bytes(
        path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0] + b"\n", policy=email.policy.default
    )
    assert "Planung Q1" in subject(mail)


def settings_in(env: dict) -> dict:
    """The mail settings a fresh process computes from this environment."""
    names = [
        *("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"),
        *("EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT", "EMAIL_FILE_PATH", "DEFAULT_FROM_EMAIL"),
        *("RFR_MAIL_LANGUAGE", "RFR_REMINDER_MINUTES"),
    ]
    code = (
        "import json; from raumfuerraum import settings as s; "
        f"print(json.dumps({{k: getattr(s, k, None) for k in {names!r}}} "
        "| {'beat': sorted(s.CELERY_BEAT_SCHEDULE)}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RFR_SMTP", "RFR_MAIL", "RFR_REMINDER"))}
    out = subprocess.run(
        [sys.executable, "-c", code], env=base | env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_it_reads_the_mail_settings_from_the_environment(tmp_path):
    password = tmp_path / "smtp-password"
    password.write_text("geheim\n")
    smtp = settings_in(
        {
            "RFR_SMTP_HOST": "mail.firma.example",
            "RFR_SMTP_PORT": "587",
            "RFR_SMTP_USER": "raum",
            "RFR_SMTP_PASSWORD_FILE": str(password),
            "RFR_SMTP_STARTTLS": "1",
            "RFR_MAIL_FROM": "raum]für[raum <raum@firma.example>",
            "RFR_MAIL_LANGUAGE": "en",
            "RFR_REMINDER_MINUTES": "15",
        }
    )
    demo = settings_in({"RFR_DATA_DIR": str(tmp_path)})

    assert smtp["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"], smtp["EMAIL_HOST_USER"]) == (
        "mail.firma.example",
        587,
        "raum",
    )
    assert smtp["EMAIL_HOST_PASSWORD"] == "geheim"
    assert (smtp["EMAIL_USE_TLS"], smtp["EMAIL_USE_SSL"], smtp["EMAIL_TIMEOUT"]) == (True, False, 10)
    assert smtp["DEFAULT_FROM_EMAIL"] == '"raum]für[raum" <raum@firma.example>'
    assert (smtp["RFR_MAIL_LANGUAGE"], smtp["RFR_REMINDER_MINUTES"]) == ("en", 15)
    assert "send-reminders" in smtp["beat"]
    assert demo["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert demo["EMAIL_FILE_PATH"] == str(tmp_path.resolve() / "mail")
    assert (demo["EMAIL_PORT"], demo["RFR_MAIL_LANGUAGE"], demo["RFR_REMINDER_MINUTES"]) == (25, "de", 0)
    assert "send-reminders" not in demo["beat"]
