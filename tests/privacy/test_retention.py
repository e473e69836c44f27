"""Retention rules set in the admin: bookings of people who left and the audit log's details,
each exactly at the limit, across a daylight-saving change, with a booking running across
the limit; every run on record, a dry run changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from bookings.models import Booking, BookingEvent
from privacy.erasure import PLACEHOLDER_NAME
from privacy.models import PrivacyEvent, RetentionRule
from privacy.retention import apply_retention
from tests import factories
from tests.helpers import text
from tests.visitors.conftest import GUEST
from visitors import services
from visitors.models import Visitor

pytestmark = pytest.mark.django_db

END = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def rule(kind: str, days: int, enabled: bool = True) -> None:
    RetentionRule.objects.filter(kind=kind).update(days=days, enabled=enabled)
    RetentionRule.objects.exclude(kind=kind).update(enabled=False)


@pytest.fixture
def bob_left(bob):
    bob.is_active = False
    bob.save()
    return bob


def test_the_rules_start_as_the_migration_made_them(settings):
    rules = {r.kind: (r.days, r.enabled) for r in RetentionRule.objects.all()}
    assert rules == {
        "visitors": (settings.RFR_VISITOR_RETENTION_DAYS, True),
        "leavers": (365, False),
        "audit": (3650, False),
    }
    assert settings.CELERY_BEAT_SCHEDULE["apply-retention"]["task"] == "privacy.tasks.apply_retention_task"


def test_a_leavers_booking_is_pseudonymised_exactly_at_the_limit(room, bob_left, alice):
    rule("leavers", 30)
    booking = factories.booking(
        room, bob_left, END - timedelta(hours=1), title="Abschied", attendees=["x@y.de"]
    )
    stays = factories.booking(room, alice, END, title="Alice bleibt")
    limit = END + timedelta(days=30)
    assert apply_retention(now=limit - timedelta(seconds=1)).done["leavers"]["bookings"] == 0
    assert apply_retention(now=limit).done["leavers"]["bookings"] == 1
    booking.refresh_from_db()
    assert (booking.title, booking.attendees, booking.organizer.get_full_name()) == ("", [], PLACEHOLDER_NAME)
    assert (booking.room_id, booking.span.upper) == (room.pk, END)
    stays.refresh_from_db()
    assert (stays.title, stays.organizer_id) == ("Alice bleibt", alice.pk)
    assert BookingEvent.objects.filter(booking=booking, changes__retention="organizer left").exists()


def test_a_booking_running_across_the_limit_waits_for_its_end(room, bob_left):
    rule("leavers", 1)
    # A three-day workshop: started well before the limit, ends after it.
    booking = factories.booking(
        room, bob_left, END - timedelta(days=3), minutes=3 * 24 * 60, title="Workshop"
    )
    assert apply_retention(now=END + timedelta(hours=23)).done["leavers"]["bookings"] == 0
    assert Booking.objects.get(pk=booking.pk).title == "Workshop"
    assert apply_retention(now=END + timedelta(days=1)).done["leavers"]["bookings"] == 1


def test_days_are_elapsed_time_across_the_clock_change(room, bob_left):
    rule("leavers", 1)
    # Ends Saturday 24 October 2026, 10:00 in Berlin (CEST); the clocks go back on the 25th.
    end = datetime(2026, 10, 24, 8, 0, tzinfo=UTC)
    factories.booking(room, bob_left, end - timedelta(hours=1))
    a_day_later = end + timedelta(days=1)  # 09:00 CET on the 25th: 24 hours, not a calendar day
    assert apply_retention(now=a_day_later - timedelta(seconds=1)).done["leavers"]["bookings"] == 0
    assert apply_retention(now=a_day_later).done["leavers"]["bookings"] == 1


def _event(booking, at, changes):
    return BookingEvent.objects.create(booking=booking, kind="updated", at=at, changes=changes)


def test_audit_details_are_emptied_at_the_limit_and_the_entry_stays(room, alice):
    rule("audit", 3650)
    booking = factories.booking(room, alice, END)
    old = _event(booking, END, {"title": ["Geheim", "Neu"]})
    young = _event(booking, END + timedelta(days=1), {"title": ["Neu", "Neuer"]})
    limit = END + timedelta(days=3650)
    assert apply_retention(now=limit - timedelta(seconds=1)).done["audit"]["entries"] == 0
    assert apply_retention(now=limit).done["audit"]["entries"] == 1
    old.refresh_from_db()
    assert (old.changes, old.kind, old.at, old.booking_id) == ({}, "updated", END, booking.pk)
    young.refresh_from_db()
    assert young.changes == {"title": ["Neu", "Neuer"]}
    # The run switched the exception off again before anything else in its transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('rfr.audit_reduction', true)")
        assert cursor.fetchone()[0] == "off"


def test_the_audit_log_still_refuses_every_other_change(room, alice, bob):
    booking = factories.booking(room, alice, END)
    event = _event(booking, END, {"title": ["a", "b"]})
    # Without the transaction saying so, not even the reduction goes through.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        BookingEvent.objects.filter(pk=event.pk).update(changes={})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL rfr.audit_reduction = 'on'")
        for forged in ({"actor": bob}, {"changes": {"title": "forged"}}, {"changes": {}, "kind": "created"}):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                BookingEvent.objects.filter(pk=event.pk).update(**forged)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            BookingEvent.objects.filter(pk=event.pk).delete()
        cursor.execute("SET LOCAL rfr.audit_reduction = 'off'")
    event.refresh_from_db()
    assert event.changes == {"title": ["a", "b"]}


def test_each_run_is_on_record_and_a_dry_run_changes_nothing(room, bob_left):
    rule("leavers", 1)
    booking = factories.booking(room, bob_left, END - timedelta(hours=1), title="Abschied")
    later = END + timedelta(days=2)
    dry = apply_retention(now=later, dry_run=True)
    assert dry.done == {"leavers": {"days": 1, "bookings": 1}}
    assert Booking.objects.get(pk=booking.pk).title == "Abschied"
    assert not PrivacyEvent.objects.exists()
    apply_retention(now=later)
    event = PrivacyEvent.objects.get(kind="retention")
    assert event.changes == {"leavers": {"days": 1, "bookings": 1}} and event.at == later
    assert RetentionRule.objects.get(kind="leavers").last_result == {"days": 1, "bookings": 1}
    apply_retention(now=later)  # again: nothing more to do, and that is on record too
    assert [e.changes["leavers"]["bookings"] for e in PrivacyEvent.objects.order_by("pk")] == [1, 0]


def test_the_command_dry_run_says_what_it_would_do(room, bob_left):
    rule("leavers", 0)
    factories.booking(room, bob_left, datetime(2020, 1, 6, 9, tzinfo=UTC), title="Alt")
    out = StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert 'would apply leavers: {"bookings": 1, "days": 0}' in out.getvalue()
    assert Booking.objects.get().title == "Alt"


def test_the_admin_shows_the_rules_and_runs_a_dry_run(client, admin_user, room, bob_left):
    rule("leavers", 0)
    factories.booking(room, bob_left, datetime(2020, 1, 6, 9, tzinfo=UTC), title="Alt")
    client.force_login(admin_user)
    page = text(client.get("/admin/privacy/retentionrule/", HTTP_ACCEPT_LANGUAGE="de"))
    assert "Buchungen ausgeschiedener Personen" in page
    response = client.post(
        "/admin/privacy/retentionrule/",
        {"action": "dry_run", "_selected_action": list(RetentionRule.objects.values_list("pk", flat=True))},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert "Würde ausführen" in text(response) and "bookings: 1" in text(response)
    assert Booking.objects.get().title == "Alt"


def test_the_visitors_rule_from_the_admin_decides_for_visitors(room, alice, reception):
    rule("visitors", 2)
    building = room.floor.building
    with time_machine.travel(END - timedelta(days=1), tick=False):
        services.register_visit(
            host=alice, building=building, start=END - timedelta(hours=1), end=END, visitors=[GUEST]
        )
    assert (
        apply_retention(now=END + timedelta(days=2) - timedelta(seconds=1)).done["visitors"]["visitors"] == 0
    )
    assert apply_retention(now=END + timedelta(days=2)).done["visitors"] == {
        "days": 2,
        "visitors": 1,
        "visits": 1,
    }
    assert Visitor.objects.get().name == ""
