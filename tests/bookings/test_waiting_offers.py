"""The waiting list's variants: any room like this in the building, a slot held as an offer,
and the mail when the rules refuse a promotion.

Personas: alice holds the rooms; bob and charlie wait. "Spree" (8 seats, beamer) is the room
wanted; "Havel" (10 seats, beamer) is like it, "Klein" (4 seats) and "Kahl" (no beamer) are not.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from bookings import outbox, services
from bookings.errors import InvalidBooking, NotAllowed
from bookings.models import Booking, OutboxMessage, Policy, WaitingEntry
from bookings.services.waiting import (
    accept_offer,
    decline_offer,
    expire_offers,
    join_waiting_list,
    promote_waiting,
)
from bookings.tasks import sweep_waiting_list
from tests import factories
from tests.bookings.test_waiting_list import race
from tests.helpers import bearer, text


@pytest.fixture
def charlie(db):
    return factories.user("charlie")


@pytest.fixture
def floor(db):
    return factories.floor(factories.building(name="Haus A"), name="EG")


@pytest.fixture
def spree(floor):
    return factories.room(floor, name="Spree", capacity=8, equipment_codes=("beamer",))


@pytest.fixture
def havel(floor):
    return factories.room(floor, name="Havel", capacity=10, equipment_codes=("beamer", "video"))


@pytest.fixture
def unlike(floor):
    """Rooms of the same building that are not like Spree, and a like one elsewhere."""
    return [
        factories.room(floor, name="Klein", capacity=4, equipment_codes=("beamer",)),
        factories.room(floor, name="Kahl", capacity=20),
        factories.room(name="Anderswo", capacity=12, equipment_codes=("beamer",)),
    ]


def hold(room, alice, at, start=9, end=10):
    return services.create_booking(room=room, organizer=alice, title="Belegt", start=at(start), end=at(end))


def wait(person, room, at, **extra):
    return join_waiting_list(person=person, room=room, title="Warten", start=at(9), end=at(10), **extra)


def deliver_all():
    for pk in OutboxMessage.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True):
        outbox.deliver(pk)


# --- any room like this in the building --------------------------------------------------------


def test_it_books_the_first_room_like_the_wanted_one_that_frees_up(spree, havel, unlike, at, alice, bob):
    hold(spree, alice, at)
    held = [hold(r, alice, at) for r in (havel, *unlike)]
    entry = wait(bob, spree, at, any_room=True)

    for booking in held:  # everything else frees up; only Havel is like Spree
        services.cancel_booking(booking=booking, actor=alice)
    promote_waiting(room_id=unlike[0].pk)

    entry.refresh_from_db()
    assert (entry.status, entry.booking.room) == ("booked", havel)


def test_it_does_not_take_another_room_unless_asked(spree, havel, at, alice, bob):
    hold(spree, alice, at)
    other = hold(havel, alice, at)
    entry = wait(bob, spree, at)

    services.cancel_booking(booking=other, actor=alice)
    promote_waiting(room_id=havel.pk)

    entry.refresh_from_db()
    assert entry.status == "waiting"


def test_it_refuses_to_queue_for_any_room_when_one_like_it_is_free(spree, havel, at, alice, bob):
    hold(spree, alice, at)

    with pytest.raises(InvalidBooking, match="Havel ist zu dieser Zeit frei"):
        wait(bob, spree, at, any_room=True)
    assert not WaitingEntry.objects.exists()


def test_it_joins_for_any_room_through_the_api(client, spree, havel, at, alice, bob):
    hold(spree, alice, at)
    hold(havel, alice, at)
    body = {"room": spree.pk, "title": "Warten", "start": at(9).isoformat(), "end": at(10).isoformat()}

    response = client.post(
        "/api/v1/waiting-list",
        {**body, "any_room": True},
        content_type="application/json",
        headers=bearer(bob),
    )

    assert response.status_code == 201, response.content
    assert (response.json()["any_room"], response.json()["status"]) == (True, "waiting")


def test_it_joins_for_any_room_from_the_dialog(client, spree, havel, day, at, alice, bob):
    hold(spree, alice, at)
    hold(havel, alice, at)
    client.force_login(bob)
    data = {"room": spree.pk, "date": day.isoformat(), "start": "09:00", "end": "10:00", "title": "Warten"}

    refused = client.post("/book/", {**data, "key": "k1"})
    assert "oder ein gleichwertiger Raum im Gebäude" in text(refused)
    page = text(client.post("/waiting/", {**data, "any_room": "on"}, follow=True))

    assert WaitingEntry.objects.get(person=bob).any_room
    assert "oder ein gleichwertiger Raum im Gebäude" in page


# --- a freed slot held as an offer --------------------------------------------------------------


@pytest.fixture
def offering(spree):
    """Spree's policy holds a freed slot 30 minutes for the first in line."""
    return Policy.objects.create(room=spree, waiting_offer_minutes=30)


