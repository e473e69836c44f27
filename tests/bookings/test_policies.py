"""Booking policies at their edges: exactly at the limit is fine, one minute past is refused.

Time is frozen (time-machine) at fixed Berlin wall-clock moments, some on the days the
clocks change. Each refusal names the rule and its limit in German, and writes nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction

from bookings.errors import BookingConflict, PolicyViolation
from bookings.models import Booking, OutboxMessage, Policy, PolicyHours
from bookings.rules.catalogue import ON_BOOKING, ON_THE_PAGE, check
from bookings.rules.resolve import LIMITS, rules_for
from bookings.services import cancel_booking, create_booking, create_series, update_booking
from bookings.services.blockings import create_blocking, lift_blocking
from tests import factories
from tests.helpers import BERLIN, frozen_at, written

pytestmark = pytest.mark.django_db


def berlin(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BERLIN)


# A Friday in January 2027, 10:00 in Berlin.
NOW = berlin(2027, 1, 8, 10)


frozen = frozen_at(NOW)


def policy_for(place, **values) -> Policy:
    kind = type(place).__name__.lower()
    return Policy.objects.create(**{kind: place}, **values)


def book(room, user, start, end, **extra):
    return create_booking(room=room, organizer=user, title="Planung", start=start, end=end, now=NOW, **extra)


def refused(room, user, start, end, **extra) -> str:
    """Book, expect a refusal by policy, check nothing was written; the first reason's text."""
    before = written()
    with pytest.raises(PolicyViolation) as info:
        book(room, user, start, end, **extra)
    assert written() == before
    return info.value.message


def test_it_refuses_booking_further_ahead_than_allowed_naming_the_limit(room, alice, frozen):
    policy_for(room, max_advance_days=90)
    # 90 days after Friday 8 January 2027 is Thursday 8 April; the whole day counts.
    book(room, alice, berlin(2027, 4, 8, 23, 0), berlin(2027, 4, 8, 23, 59))
    message = refused(room, alice, berlin(2027, 4, 9, 0, 0), berlin(2027, 4, 9, 1, 0))
    assert message == "Dieser Raum kann höchstens 90 Tage im Voraus gebucht werden."


def test_it_needs_the_minimum_notice(room, alice, frozen):
    policy_for(room, min_notice_minutes=60)
    book(room, alice, NOW + timedelta(minutes=60), NOW + timedelta(minutes=90))
    message = refused(room, alice, NOW + timedelta(minutes=59), NOW + timedelta(minutes=89))
    assert message == "Dieser Raum muss mindestens 60 Minuten vor Beginn gebucht werden."


def test_it_limits_the_duration(room, alice, frozen):
    policy_for(room, max_duration_minutes=120)
    start = berlin(2027, 1, 11, 9)
    book(room, alice, start, start + timedelta(minutes=120))
    message = refused(room, alice, start + timedelta(hours=3), start + timedelta(hours=3, minutes=121))
    assert message == "Dieser Raum kann höchstens 120 Minuten am Stück gebucht werden."


def test_it_keeps_bookable_hours_in_local_time_also_when_the_clocks_change(room, alice, frozen):
    policy = policy_for(room)
    for weekday in (PolicyHours.Weekday.SUNDAY, PolicyHours.Weekday.MONDAY):
        PolicyHours.objects.create(policy=policy, weekday=weekday, opens=time(8), closes=time(18))
    # Sunday 28 March 2027: the clocks go forward at 02:00; Sunday 31 October: back at 03:00.
    for day in (28, 31):
        month = 3 if day == 28 else 10
        book(room, alice, berlin(2027, month, day, 17), berlin(2027, month, day, 18))
        book(room, alice, berlin(2027, month, day, 8), berlin(2027, month, day, 9))
        message = refused(room, alice, berlin(2027, month, day, 17, 1), berlin(2027, month, day, 18, 1))
        assert message == "Am Sonntag kann dieser Raum nur 08:00–18:00 gebucht werden."
        refused(room, alice, berlin(2027, month, day, 7, 59), berlin(2027, month, day, 8, 30))
    # Tuesday has no hours at all.
    message = refused(room, alice, berlin(2027, 1, 12, 10), berlin(2027, 1, 12, 11))
    assert message == "Am Dienstag kann dieser Raum nicht gebucht werden."


