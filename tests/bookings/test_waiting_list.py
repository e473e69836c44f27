"""The waiting list: queue for a taken slot, get it booked when it frees up, first come first served.

Personas: alice holds the room 09:00–10:00; bob and charlie wait for it.
"""

from __future__ import annotations

import io
import threading
import time

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from bookings import outbox, services
from bookings.errors import InvalidBooking, NotAllowed
from bookings.models import Booking, BookingEvent, OutboxMessage, Policy, WaitingEntry
from bookings.services.waiting import expire_waiting, join_waiting_list, leave_waiting_list, promote_waiting
from tests import factories
from tests.helpers import bearer


@pytest.fixture
def charlie(db):
    return factories.user("charlie")


@pytest.fixture
def taken(room, at, alice):
    """Alice's booking of the room, 09:00–10:00."""
    return services.create_booking(room=room, organizer=alice, title="Planung", start=at(9), end=at(10))


def wait(person, room, at, start=9, end=10, title="Warten"):
    return join_waiting_list(person=person, room=room, title=title, start=at(start), end=at(end))


def test_it_queues_for_a_taken_slot_once(room, at, taken, bob):
    first = wait(bob, room, at)
    again = wait(bob, room, at)

    assert first.pk == again.pk
    assert (first.status, first.person, first.start) == ("waiting", bob, at(9))


def test_it_refuses_to_queue_for_a_free_slot(room, at, taken, bob):
    with pytest.raises(InvalidBooking, match="Der Raum ist zu dieser Zeit frei"):
        wait(bob, room, at, 11, 12)
    assert not WaitingEntry.objects.exists()


def test_it_books_the_first_in_line_when_the_slot_is_cancelled(room, at, taken, alice, bob, charlie):
    first = wait(bob, room, at)
    second = wait(charlie, room, at)

    services.cancel_booking(booking=taken, actor=alice)
    promoted = promote_waiting(room_id=room.pk)

    assert [e.pk for e in promoted] == [first.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.booking.organizer, first.booking.start) == ("booked", bob, at(9))
    assert second.status == "waiting"  # the others stay in line
    event = BookingEvent.objects.get(booking=first.booking, kind="created")
    assert event.changes["waiting_list"] == first.pk


def test_it_tells_the_person_by_mail_with_a_link_to_give_it_back(room, at, taken, alice, bob, mailoutbox):
    entry = wait(bob, room, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=room.pk)
    OutboxMessage.objects.filter(topic="booking.cancelled").delete()
    for pk in OutboxMessage.objects.values_list("pk", flat=True):
        outbox.deliver(pk)

    entry.refresh_from_db()
    (mail,) = [m for m in mailoutbox if m.to == ["bob@example.com"]]
    assert mail.subject.startswith("Sie sind dran (Warteliste): Warten")
    assert f"/bookings/{entry.booking_id}/cancel/" in mail.body


def test_it_books_the_freed_part_of_a_shortened_booking(room, at, alice, bob):
    long = services.create_booking(room=room, organizer=alice, title="Lang", start=at(9), end=at(11))
    entry = wait(bob, room, at, 10, 11)

    services.update_booking(booking=long, actor=alice, end=at(10))
    promote_waiting(room_id=room.pk)

    entry.refresh_from_db()
    assert entry.status == "booked"


def test_it_keeps_waiting_while_the_slot_is_still_taken(room, at, taken, bob):
    entry = wait(bob, room, at)

    assert promote_waiting(room_id=room.pk) == []
    entry.refresh_from_db()
    assert entry.status == "waiting"


def test_it_skips_an_entry_whose_rules_no_longer_allow_it_and_books_the_next(
    room, at, taken, alice, bob, charlie
):
    first = wait(bob, room, at)
    second = wait(charlie, room, at)
    # Bob has used up his day meanwhile: one booking per day in this room.
    Policy.objects.create(room=room, max_bookings_per_day=1)
    services.create_booking(room=room, organizer=bob, title="Eigene", start=at(14), end=at(15))

    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=room.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "refused"
    assert "pro Tag" in first.reason
    assert (second.status, second.booking.organizer) == ("booked", charlie)


def test_it_skips_a_person_who_has_left(room, at, taken, alice, bob):
    entry = wait(bob, room, at)
    bob.is_active = False
    bob.save()

    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=room.pk)

    entry.refresh_from_db()
    assert (entry.status, entry.reason) == ("refused", "Die wartende Person ist nicht mehr aktiv.")
    assert not Booking.objects.filter(status__in=Booking.ACTIVE).exists()


def test_it_expires_entries_whose_time_has_come(room, at, taken, bob):
    entry = wait(bob, room, at)

    with time_machine.travel(at(9, 1)):
        assert expire_waiting() == 1

    entry.refresh_from_db()
    assert entry.status == "expired"


def test_it_lets_only_the_person_leave_the_line(room, at, taken, bob, charlie):
    entry = wait(bob, room, at)

    with pytest.raises(NotAllowed):
        leave_waiting_list(entry=entry, actor=charlie)
    leave_waiting_list(entry=entry, actor=bob)

    entry.refresh_from_db()
    assert entry.status == "withdrawn"