def test_it_holds_the_slot_as_an_offer_and_books_it_when_accepted(spree, offering, at, alice, bob):
    taken = hold(spree, alice, at)
    entry = wait(bob, spree, at)
    now = timezone.now()

    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk, now=now)

    entry.refresh_from_db()
    assert entry.status == "offered"
    assert entry.offer_until == now + timedelta(minutes=30)
    assert (entry.booking.organizer, entry.booking.status) == (bob, "confirmed")  # the slot is held
    accept_offer(entry=entry, actor=bob)
    entry.refresh_from_db()
    assert (entry.status, entry.offer_until) == ("booked", None)


def test_it_gives_an_offer_not_accepted_in_time_to_the_next_in_line(spree, offering, at, alice, bob, charlie):
    taken = hold(spree, alice, at)
    first = wait(bob, spree, at)
    second = wait(charlie, spree, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)
    first.refresh_from_db()

    later = first.offer_until + timedelta(seconds=1)
    assert expire_offers(now=later) == 1
    promote_waiting(room_id=spree.pk, now=later)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.booking.status) == ("expired", "cancelled")
    assert "nicht rechtzeitig angenommen" in first.reason
    assert (second.status, second.booking.organizer) == ("offered", charlie)
    with pytest.raises(InvalidBooking):
        accept_offer(entry=first, actor=bob)


def test_it_gives_a_declined_offer_to_the_next_in_line(spree, offering, at, alice, bob, charlie):
    taken = hold(spree, alice, at)
    first = wait(bob, spree, at)
    second = wait(charlie, spree, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)
    first.refresh_from_db()
    # A cut-off does not bind giving back a slot one never took.
    Policy.objects.filter(pk=offering.pk).update(cancel_cutoff_minutes=60 * 24 * 30)

    with pytest.raises(NotAllowed):
        decline_offer(entry=first, actor=charlie)
    decline_offer(entry=first, actor=bob)
    promote_waiting(room_id=spree.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.booking.status) == ("withdrawn", "cancelled")
    assert second.status == "offered"


def test_it_mails_the_offer_with_its_time_limit_and_a_link(spree, offering, at, alice, bob, mailoutbox):
    taken = hold(spree, alice, at)
    entry = wait(bob, spree, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)
    deliver_all()

    entry.refresh_from_db()
    (mail,) = [m for m in mailoutbox if m.to == ["bob@example.com"]]
    assert mail.subject.startswith("Für Sie frei (Warteliste): Warten")
    assert "für Sie reserviert bis" in mail.body
    assert f"/my/#waiting-{entry.pk}" in mail.body


def test_it_answers_an_offer_in_my_bookings(client, spree, offering, at, alice, bob, charlie):
    taken = hold(spree, alice, at)
    entry = wait(bob, spree, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)

    client.force_login(bob)
    page = text(client.get("/my/"))
    assert f'id="waiting-{entry.pk}"' in page
    assert "für Sie reserviert bis" in page
    client.force_login(charlie)
    assert client.post(f"/waiting/{entry.pk}/offer/", {"answer": "accept"}).status_code == 403
    client.force_login(bob)
    assert client.post(f"/waiting/{entry.pk}/offer/", {"answer": "vielleicht"}).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "offered"  # a bad answer changes nothing

    client.post(f"/waiting/{entry.pk}/offer/", {"answer": "accept"})

    entry.refresh_from_db()
    assert entry.status == "booked"