def test_it_inherits_from_building_and_site_and_the_nearest_place_wins(room, alice, frozen):
    building = room.floor.building
    policy_for(building.site, max_duration_minutes=60, max_advance_days=30)
    policy_for(room, max_duration_minutes=180)
    start = berlin(2027, 1, 11, 9)
    # The room's 180 minutes beat the site's 60; the site's 30 days still hold.
    book(room, alice, start, start + timedelta(minutes=180))
    assert refused(room, alice, berlin(2027, 2, 8, 9), berlin(2027, 2, 8, 10)).startswith(
        "Dieser Raum kann höchstens 30 Tage"
    )
    other = factories.room(floor_obj=room.floor)
    assert "60 Minuten" in refused(other, alice, start, start + timedelta(minutes=61))


def test_it_keeps_setup_and_cleanup_buffers_and_explains_the_refusal(room, alice, bob, frozen):
    policy_for(room, buffer_before_minutes=10, buffer_after_minutes=15)
    start = berlin(2027, 1, 11, 10)
    first = book(room, alice, start, start + timedelta(hours=1))
    assert (first.buffer_before, first.buffer_after) == (timedelta(minutes=10), timedelta(minutes=15))
    # Bob's setup (10 min) and Alice's cleanup (15 min) need 25 minutes between the two.
    with pytest.raises(BookingConflict) as info:
        book(room, bob, start + timedelta(minutes=84), start + timedelta(minutes=120))
    assert "Vor- und Nachbereitung" in info.value.message
    assert [b.pk for b in info.value.conflicts] == [first.pk]
    book(room, bob, start + timedelta(minutes=85), start + timedelta(minutes=120))


def test_it_guards_buffers_in_the_database_whatever_the_code_does(room, alice, bob, frozen):
    start = berlin(2027, 1, 11, 10)
    factories.booking(room, alice, start, minutes=60, buffer_after=timedelta(minutes=15))
    # Written straight to the table, past every service: the constraint still refuses.
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        factories.booking(room, bob, start + timedelta(minutes=70), minutes=30)
    assert info.value.__cause__.diag.constraint_name == "booking_no_overlap_buffered"
    # The trigger keeps blocked_span in step with a span changed by plain SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bookings_booking SET span = tstzrange(lower(span) - interval '1 hour', "
            "upper(span) - interval '1 hour', '[)') WHERE room_id = %s "
            "RETURNING lower(blocked_span), upper(blocked_span)",
            [room.pk],
        )
        lower, upper = cursor.fetchone()
    assert (lower, upper) == (start - timedelta(hours=1), start + timedelta(minutes=15))


def test_it_lets_only_the_named_groups_book_and_others_see_why(room, alice, bob, frozen):
    group = Group.objects.create(name="Vorstand")
    alice.groups.add(group)
    policy_for(room.floor.building, max_duration_minutes=600).bookers.add(group)
    start = berlin(2027, 1, 11, 10)
    book(room, alice, start, start + timedelta(hours=1))
    message = refused(room, bob, start + timedelta(hours=2), start + timedelta(hours=3))
    assert (
        message
        == "Nur bestimmte Gruppen dürfen diesen Raum buchen; Sie können ihn ansehen, aber nicht buchen."
    )


def test_it_lets_overriders_past_the_rules_but_not_past_other_bookings(room, alice, bob, frozen):
    group = Group.objects.create(name="Empfang")
    bob.groups.add(group)
    policy = policy_for(room, min_notice_minutes=120, max_duration_minutes=30)
    policy.overriders.add(group)
    start = NOW + timedelta(minutes=30)
    booking = book(room, bob, start, start + timedelta(hours=2))
    assert booking.status == Booking.Status.CONFIRMED
    refused(room, alice, start + timedelta(hours=3), start + timedelta(hours=4))
    with pytest.raises(BookingConflict):
        book(room, bob, start, start + timedelta(minutes=30))