# --- the API --------------------------------------------------------------------------------


def test_it_joins_lists_and_leaves_through_the_api(client, room, at, taken, bob, charlie):
    body = {"room": room.pk, "title": "Warten", "start": at(9).isoformat(), "end": at(10).isoformat()}

    created = client.post("/api/v1/waiting-list", body, content_type="application/json", headers=bearer(bob))
    assert created.status_code == 201, created.content
    entry_id = created.json()["id"]
    listed = client.get("/api/v1/waiting-list", headers=bearer(bob)).json()
    assert [(e["id"], e["status"]) for e in listed] == [(entry_id, "waiting")]

    assert client.delete(f"/api/v1/waiting-list/{entry_id}", headers=bearer(charlie)).status_code == 403
    left = client.delete(f"/api/v1/waiting-list/{entry_id}", headers=bearer(bob))
    assert left.json()["status"] == "withdrawn"


def test_it_refuses_a_free_slot_through_the_api_in_english(client, room, at, bob):
    body = {"room": room.pk, "title": "Warten", "start": at(9).isoformat(), "end": at(10).isoformat()}

    response = client.post(
        "/api/v1/waiting-list",
        body,
        content_type="application/json",
        headers={**bearer(bob), "Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "The room is free at this time: book it directly."
    assert not WaitingEntry.objects.exists()


# --- the staff pages ------------------------------------------------------------------------


def test_it_offers_the_waiting_list_on_a_conflict_and_shows_it_in_my_bookings(client, room, day, taken, bob):
    client.force_login(bob)
    data = {"key": "k1", "room": room.pk, "date": day.isoformat(), "start": "09:00", "end": "10:00"}

    refused = client.post("/book/", {**data, "title": "Warten"})
    assert refused.status_code == 409
    assert "Auf die Warteliste" in refused.content.decode()

    joined = client.post("/waiting/", {**data, "title": "Warten"}, follow=True)
    page = joined.content.decode()
    assert "Sie stehen auf der Warteliste" in page
    entry = WaitingEntry.objects.get(person=bob)
    assert f'id="waiting-{entry.pk}"' in page

    client.post(f"/waiting/{entry.pk}/leave/")
    entry.refresh_from_db()
    assert entry.status == "withdrawn"


def test_it_refuses_to_join_with_bad_input(client, room, day, bob):
    client.force_login(bob)

    response = client.post("/waiting/", {"room": room.pk, "date": "kein Datum", "title": "X"}, follow=True)

    assert "Warteliste konnte nicht" in response.content.decode()
    assert not WaitingEntry.objects.exists()


# --- the database decides -------------------------------------------------------------------


def race(room, charlie, start, end) -> list[Exception]:
    """The promotion and charlie's direct booking of [start, end), released at the same instant."""
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def promote():
        try:
            barrier.wait()
            promote_waiting(room_id=room.pk)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def book_directly():
        try:
            barrier.wait()
            services.create_booking(room=room, organizer=charlie, title="Direkt", start=start, end=end)
        except services.BookingConflict:
            pass  # the waiting person was faster
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=promote), threading.Thread(target=book_directly)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


@pytest.mark.django_db(transaction=True)
def test_it_gives_a_freed_slot_to_exactly_one_of_a_waiting_person_and_a_direct_booker(room, at, alice, bob):
    charlie = factories.user("charlie")
    winners = []
    for hour in range(8, 16):
        start, end = at(hour), at(hour + 1)
        held = services.create_booking(room=room, organizer=alice, title="X", start=start, end=end)
        entry = join_waiting_list(person=bob, room=room, title="Warten", start=start, end=end)
        services.cancel_booking(booking=held, actor=alice)

        assert race(room, charlie, start, end) == []

        active = list(Booking.objects.filter(status__in=Booking.ACTIVE, span=held.span))
        assert len(active) == 1, active
        entry.refresh_from_db()
        # Bob's entry is booked exactly when he got the slot; otherwise he stays in line.
        assert entry.status == ("booked" if active[0].organizer == bob else "waiting")
        winners.append(active[0].organizer.username)
    assert set(winners) <= {"bob", "charlie"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_is_promoted_by_the_worker_when_the_slot_is_cancelled(room, at, alice, bob, celery_worker):
    held = services.create_booking(room=room, organizer=alice, title="X", start=at(9), end=at(10))
    entry = join_waiting_list(person=bob, room=room, title="Warten", start=at(9), end=at(10))
    celery_worker.start()

    services.cancel_booking(booking=held, actor=alice)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entry.refresh_from_db()
        if entry.status != "waiting":
            break
        time.sleep(0.1)
    assert entry.status == "booked"
    assert entry.booking.organizer == bob


def test_it_seeds_a_place_on_the_waiting_list_for_the_demo(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    (entry,) = WaitingEntry.objects.filter(person__username="demo", status="waiting")
    assert entry.status == "waiting"
    assert Booking.objects.filter(room=entry.room, span=entry.span, status="confirmed").exists()
    client.force_login(entry.person)
    assert f'id="waiting-{entry.pk}"' in client.get("/my/").content.decode()