def test_it_answers_an_offer_through_the_api(client, spree, offering, at, alice, bob, charlie):
    taken = hold(spree, alice, at)
    entry = wait(bob, spree, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)
    entry.refresh_from_db()

    listed = client.get("/api/v1/waiting-list", headers=bearer(bob)).json()
    assert listed[0]["status"] == "offered" and listed[0]["offer_until"]
    assert client.post(f"/api/v1/waiting-list/{entry.pk}/decline", headers=bearer(charlie)).status_code == 403
    declined = client.post(f"/api/v1/waiting-list/{entry.pk}/decline", headers=bearer(bob))

    assert declined.json()["status"] == "withdrawn"
    assert Booking.objects.get(pk=entry.booking_id).status == "cancelled"
    again = client.post(f"/api/v1/waiting-list/{entry.pk}/accept", headers=bearer(bob))
    assert again.status_code == 422


def test_it_says_the_offer_time_on_the_room_page(client, spree, offering, bob):
    client.force_login(bob)

    assert "hat die erste Person auf der Warteliste 30 Minuten Zeit" in text(
        client.get(f"/rooms/{spree.pk}/")
    )


# --- refused by the rules: out of the line, told by mail ------------------------------------------


def test_it_mails_the_person_whose_rules_no_longer_allow_the_booking(spree, at, alice, bob, mailoutbox):
    taken = hold(spree, alice, at)
    entry = wait(bob, spree, at)
    # Bob has used up his day meanwhile: one booking per day in this room.
    Policy.objects.create(room=spree, max_bookings_per_day=1)
    services.create_booking(room=spree, organizer=bob, title="Eigene", start=at(14), end=at(15))

    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)
    deliver_all()

    entry.refresh_from_db()
    assert entry.status == "refused"  # out of the line, as documented
    (mail,) = [m for m in mailoutbox if m.to == ["bob@example.com"] and "Warteliste" in m.subject]
    assert mail.subject.startswith("Warteliste: nicht für Sie gebucht: Warten")
    assert "pro Tag" in mail.body
    assert "Grund:" in mail.body


def test_it_keeps_an_any_room_entry_when_only_a_taken_room_would_allow_it(spree, havel, at, alice, bob):
    taken = hold(spree, alice, at)
    hold(havel, alice, at)
    entry = wait(bob, spree, at, any_room=True)
    Policy.objects.create(room=spree, max_bookings_per_day=0)

    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)

    entry.refresh_from_db()
    # Refused in every free room like it (Spree): out of the line, with Spree's reason.
    assert entry.status == "refused"


# --- the database decides, for the new variants too -----------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("variant", ["offer", "any_room"])
def test_it_gives_a_freed_slot_to_exactly_one_in_every_variant(variant, at, alice, bob):
    charlie = factories.user("charlie")
    floor = factories.floor(factories.building(name="Haus R"), name="EG")
    room = factories.room(floor, name="Frei", capacity=6)
    wanted = factories.room(floor, name="Gewünscht", capacity=4) if variant == "any_room" else room
    if variant == "offer":
        Policy.objects.create(room=room, waiting_offer_minutes=15)
    for hour in range(8, 14):
        start, end = at(hour), at(hour + 1)
        held = services.create_booking(room=room, organizer=alice, title="X", start=start, end=end)
        if wanted != room:
            services.create_booking(room=wanted, organizer=alice, title="Y", start=start, end=end)
        entry = join_waiting_list(
            person=bob, room=wanted, title="Warten", start=start, end=end, any_room=variant == "any_room"
        )
        services.cancel_booking(booking=held, actor=alice)

        assert race(room, charlie, start, end) == []

        active = list(Booking.objects.filter(room=room, status__in=Booking.ACTIVE, span=held.span))
        assert len(active) == 1, active
        entry.refresh_from_db()
        got_it = "offered" if variant == "offer" else "booked"
        assert entry.status == (got_it if active[0].organizer == bob else "waiting")


def test_it_expires_offers_from_the_beat_job(spree, offering, at, alice, bob):
    taken = hold(spree, alice, at)
    entry = wait(bob, spree, at)
    services.cancel_booking(booking=taken, actor=alice)
    promote_waiting(room_id=spree.pk)
    entry.refresh_from_db()

    with time_machine.travel(entry.offer_until + timedelta(minutes=1)):
        sweep_waiting_list()

    entry.refresh_from_db()
    assert entry.status == "expired"


def test_it_seeds_an_offer_for_the_demo(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    (offer,) = WaitingEntry.objects.filter(person__username="demo", status="offered")
    assert offer.booking.organizer == offer.person and offer.booking.is_active
    client.force_login(offer.person)
    page = text(client.get("/my/"))
    assert f'id="waiting-{offer.pk}"' in page
    assert "Annehmen" in page
