"""The audit log is append-only at the database: no code path can rewrite history."""

import pytest
from django.db import DatabaseError, connection, transaction

from bookings import services
from bookings.models import Booking, BookingEvent
from tests import factories


@pytest.fixture
def event(alice, room):
    start = factories.tomorrow_at(10)
    booking = services.create_booking(
        room=room, organizer=alice, title="Planung", start=start, end=start.replace(hour=11)
    )
    return BookingEvent.objects.get(booking=booking)


@pytest.mark.django_db
def test_it_refuses_to_update_an_audit_event(event, bob):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        BookingEvent.objects.filter(pk=event.pk).update(actor=bob, changes={"forged": True})

    event.refresh_from_db()
    assert event.actor.username == "alice"
    assert event.changes == {}


@pytest.mark.django_db
def test_it_refuses_to_save_a_changed_audit_event(event):
    event.kind = BookingEvent.Kind.CANCELLED

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()

    assert BookingEvent.objects.get(pk=event.pk).kind == BookingEvent.Kind.CREATED


@pytest.mark.django_db
def test_it_refuses_to_delete_an_audit_event(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        BookingEvent.objects.filter(pk=event.pk).delete()

    assert BookingEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_it_refuses_raw_sql_that_bypasses_the_orm(event):
    for sql in (
        "UPDATE bookings_bookingevent SET kind = 'cancelled'",
        "DELETE FROM bookings_bookingevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)

    assert list(BookingEvent.objects.values_list("kind", flat=True)) == ["created"]


@pytest.mark.django_db
def test_it_keeps_appending_events_as_the_booking_changes(event, alice):
    booking = Booking.objects.get(pk=event.booking_id)

    services.update_booking(booking=booking, actor=alice, title="Planung II")
    services.cancel_booking(booking=booking, actor=alice)

    kinds = list(BookingEvent.objects.filter(booking=booking).order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "updated", "cancelled"]
    assert BookingEvent.objects.get(pk=event.pk).kind == "created"
