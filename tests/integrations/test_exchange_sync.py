"""The Exchange sync, both ways, run once against each back end's double on HTTPS.

Graph: the real msal and requests talk to the Graph double; EWS: the real exchangelib
speaks SOAP to the EWS double. Both doubles' certificates are signed by a CA made at
test time and trusted through RFR_EXCHANGE_CA_FILE; bookings go through the real
services, the outbox delivers to the ``exchange`` channel, and the exclusion constraint
decides.
"""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import time_machine
from django.utils import timezone

from bookings import outbox, services
from bookings.models import Booking, OutboxMessage, Policy
from bookings.services.approvals import approve_booking
from bookings.services.checkin import release_no_shows
from integrations.exchange.models import EventLink, RoomSync
from tests import factories

from .exchange_fixtures import MAILBOX, deliver, inbound, later


def test_it_puts_a_booking_made_here_into_the_room_calendar(exchange, spree, alice):
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]
    [event] = exchange.events(MAILBOX)
    assert event["subject"] == "Planung"
    assert event["start"]["dateTime"].startswith(start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    assert event["singleValueExtendedProperties"][0]["value"] == f"booking-{booking.pk}:v1"
    assert EventLink.objects.get(booking=booking).remote_id == event["id"]


def test_it_follows_a_change_and_a_cancellation_made_here(exchange, spree, alice):
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    services.update_booking(booking=booking, actor=alice, title="Planung II", end=start + timedelta(hours=2))
    deliver()
    [event] = exchange.events(MAILBOX)
    assert event["subject"] == "Planung II"
    assert event["end"]["dateTime"].startswith(
        (start + timedelta(hours=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    )
    services.cancel_booking(booking=Booking.objects.get(pk=booking.pk), actor=alice)
    deliver()
    assert exchange.events(MAILBOX) == []


def test_it_never_lets_a_cancel_overtake_its_create(exchange, spree, alice):
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    services.cancel_booking(booking=booking, actor=alice)
    create, cancel = OutboxMessage.objects.order_by("pk")
    assert outbox.deliver(cancel.pk) is True  # the cancel comes first...
    assert outbox.deliver(create.pk) is True  # ...and the late create does not resurrect it
    assert exchange.events(MAILBOX) == []


def test_it_shows_a_private_booking_with_a_neutral_subject(exchange, spree, alice):
    start = later()
    services.create_booking(
        room=spree,
        organizer=alice,
        title="Gehaltsgespräch Müller",
        start=start,
        end=start + timedelta(hours=1),
        private=True,
    )
    deliver()
    [event] = exchange.events(MAILBOX)
    assert event["subject"] == "Belegt"
    assert "Müller" not in str(event)


def test_it_loses_nothing_and_keeps_order_while_exchange_is_down(exchange, spree, alice):
    exchange.stop()
    start = later()
    first = services.create_booking(
        room=spree, organizer=alice, title="Eins", start=start, end=start + timedelta(hours=1)
    )
    services.update_booking(
        booking=first,
        actor=alice,
        title="Eins, verschoben",
        start=start + timedelta(hours=3),
        end=start + timedelta(hours=4),
    )
    second = services.create_booking(
        room=spree, organizer=alice, title="Zwei", start=start, end=start + timedelta(hours=1)
    )
    services.cancel_booking(booking=second, actor=alice)
    # The second booking was cancelled before Exchange ever saw it: nothing to send for it.
    assert deliver() == [False, False, True, True]
    assert "nicht erreichbar" in OutboxMessage.objects.order_by("pk").first().last_error
    exchange.start()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):  # past the retries' backoff
        deliver()
    [event] = exchange.events(MAILBOX)
    assert event["subject"] == "Eins, verschoben"
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 0


def test_it_records_a_forbidden_mailbox_and_does_not_retry_for_ever(exchange, spree, alice):
    exchange.forbidden.add(MAILBOX)
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    assert deliver() == [True]  # recorded, not retried
    link = EventLink.objects.get(booking=booking)
    assert link.failed_permanently
    assert RoomSync.objects.get(room=spree).last_error == "Das Dienstkonto darf dieses Postfach nicht öffnen."


def test_it_waits_out_throttling(exchange, spree, alice):
    # Graph: 429 with Retry-After; EWS: ErrorServerBusy with BackOffMilliseconds.
    exchange.throttle(2, retry_after="0.2")
    start = later()
    services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    began = time.monotonic()
    assert deliver() == [True]
    assert time.monotonic() - began >= 0.4  # both refusals waited out, as the server asked
    assert len(exchange.events(MAILBOX)) == 1
    assert exchange.throttled == 0


def test_it_books_an_outlook_meeting_and_accepts_it(exchange, spree, alice):
    start = later()
    event_id = exchange.book(
        MAILBOX, "Vertrieb", start, start + timedelta(hours=1), organizer=("Alice", "ALICE@example.com")
    )
    report = inbound(spree)
    assert report.applied == {"booked": 1}
    booking = Booking.objects.get(room=spree)
    assert (booking.title, booking.organizer, booking.source, booking.status) == (
        "Vertrieb",
        alice,
        "exchange",
        "confirmed",
    )
    assert exchange.answer(event_id) == "accept"


def test_it_declines_a_conflicting_outlook_meeting_with_the_reason(exchange, spree, alice, bob):
    start = later()
    services.create_booking(
        room=spree, organizer=bob, title="Hier zuerst", start=start, end=start + timedelta(hours=1)
    )
    event_id = exchange.book(MAILBOX, "Zu spät", start + timedelta(minutes=30), start + timedelta(hours=2))
    assert inbound(spree).applied == {"declined": 1}
    [response] = [r for r in exchange.responses if r["id"] == event_id]
    assert response["answer"] == "decline"
    # The organizer's language is not known: the reason in German, then in English.
    german, english = response["comment"].split("\n\n")
    assert german == "Der Raum ist zu dieser Zeit bereits gebucht."
    assert english == "The room is already booked at this time."
    assert Booking.objects.filter(room=spree).count() == 1
    assert event_id not in {e["id"] for e in exchange.events(MAILBOX)}


def test_it_mirrors_an_outlook_change_and_cancellation(exchange, spree, alice):
    start = later()
    event_id = exchange.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    inbound(spree)
    exchange.change(
        MAILBOX,
        event_id,
        start=start + timedelta(hours=2),
        end=start + timedelta(hours=3),
        subject="Vertrieb neu",
    )
    assert inbound(spree).applied == {"changed": 1}
    booking = Booking.objects.get(room=spree)
    assert (booking.title, booking.span.lower) == ("Vertrieb neu", start + timedelta(hours=2))
    exchange.remove(MAILBOX, event_id)
    assert inbound(spree).applied == {"cancelled": 1}
    assert Booking.objects.get(room=spree).status == "cancelled"


def test_it_does_not_apply_its_own_changes_twice(exchange, spree, alice):
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    deliver()
    assert inbound(spree).applied == {"echo": 1}
    deliver()
    assert Booking.objects.get(pk=booking.pk).version == 1
    assert len(exchange.events(MAILBOX)) == 1
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 0


def test_it_mirrors_a_recurring_meeting_with_a_moved_and_a_deleted_occurrence(exchange, spree):
    start = later()
    ids = exchange.book_series(MAILBOX, "Jour fixe", start, minutes=30, days=4)
    inbound(spree)
    exchange.change(
        MAILBOX,
        ids[1],
        start=start + timedelta(days=1, hours=2),
        end=start + timedelta(days=1, hours=2, minutes=30),
    )
    exchange.remove(MAILBOX, ids[2])
    inbound(spree)
    rows = list(Booking.objects.filter(room=spree).order_by("span"))
    assert [(b.status, b.span.lower - start) for b in rows] == [
        ("confirmed", timedelta(0)),
        ("confirmed", timedelta(days=1, hours=2)),
        ("cancelled", timedelta(days=2)),
        ("confirmed", timedelta(days=3)),
    ]


def test_it_resyncs_without_duplicates_when_the_delta_link_expired(exchange, spree):
    start = later()
    exchange.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    inbound(spree)
    exchange.book(MAILBOX, "Einkauf", start + timedelta(hours=2), start + timedelta(hours=3))
    exchange.expire_delta_links(MAILBOX)
    report = inbound(spree)
    assert report.applied.get("resync") == 1
    assert sorted(Booking.objects.filter(room=spree).values_list("title", flat=True)) == [
        "Einkauf",
        "Vertrieb",
    ]


def test_it_reconciles_a_deleted_event_of_ours_and_a_missed_outlook_meeting(exchange, spree, alice):
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    deliver()
    inbound(spree)
    [ours] = exchange.events(MAILBOX)
    exchange.remove(MAILBOX, ours["id"])  # someone deleted it in Outlook
    exchange.book(MAILBOX, "Verpasst", start + timedelta(hours=2), start + timedelta(hours=3))
    exchange.expire_delta_links(MAILBOX)
    report = inbound(spree, full=True)
    assert report.applied["recreated"] == 1
    subjects = sorted(e["subject"] for e in exchange.events(MAILBOX))
    assert subjects == ["Planung", "Verpasst"]
    assert EventLink.objects.get(booking=booking).remote_id in {e["id"] for e in exchange.events(MAILBOX)}
    assert Booking.objects.filter(room=spree, title="Verpasst", source="exchange").count() == 1


def test_it_keeps_a_meeting_that_needs_approval_tentative_until_a_manager_decides(
    exchange, spree, alice, maria
):
    Policy.objects.create(room=spree, requires_approval=True, approval_timeout_hours=24).managers.add(
        maria.groups.get()
    )
    start = later()
    event_id = exchange.book(
        MAILBOX, "Vorstand", start, start + timedelta(hours=1), organizer=("Alice", "alice@example.com")
    )
    inbound(spree)
    booking = Booking.objects.get(room=spree)
    assert booking.status == "pending"
    assert exchange.answer(event_id) == "tentativelyAccept"
    approve_booking(booking=booking, actor=maria)
    deliver()
    assert exchange.answer(event_id) == "accept"


def test_it_lets_exactly_one_win_when_outlook_and_the_web_take_the_same_slot(exchange, spree, alice, bob):
    start = later()
    event_id = exchange.book(MAILBOX, "Aus Outlook", start, start + timedelta(hours=1))
    # The web booking commits first; the Outlook meeting read in the same second loses.
    services.create_booking(
        room=spree, organizer=bob, title="Aus dem Web", start=start, end=start + timedelta(hours=1)
    )
    inbound(spree)
    deliver()
    active = Booking.objects.filter(room=spree, status__in=Booking.ACTIVE)
    assert list(active.values_list("title", flat=True)) == ["Aus dem Web"]
    assert [e["subject"] for e in exchange.events(MAILBOX)] == ["Aus dem Web"]
    assert exchange.answer(event_id) == "decline"


def test_it_refuses_outlook_meetings_in_a_room_that_only_publishes(exchange, spree):
    RoomSync.objects.create(room=spree, mode=RoomSync.Mode.PUBLISH)
    start = later()
    event_id = exchange.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert inbound(spree).applied == {"declined": 1}
    assert not Booking.objects.filter(room=spree).exists()
    assert exchange.answer(event_id) == "decline"
    [response] = exchange.responses
    assert response["comment"].split("\n\n") == [
        "Dieser Raum wird nur in raum]für[raum gebucht.",
        "This room is booked in raum]für[raum only.",
    ]


def test_it_moves_the_event_when_the_booking_moves_to_another_room(exchange, spree, alice):
    other = factories.room(spree.floor, exchange_mailbox="raum-havel@firma.de")
    exchange.add_mailbox(other.exchange_mailbox)
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=1)
    )
    deliver()
    services.update_booking(booking=booking, actor=alice, room=other)
    deliver()
    assert exchange.events(MAILBOX) == []
    assert [e["subject"] for e in exchange.events(other.exchange_mailbox)] == ["Planung"]


