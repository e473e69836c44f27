"""Rooms that need approval: pending requests hold the slot until a room manager decides.

Personas: alice requests a room, bob wants the same slot and manages nothing, maria and
max manage the room (group "Raumverwaltung"), fiona is a facility admin without that group.
Pages answer in German.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import signing
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingEvent, OutboxMessage, Policy
from bookings.services.approvals import decision_link, decision_token
from bookings.tasks import expire_approvals
from tests import factories
from tests.helpers import text, written


def topics() -> list[str]:
    return list(OutboxMessage.objects.order_by("pk").values_list("topic", flat=True).distinct())


@pytest.fixture
def managers(db):
    return Group.objects.create(name="Raumverwaltung")


@pytest.fixture
def maria(managers):
    user = factories.user("maria", first_name="Maria", last_name="Meier")
    user.groups.add(managers)
    return user


@pytest.fixture
def max_(managers):
    user = factories.user("max", first_name="Max", last_name="Roth")
    user.groups.add(managers)
    return user


@pytest.fixture
def board_room(managers):
    """A room that needs approval; requests expire after 24 hours."""
    room = factories.room(name="Vorstandszimmer")
    policy = Policy.objects.create(room=room, requires_approval=True, approval_timeout_hours=24)
    policy.managers.add(managers)
    return room


@pytest.fixture
def day():
    return factories.days_ahead(3)


@pytest.fixture
def request_(alice, board_room, day):
    """Alice's pending, private request for 10:00–11:00."""
    return services.create_booking(
        room=board_room,
        organizer=alice,
        title="Gehaltsgespräch",
        start=factories.on(day, 10),
        end=factories.on(day, 11),
        private=True,
    )


def book_api(client, headers, room, day, title="Planung"):
    return client.post(
        "/api/v1/bookings",
        {
            "room": room.pk,
            "title": title,
            "start": factories.on(day, 10).isoformat(),
            "end": factories.on(day, 11).isoformat(),
        },
        content_type="application/json",
        headers=headers,
    )


# --- pending requests hold the slot ------------------------------------------------------


@pytest.mark.django_db
def test_it_keeps_a_request_pending_and_holds_its_slot(client, alice, bob, board_room, day, token_for):
    response = book_api(client, token_for(alice), board_room, day, title="Klausur")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    booking = Booking.objects.get(pk=response.json()["id"])
    assert booking.decision_due_at is not None

    taken = book_api(client, token_for(bob), board_room, day)
    assert taken.status_code == 409
    assert [c["id"] for c in taken.json()["conflicts"]] == [booking.pk]

    client.force_login(alice)
    mine = text(client.get("/my/"))
    assert "Klausur" in mine
    assert "Wartet auf Bestätigung" in mine


@pytest.mark.django_db
def test_it_confirms_a_managers_own_booking_directly(maria, board_room, day):
    booking = services.create_booking(
        room=board_room,
        organizer=maria,
        title="Jour fixe",
        start=factories.on(day, 14),
        end=factories.on(day, 15),
    )
    assert booking.status == Booking.Status.CONFIRMED


# --- the queue page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_pending_requests_in_german_with_private_titles(client, maria, alice, request_):
    alice.first_name, alice.last_name = "Alice", "Arendt"
    alice.save()
    client.force_login(maria)
    response = client.get("/approvals/")
    assert response.status_code == 200
    page = text(response)
    assert 'lang="de"' in page
    assert "<h1>Freigaben</h1>" in page
    assert "Warten auf Ihre Entscheidung" in page
    assert "Gehaltsgespräch" in page  # private, but maria manages the room
    assert "Vorstandszimmer" in page
    assert "Angefragt von Alice Arendt" in page
    assert "10:00–11:00" in page
    assert "Genehmigen" in page and "Ablehnen" in page
    # The navigation offers the queue to managers only.
    assert 'href="/approvals/" aria-current="page">Freigaben</a>' in page
    client.force_login(alice)
    assert 'href="/approvals/"' not in text(client.get("/my/"))


