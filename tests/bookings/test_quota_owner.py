"""Quotas belong to the organizer and count a series' own dates together.

Personas: alice organizes, maria manages the room (she is bound by the rules), otto manages it too
and may override its rules (group "Überschreiben"). The room allows 3 bookings a week and 2 hours a day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from bookings import services
from bookings.models import Booking, BookingEvent, Policy
from tests import factories


@pytest.fixture
def otto(db):
    user = factories.user("otto")
    user.groups.add(Group.objects.create(name="Überschreiben"))
    return user


@pytest.fixture
def room(maria, otto):
    room = factories.room(name="Spree")
    policy = Policy.objects.create(room=room, max_bookings_per_week=3, max_hours_per_day=2)
    policy.managers.set([*maria.groups.all(), *otto.groups.all()])
    policy.overriders.set(otto.groups.all())
    return room


@pytest.fixture
def monday():
    day = factories.days_ahead(7)
    return day - timedelta(days=day.weekday())


def series_of(room, alice, monday, count, **extra):
    return services.create_series(
        room=room,
        organizer=alice,
        title="Daily",
        start=factories.on(monday, 9),
        end=factories.on(monday, 10),
        rrule=f"FREQ=DAILY;COUNT={count}",
        **extra,
    )


def test_a_series_counts_its_own_dates_against_the_weekly_quota(room, alice, monday):
    with pytest.raises(services.PolicyViolation) as refused:
        series_of(room, alice, monday, 5)
    assert refused.value.reasons[0].rule == "max_bookings_per_week"
    assert "2 Termine" in refused.value.message  # the 4th and the 5th date
    assert Booking.objects.count() == 0


def test_a_series_that_fits_the_quota_is_booked(room, alice, monday):
    assert len(series_of(room, alice, monday, 3).created) == 3


def test_a_series_counts_with_the_persons_other_bookings(room, alice, monday):
    services.create_booking(
        room=room, organizer=alice, title="Eins", start=factories.on(monday, 14), end=factories.on(monday, 15)
    )
    with pytest.raises(services.PolicyViolation):
        series_of(room, alice, monday + timedelta(days=1), 3)


def test_turning_a_booking_into_a_series_counts_every_new_date(room, alice, monday):
    single = services.create_booking(
        room=room, organizer=alice, title="Daily", start=factories.on(monday, 9), end=factories.on(monday, 10)
    )
    with pytest.raises(services.PolicyViolation):
        services.convert_to_series(booking=single, actor=alice, rrule="FREQ=DAILY;COUNT=5")
    assert Booking.objects.count() == 1


def test_a_managers_change_counts_against_the_organizers_quota(room, alice, maria, monday):
    booking = services.create_booking(
        room=room,
        organizer=alice,
        title="Planung",
        start=factories.on(monday, 9),
        end=factories.on(monday, 10),
    )
    for actor in (alice, maria):  # the organizer's own change and the manager's are refused alike
        with pytest.raises(services.PolicyViolation) as refused:
            services.update_booking(booking=booking, actor=actor, end=factories.on(monday, 12))
        assert refused.value.reasons[0].rule == "max_hours_per_day"
    booking.refresh_from_db()
    assert booking.span.upper == factories.on(monday, 10)


def test_an_overrider_may_go_past_the_quota_and_the_audit_log_says_so(room, alice, otto, monday):
    booking = services.create_booking(
        room=room,
        organizer=alice,
        title="Planung",
        start=factories.on(monday, 9),
        end=factories.on(monday, 10),
    )
    services.update_booking(booking=booking, actor=otto, end=factories.on(monday, 12))
    event = BookingEvent.objects.filter(booking=booking, kind=BookingEvent.Kind.UPDATED).get()
    assert event.actor == otto
    assert event.changes["overridden"] == ["max_hours_per_day"]


def test_an_overriders_series_names_the_quota_it_overrode_on_every_date(room, alice, otto, monday):
    result = series_of(room, alice, monday, 5, actor=otto)
    notes = BookingEvent.objects.filter(booking__in=result.created, kind=BookingEvent.Kind.CREATED)
    assert [e.changes.get("overridden") for e in notes] == [["max_bookings_per_week"]] * 5


def test_within_the_rules_the_audit_log_names_nothing_overridden(room, alice, otto, monday):
    booking = services.create_booking(
        room=room,
        organizer=alice,
        title="Planung",
        start=factories.on(monday, 9),
        end=factories.on(monday, 10),
        actor=otto,
    )
    assert "overridden" not in booking.events.get().changes