def test_it_counts_bookings_per_day_and_week_in_the_sites_zone(room, alice, bob, frozen):
    policy_for(room.floor.building.site, max_bookings_per_day=2, max_bookings_per_week=3)
    monday = berlin(2027, 1, 11, 9)
    first = book(room, alice, monday, monday + timedelta(minutes=30))
    book(room, alice, monday + timedelta(hours=1), monday + timedelta(hours=1, minutes=30))
    message = refused(room, alice, monday + timedelta(hours=2), monday + timedelta(hours=3))
    assert message == "Sie können hier höchstens 2 Raumbuchungen pro Tag vornehmen."
    # Bob has his own quota; another room of the same site counts for Alice.
    book(room, bob, monday + timedelta(hours=2), monday + timedelta(hours=3))
    other = factories.room(floor_obj=room.floor)
    refused(other, alice, monday + timedelta(hours=4), monday + timedelta(hours=5))
    book(room, alice, monday + timedelta(days=1), monday + timedelta(days=1, minutes=30))
    assert "pro Woche" in refused(
        room, alice, monday + timedelta(days=2), monday + timedelta(days=2, hours=1)
    )
    # Sunday 23:00 in Berlin is still this week; Monday 00:30 in Berlin (Sunday 23:30 UTC) is the next.
    refused(room, alice, berlin(2027, 1, 17, 23, 0), berlin(2027, 1, 17, 23, 30))
    book(room, alice, berlin(2027, 1, 18, 0, 30), berlin(2027, 1, 18, 1, 0))
    # A cancelled booking no longer counts.
    cancel_booking(booking=first, actor=alice, now=NOW)
    book(room, alice, monday + timedelta(days=2), monday + timedelta(days=2, hours=1))


def test_it_counts_hours_per_week_up_to_exactly_the_limit(room, alice, frozen):
    policy_for(room, max_hours_per_week=Decimal("2.5"))
    monday = berlin(2027, 1, 11, 9)
    book(room, alice, monday, monday + timedelta(hours=2))
    book(room, alice, monday + timedelta(days=4), monday + timedelta(days=4, minutes=30))
    message = refused(room, alice, monday + timedelta(days=3), monday + timedelta(days=3, minutes=1))
    assert message == "Sie können hier höchstens 2,5 Stunden pro Woche buchen."
    # The next week starts on Monday 00:00 Berlin time.
    book(room, alice, berlin(2027, 1, 18, 0, 0), berlin(2027, 1, 18, 2, 0))


def test_it_refuses_series_where_they_are_not_allowed(room, alice, frozen):
    policy_for(room, series_allowed=False)
    start = berlin(2027, 1, 11, 9)
    before = written()
    with pytest.raises(PolicyViolation) as info:
        create_series(
            room=room,
            organizer=alice,
            title="Jour fixe",
            start=start,
            end=start + timedelta(hours=1),
            rrule="FREQ=WEEKLY;COUNT=4",
            now=NOW,
        )
    assert written() == before
    assert "Dieser Raum kann nicht als Serie gebucht werden." in info.value.message
    book(room, alice, start, start + timedelta(hours=1))


def test_it_names_the_first_occurrence_a_rule_refuses(room, alice, frozen):
    policy_for(room, max_advance_days=20)
    start = berlin(2027, 1, 11, 9)
    with pytest.raises(PolicyViolation) as info:
        create_series(
            room=room,
            organizer=alice,
            title="Jour fixe",
            start=start,
            end=start + timedelta(hours=1),
            rrule="FREQ=WEEKLY;COUNT=5",
            now=NOW,
        )
    # 11, 18, 25 January fit in 20 days; 1 and 8 February do not.
    assert info.value.message.startswith(
        "2 Termine verstoßen gegen eine Regel des Raums, der erste am 01.02.2027"
    )


