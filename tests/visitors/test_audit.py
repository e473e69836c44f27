"""The visitors' audit log shares the bookings' audit shape and is append-only at the database."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction

from bookings.models import AuditEvent, BookingEvent
from tests.visitors.conftest import GUEST, thursday
from visitors import services
from visitors.models import VisitEvent
from visitors.retention import erase_visitor_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(monday, building, alice):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    return VisitEvent.objects.filter(visit=visit).order_by("pk").first()


def test_both_logs_are_one_audit_shape():
    assert issubclass(VisitEvent, AuditEvent) and issubclass(BookingEvent, AuditEvent)
    for name in ("actor", "at", "changes"):
        visit_field, booking_field = VisitEvent._meta.get_field(name), BookingEvent._meta.get_field(name)
        assert visit_field.deconstruct()[1:] == booking_field.deconstruct()[1:]
    assert VisitEvent._meta.ordering == BookingEvent._meta.ordering == ["-at", "-id"]


def test_it_refuses_to_update_or_delete_a_visit_event(event, bob):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        VisitEvent.objects.filter(pk=event.pk).update(actor=bob)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        VisitEvent.objects.filter(pk=event.pk).delete()
    for sql in ("UPDATE visitors_visitevent SET changes = '{}'", "DELETE FROM visitors_visitevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    event.refresh_from_db()
    assert event.actor.username == "alice" and event.kind == VisitEvent.Kind.REGISTERED


def test_retention_still_erases_names_while_the_log_stays(event, monday):
    erased = erase_visitor_data(now=thursday(10) + timedelta(days=30), days=30)
    assert erased.visitors == 1
    assert VisitEvent.objects.filter(kind=VisitEvent.Kind.ANONYMISED).count() == 1
    assert VisitEvent.objects.filter(pk=event.pk).exists()