def test_it_shortens_the_event_of_a_released_no_show(exchange, spree, alice):
    Policy.objects.create(room=spree, requires_check_in=True, check_in_grace_minutes=15)
    start = later()
    booking = services.create_booking(
        room=spree, organizer=alice, title="Planung", start=start, end=start + timedelta(hours=2)
    )
    deliver()
    with time_machine.travel(start + timedelta(minutes=20)):
        assert release_no_shows() == [booking.pk]
        deliver()
    [event] = exchange.events(MAILBOX)
    assert event["end"]["dateTime"][11:16] == (start + timedelta(minutes=15)).astimezone(UTC).strftime(
        "%H:%M"
    )


def test_it_declines_an_outlook_change_onto_a_taken_slot_and_keeps_the_booking(exchange, spree, alice, bob):
    start = later()
    event_id = exchange.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    inbound(spree)
    services.create_booking(
        room=spree,
        organizer=bob,
        title="Besetzt",
        start=start + timedelta(hours=3),
        end=start + timedelta(hours=4),
    )
    exchange.change(MAILBOX, event_id, start=start + timedelta(hours=3), end=start + timedelta(hours=4))
    assert inbound(spree).applied == {"change declined": 1}
    ours = Booking.objects.get(room=spree, title="Vertrieb")
    assert (ours.span.lower, ours.version) == (start, 1)  # the refused change changed nothing
    [response] = [r for r in exchange.responses if r["answer"] == "decline"]
    assert response["comment"] == (
        "Der Raum ist zu dieser Zeit bereits gebucht.\n\nThe room is already booked at this time."
    )


def test_the_reconcile_cancels_an_outlook_meeting_whose_deletion_the_sync_missed(exchange, spree):
    start = later()
    kept = exchange.book(MAILBOX, "Bleibt", start, start + timedelta(hours=1))
    gone = exchange.book(MAILBOX, "Gelöscht", start + timedelta(hours=2), start + timedelta(hours=3))
    inbound(spree)
    exchange.remove(MAILBOX, gone)
    exchange.expire_delta_links(MAILBOX)  # the next read starts afresh and cannot report the deletion
    assert inbound(spree).applied.get("cancelled") is None
    report = inbound(spree, full=True)
    assert report.applied["cancelled"] == 1
    statuses = dict(Booking.objects.filter(room=spree).values_list("title", "status"))
    assert statuses == {"Bleibt": "confirmed", "Gelöscht": "cancelled"}
    assert [e["id"] for e in exchange.events(MAILBOX)] == [kept]
    assert all(deliver())  # the cancellation's message among them: nothing left to send
    assert [e["id"] for e in exchange.events(MAILBOX)] == [kept]
    assert [r["answer"] for r in exchange.responses if r["id"] == gone] == ["accept"]  # no decline sent
    assert not EventLink.objects.filter(failed_permanently=True).exists()