@pytest.mark.django_db
def test_it_approves_from_the_queue(client, maria, request_):
    client.force_login(maria)
    response = client.post(f"/approvals/{request_.pk}/", {"action": "approve"}, follow=True)
    assert response.status_code == 200
    page = text(response)
    assert "„Gehaltsgespräch“" in page and "wurde genehmigt" in page
    request_.refresh_from_db()
    assert request_.status == Booking.Status.CONFIRMED
    assert request_.version == 2
    event = request_.events.first()
    assert (event.kind, event.actor) == (BookingEvent.Kind.APPROVED, maria)
    assert "booking.approved" in topics()
    # Decided: no longer waiting, but in the history with who decided.
    assert "Keine Anfragen warten auf eine Entscheidung." in page
    assert "Genehmigt" in page and "Maria Meier" in page


@pytest.mark.django_db
def test_it_rejects_frees_the_slot_and_keeps_the_history(client, maria, bob, request_, board_room, day):
    client.force_login(maria)
    response = client.post(
        f"/approvals/{request_.pk}/", {"action": "reject", "reason": "Raum wird renoviert"}, follow=True
    )
    page = text(response)
    assert "wurde abgelehnt; der Raum ist wieder frei." in page
    assert "Raum wird renoviert" in page and "Abgelehnt" in page
    request_.refresh_from_db()
    assert request_.status == Booking.Status.REJECTED
    event = request_.events.first()
    assert event.kind == BookingEvent.Kind.REJECTED
    assert event.changes == {"reason": "Raum wird renoviert"}
    assert "booking.rejected" in topics()
    # The slot is free for bob now (he manages nothing, so his request is pending too).
    bobs = services.create_booking(
        room=board_room,
        organizer=bob,
        title="Planung",
        start=factories.on(day, 10),
        end=factories.on(day, 11),
    )
    assert bobs.status == Booking.Status.PENDING
    # The history stays: created, then rejected.
    kinds = list(request_.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["created", "rejected"]


@pytest.mark.django_db
def test_it_refuses_the_queue_to_non_managers_and_writes_nothing(client, bob, request_):
    client.force_login(bob)
    page = client.get("/approvals/")
    assert page.status_code == 403
    assert "Nur Raumverantwortliche können Freigabeanfragen sehen." in text(page)
    before = written()
    response = client.post(f"/approvals/{request_.pk}/", {"action": "approve"})
    assert response.status_code == 403
    assert written() == before
    request_.refresh_from_db()
    assert request_.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_it_refuses_a_manager_of_another_room(client, alice, request_):
    other = Group.objects.create(name="Haus B")
    carla = factories.user("carla")
    carla.groups.add(other)
    Policy.objects.create(room=factories.room(), requires_approval=True).managers.add(other)
    client.force_login(carla)
    assert "Gehaltsgespräch" not in text(client.get("/approvals/"))
    before = written()
    response = client.post(f"/approvals/{request_.pk}/", {"action": "approve"})
    assert response.status_code == 403
    assert "Nur die Raumverantwortlichen dieses Raums" in text(response)
    assert written() == before
    with pytest.raises(services.NotAllowed):
        services.approve_booking(booking=request_, actor=carla)
    assert written() == before


@pytest.mark.django_db
def test_it_refuses_a_second_decision_with_a_clear_message(client, maria, max_, request_):
    services.approve_booking(booking=request_, actor=maria)
    before = written()
    client.force_login(max_)
    response = client.post(f"/approvals/{request_.pk}/", {"action": "reject", "reason": "zu spät"})
    assert response.status_code == 409
    assert "Diese Anfrage wurde bereits genehmigt." in text(response)
    assert written() == before
    request_.refresh_from_db()
    assert request_.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_it_answers_bad_queue_input_with_4xx(client, maria, request_):
    client.force_login(maria)
    before = written()
    assert client.post(f"/approvals/{request_.pk}/", {"action": "delete"}).status_code == 422
    assert (
        client.post(f"/approvals/{request_.pk}/", {"action": "reject", "reason": "x" * 501}).status_code
        == 422
    )
    assert client.post("/approvals/999999/", {"action": "approve"}).status_code == 404
    assert client.get(f"/approvals/{request_.pk}/").status_code == 405
    assert written() == before


@pytest.mark.django_db
def test_it_decides_a_whole_series(client, maria, alice, board_room, day):
    result = services.create_series(
        room=board_room,
        organizer=alice,
        title="Lenkungskreis",
        start=factories.on(day, 8),
        end=factories.on(day, 9),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    assert {b.status for b in result.created} == {"pending"}
    client.force_login(maria)
    page = text(client.get("/approvals/"))
    assert "Alle Termine der Serie genehmigen" in page
    response = client.post(f"/approvals/{result.created[0].pk}/", {"action": "approve_series"}, follow=True)
    assert "Serie „Lenkungskreis“: 3 Termine wurden genehmigt." in text(response)
    assert set(Booking.objects.filter(series=result.series).values_list("status", flat=True)) == {"confirmed"}
    with pytest.raises(services.InvalidBooking):
        services.reject_series(series=result.series, actor=maria)


# --- the signed link in the mail -------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_request_on_get_without_acting(client, maria, request_):
    link = decision_link(booking_id=request_.pk, manager_id=maria.pk)
    path = link.split("://", 1)[1].split("/", 1)[1]
    before = written()
    response = client.get(f"/{path}?decision=approve")  # anonymous, as a mail scanner would
    assert response.status_code == 200
    page = text(response)
    assert "Freigabeanfrage" in page and "Gehaltsgespräch" in page
    assert "Sie entscheiden als Maria Meier." in page
    assert 'value="approve"' in page and 'value="reject"' in page
    assert written() == before
    request_.refresh_from_db()
    assert request_.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_it_decides_on_post_as_the_manager_named_in_the_link(client, maria, request_):
    url = f"/approvals/decide/{decision_token(booking_id=request_.pk, manager_id=maria.pk)}/"
    response = client.post(url, {"action": "reject", "reason": "Doppelt angefragt"})
    assert response.status_code == 200
    assert "wurde abgelehnt" in text(response)
    request_.refresh_from_db()
    assert request_.status == Booking.Status.REJECTED
    event = request_.events.first()
    assert (event.kind, event.actor, event.changes) == ("rejected", maria, {"reason": "Doppelt angefragt"})
    # The link works once: afterwards it says what happened.
    again = client.get(url)
    assert "Diese Anfrage wurde bereits abgelehnt." in text(again)
    before = written()
    assert client.post(url, {"action": "approve"}).status_code == 409
    assert written() == before


@pytest.mark.django_db
def test_it_refuses_tampered_expired_and_outdated_links(client, maria, request_, managers):
    token = decision_token(booking_id=request_.pk, manager_id=maria.pk)
    before = written()
    tampered = client.post(f"/approvals/decide/{token[:-2]}xx/", {"action": "approve"})
    assert tampered.status_code == 400
    assert "Dieser Link ist ungültig." in text(tampered)
    assert client.get("/approvals/decide/nonsense/").status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        expired = client.post(f"/approvals/decide/{token}/", {"action": "approve"})
    assert expired.status_code == 400
    assert "Dieser Link ist abgelaufen." in text(expired)
    maria.groups.remove(managers)
    outdated = client.post(f"/approvals/decide/{token}/", {"action": "approve"})
    assert outdated.status_code == 403
    assert "Sie verwalten diesen Raum nicht mehr" in text(outdated)
    assert written() == before
    request_.refresh_from_db()
    assert request_.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_it_refuses_a_link_for_an_inactive_manager(client, maria, request_):
    token = decision_token(booking_id=request_.pk, manager_id=maria.pk)
    maria.is_active = False
    maria.save()
    before = written()
    assert client.post(f"/approvals/decide/{token}/", {"action": "approve"}).status_code == 403
    assert written() == before


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_expires_unanswered_requests_and_frees_the_slot(client, maria, alice, bob, board_room, day):
    with time_machine.travel(factories.on(day, 10) - timedelta(days=2), tick=False):
        booking = services.create_booking(
            room=board_room,
            organizer=alice,
            title="Klausur",
            start=factories.on(day, 10),
            end=factories.on(day, 11),
        )
        assert booking.decision_due_at == timezone.now() + timedelta(hours=24)
        assert expire_approvals() == 0
    with time_machine.travel(booking.decision_due_at - timedelta(seconds=1), tick=False):
        assert expire_approvals() == 0
    with time_machine.travel(booking.decision_due_at + timedelta(seconds=30), tick=False):
        assert expire_approvals() == 1
        booking.refresh_from_db()
        assert booking.status == Booking.Status.REJECTED
        event = booking.events.first()
        assert (event.kind, event.actor) == (BookingEvent.Kind.EXPIRED, None)
        assert "booking.expired" in topics()
        assert expire_approvals() == 0  # idempotent
        # The slot is free again; a late decision is refused with the reason.
        with pytest.raises(services.InvalidBooking, match="abgelaufen"):
            services.approve_booking(booking=booking, actor=maria)
        free = services.create_booking(
            room=board_room,
            organizer=maria,
            title="Vorstand",
            start=factories.on(day, 10),
            end=factories.on(day, 11),
        )
        assert free.status == Booking.Status.CONFIRMED
        client.force_login(maria)
        page = text(client.get("/approvals/"))
        assert "Abgelaufen" in page and "niemand (Frist abgelaufen)" in page


@pytest.mark.django_db
def test_it_refuses_to_approve_a_request_that_has_ended(maria, request_):
    with (
        time_machine.travel(request_.end + timedelta(minutes=1), tick=False),
        pytest.raises(services.InvalidBooking, match="vorbei"),
    ):
        services.approve_booking(booking=request_, actor=maria)


def test_it_runs_the_expiry_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-approvals"]
    assert entry == {"task": "bookings.tasks.expire_approvals", "schedule": 60.0}


# --- API -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_and_approves_through_the_api(client, maria, bob, request_, token_for):
    listed = client.get("/api/v1/approvals", headers=token_for(maria))
    assert listed.status_code == 200
    assert [(b["id"], b["title"], b["organizer"]) for b in listed.json()] == [
        (request_.pk, "Gehaltsgespräch", "alice")
    ]
    assert client.get("/api/v1/approvals", headers=token_for(bob)).json() == []

    response = client.post(f"/api/v1/bookings/{request_.pk}/approve", headers=token_for(maria))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == ("confirmed", 2)
    assert client.get("/api/v1/approvals", headers=token_for(maria)).json() == []


@pytest.mark.django_db
def test_it_rejects_through_the_api_with_a_reason(client, maria, request_, token_for):
    response = client.post(
        f"/api/v1/bookings/{request_.pk}/reject",
        {"reason": "Belegt durch Betriebsrat"},
        content_type="application/json",
        headers=token_for(maria),
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert request_.events.first().changes == {"reason": "Belegt durch Betriebsrat"}


@pytest.mark.django_db
def test_it_refuses_bad_api_requests_and_writes_nothing(client, maria, bob, request_, token_for):
    before = written()
    refused = client.post(f"/api/v1/bookings/{request_.pk}/approve", headers=token_for(bob))
    assert refused.status_code == 403
    assert "Raumverantwortlichen" in refused.json()["detail"]
    assert client.post("/api/v1/bookings/999999/approve", headers=token_for(maria)).status_code == 404
    too_long = client.post(
        f"/api/v1/bookings/{request_.pk}/reject",
        {"reason": "x" * 501},
        content_type="application/json",
        headers=token_for(maria),
    )
    assert too_long.status_code == 422
    unknown_field = client.post(
        f"/api/v1/bookings/{request_.pk}/reject",
        {"grund": "x"},
        content_type="application/json",
        headers=token_for(maria),
    )
    assert unknown_field.status_code == 422
    assert client.post(f"/api/v1/bookings/{request_.pk}/approve").status_code == 401
    assert written() == before

    rejected = client.post(
        f"/api/v1/bookings/{request_.pk}/reject",
        {},
        content_type="application/json",
        headers=token_for(maria),
    )
    assert rejected.status_code == 200
    before = written()
    again = client.post(f"/api/v1/bookings/{request_.pk}/approve", headers=token_for(maria))
    assert again.status_code == 422
    assert again.json()["detail"] == "Diese Anfrage wurde bereits abgelehnt."
    assert written() == before


@pytest.mark.django_db
def test_it_keeps_signed_tokens_to_one_purpose(maria, request_):
    token = decision_token(booking_id=request_.pk, manager_id=maria.pk)
    with pytest.raises(signing.BadSignature):
        signing.loads(token)  # without the approvals salt it is worthless