def test_it_refuses_cancelling_past_the_cut_off_but_managers_may(room, alice, bob, frozen):
    managers = Group.objects.create(name="Raumverwaltung")
    bob.groups.add(managers)
    policy_for(room, cancel_cutoff_minutes=60).managers.add(managers)
    early = book(room, alice, NOW + timedelta(minutes=61), NOW + timedelta(minutes=90))
    late = book(room, alice, NOW + timedelta(hours=2), NOW + timedelta(hours=3))
    cancel_booking(booking=early, actor=alice, now=NOW)
    with pytest.raises(PolicyViolation) as info:
        cancel_booking(booking=late, actor=alice, now=NOW + timedelta(minutes=61))
    assert info.value.message == "Buchungen dieses Raums können bis 60 Minuten vor Beginn storniert werden."
    late.refresh_from_db()
    assert late.status == Booking.Status.CONFIRMED
    cancel_booking(booking=late, actor=bob, now=NOW + timedelta(minutes=61))


def test_it_rechecks_the_rules_when_a_booking_is_moved(room, alice, frozen):
    policy_for(room, max_duration_minutes=60)
    start = berlin(2027, 1, 11, 9)
    booking = book(room, alice, start, start + timedelta(hours=1))
    with pytest.raises(PolicyViolation):
        update_booking(booking=booking, actor=alice, end=start + timedelta(minutes=61), now=NOW)
    booking.refresh_from_db()
    assert booking.span.upper == start + timedelta(hours=1) and booking.version == 1


def test_it_makes_pending_bookings_where_approval_is_needed_and_sets_check_in(room, alice, bob, frozen):
    managers = Group.objects.create(name="Raumverwaltung")
    bob.groups.add(managers)
    policy = policy_for(room, requires_approval=True, approval_timeout_hours=24, requires_check_in=True)
    policy.managers.add(managers)
    start = berlin(2027, 1, 11, 9)
    pending = book(room, alice, start, start + timedelta(hours=1))
    assert pending.status == Booking.Status.PENDING
    assert pending.decision_due_at == NOW + timedelta(hours=24)
    assert pending.check_in_deadline == start + timedelta(minutes=15)
    # A manager's own booking needs nobody's approval.
    assert (
        book(room, bob, start + timedelta(hours=2), start + timedelta(hours=3)).status
        == Booking.Status.CONFIRMED
    )
    # The pending request holds its slot.
    with pytest.raises(BookingConflict):
        book(room, bob, start, start + timedelta(minutes=30))


def test_it_refuses_blocked_times_but_lets_allowed_groups_in(room, alice, bob, fiona, frozen):
    crew = Group.objects.create(name="Handwerker")
    bob.groups.add(crew)
    start = berlin(2027, 1, 11, 9)
    existing = book(room, alice, start, start + timedelta(hours=1))
    blocking = create_blocking(
        place=room.floor.building,
        start=berlin(2027, 1, 11, 0),
        end=berlin(2027, 1, 16, 0),
        reason="Renovierung",
        actor=fiona,
        allowed_groups=[crew],
    )
    told = OutboxMessage.objects.filter(topic="blocking.created")
    assert told.exists() and all(
        m.payload == {"blocking": blocking.pk, "bookings": [existing.pk]} for m in told
    )
    existing.refresh_from_db()
    assert existing.status == Booking.Status.CONFIRMED  # told, not cancelled
    message = refused(room, alice, start + timedelta(hours=2), start + timedelta(hours=3))
    assert message == "Der Raum ist von 11.01.2027 00:00 bis 16.01.2027 00:00 gesperrt: Renovierung"
    book(room, bob, start + timedelta(hours=2), start + timedelta(hours=3))
    lift_blocking(blocking=blocking)
    book(room, alice, start + timedelta(hours=4), start + timedelta(hours=5))


def test_it_lists_every_reason_at_once(room, alice, frozen):
    policy_for(room, min_notice_minutes=600, max_duration_minutes=30)
    rules = rules_for(room)
    reasons = check(
        user=alice, rules=rules, start=NOW + timedelta(hours=1), end=NOW + timedelta(hours=2), now=NOW
    )
    assert [r.rule for r in reasons] == ["min_notice", "max_duration"]


def test_it_has_one_rule_for_every_policy_field():
    # A field no rule reads would be saved in the admin and then do nothing.
    read = [name for rule in {*ON_BOOKING, *ON_THE_PAGE} for name in rule.fields if name in LIMITS]
    assert sorted(read) == sorted(LIMITS)
