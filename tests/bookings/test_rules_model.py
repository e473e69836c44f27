"""Property test: random rules and random actions by random people, checked against a model.

Rooms in Berlin and New York with rules drawn at random, a clock that starts a few days
before a change of the clocks (or on an ordinary day) and moves forward, and alice, bob
and maria (who manages every room) booking, booking series, moving, cancelling,
approving and checking in through the HTTP API. After every step each booking in the
database must be what ``rules_model.Model`` says, and every answer must be the status
the model predicts: never a 500.

A fixed seed and a bounded number of examples keep it in ``make test``;
``RFR_HYPOTHESIS_EXAMPLES=500 make test PYTEST_ARGS=tests/bookings/test_rules_model.py``
runs longer.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bookings.models import Booking, Policy
from bookings.services import expire_pending
from bookings.services.checkin import release_no_shows
from bookings.services.tokens import issue_token
from tests import factories
from tests.bookings.rules_model import Entry, Model, RoomRules, last_sunday

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
PEOPLE = ("alice", "bob", "maria")
QUARTER = timedelta(minutes=15)


def second_sunday_of_march(year: int) -> date:
    first = date(year, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


def starting_points() -> list[datetime]:
    """A few days before each clock change of the next two years, and an ordinary day."""
    year = datetime.now(UTC).year + 1
    points = [datetime(year, 6, 16, 7, 3, tzinfo=UTC)]
    for y in (year, year + 1):
        for day in (last_sunday(y, 3), last_sunday(y, 10), second_sunday_of_march(y)):
            points.append(datetime.combine(day - timedelta(days=2), time(8, 3), UTC))
    return points


room_rules = st.builds(
    dict,
    buffer_before=st.sampled_from([0, 0, 15]),
    buffer_after=st.sampled_from([0, 15, 30]),
    min_notice=st.sampled_from([None, None, 30, 180]),
    max_advance_days=st.sampled_from([None, 1, 3]),
    max_duration=st.sampled_from([None, 60, 120]),
    cancel_cutoff=st.sampled_from([None, 60, 600]),
    series_allowed=st.booleans(),
    requires_approval=st.booleans(),
    approval_timeout_hours=st.sampled_from([1, 6]),
    requires_check_in=st.booleans(),
    check_in_grace=st.sampled_from([10, 15]),
    per_day=st.sampled_from([None, 1, 2]),
    hours_per_week=st.sampled_from([None, Decimal(2), Decimal("4.5")]),
)


class Bookings(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back at the end: the next starts empty.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.clock = None
        self.model: Model | None = None

    def teardown(self):
        if self.clock is not None:
            self.clock.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- the world ---------------------------------------------------------------

    @initialize(rules=st.lists(room_rules, min_size=3, max_size=3), start=st.sampled_from(starting_points()))
    def build(self, rules, start):
        self.clock = time_machine.travel(start, tick=False)
        self.coordinates = self.clock.start()
        self.now = start
        managers = Group.objects.create(name="Raumverwaltung")
        self.users = {name: factories.user(name) for name in PEOPLE}
        self.users["maria"].groups.add(managers)
        self.headers = {
            name: {"Authorization": f"Bearer {issue_token(user=user, name='model')[1]}"}
            for name, user in self.users.items()
        }
        zones = (BERLIN, BERLIN, NEW_YORK)
        self.room_ids = []
        model_rooms = {}
        for tz, drawn in zip(zones, rules, strict=True):
            room = factories.room(factories.floor(factories.building(factories.site(time_zone=str(tz)))))
            policy = Policy.objects.create(
                room=room,
                buffer_before_minutes=drawn["buffer_before"] or None,
                buffer_after_minutes=drawn["buffer_after"] or None,
                min_notice_minutes=drawn["min_notice"],
                max_advance_days=drawn["max_advance_days"],
                max_duration_minutes=drawn["max_duration"],
                cancel_cutoff_minutes=drawn["cancel_cutoff"],
                series_allowed=drawn["series_allowed"],
                requires_approval=drawn["requires_approval"],
                approval_timeout_hours=drawn["approval_timeout_hours"],
                requires_check_in=drawn["requires_check_in"],
                check_in_grace_minutes=drawn["check_in_grace"],
                max_bookings_per_day=drawn["per_day"],
                max_hours_per_week=drawn["hours_per_week"],
            )
            policy.managers.add(managers)
            self.room_ids.append(room.pk)
            model_rooms[room.pk] = RoomRules(tz=tz, **drawn)
        self.model = Model(rooms=model_rooms, managers=frozenset({"maria"}))
        self.client = Client()

    def call(self, method: str, path: str, person: str, body: dict | None = None):
        send = getattr(self.client, method)
        kwargs = {"content_type": "application/json"} if body is not None else {}
        response = send(f"/api/v1{path}", body, headers=self.headers[person], **kwargs)
        assert response.status_code < 500, response.content
        return response

    def slot(self, k: int, quarters: int) -> tuple[datetime, datetime]:
        """k quarter-hours after the next full quarter, lasting ``quarters`` quarter-hours."""
        base = self.now.replace(second=0, microsecond=0)
        base += timedelta(minutes=-base.minute % 15) or QUARTER
        return base + k * QUARTER, base + (k + quarters) * QUARTER

    def pick(self, data) -> Entry:
        return self.model.entries[data.draw(st.sampled_from(sorted(self.model.entries)))]

    # --- actions -----------------------------------------------------------------

    @precondition(lambda self: self.model is not None)
    @rule(
        person=st.sampled_from(PEOPLE),
        room=st.integers(0, 2),
        k=st.integers(0, 400),
        quarters=st.integers(1, 12),
    )
    def book(self, person, room, k, quarters):
        room_id = self.room_ids[room]
        start, end = self.slot(k, quarters)
        expected = self.model.create(room=room_id, organizer=person, start=start, end=end, now=self.now)
        body = {"room": room_id, "title": "Termin", "start": start.isoformat(), "end": end.isoformat()}
        response = self.call("post", "/bookings", person, body)
        assert response.status_code == expected, (expected, response.content)
        if expected == 201:
            entry = self.model.new_entry(
                id_=response.json()["id"], room=room_id, organizer=person, start=start, end=end, now=self.now
            )
            self.model.entries[entry.id] = entry

    @precondition(lambda self: self.model is not None)
    @rule(
        person=st.sampled_from(PEOPLE),
        room=st.integers(0, 2),
        k=st.integers(0, 200),
        quarters=st.integers(1, 8),
        count=st.integers(2, 4),
    )
    def book_series(self, person, room, k, quarters, count):
        room_id = self.room_ids[room]
        start, end = self.slot(k, quarters)
        spans = self.model.series_spans(room=room_id, start=start, end=end, count=count)
        expected = self.model.create_series(room=room_id, organizer=person, spans=spans, now=self.now)
        body = {
            "room": room_id,
            "title": "Serie",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "rrule": f"FREQ=DAILY;COUNT={count}",
        }
        response = self.call("post", "/series", person, body)
        assert response.status_code == expected, (expected, spans, response.content)
        if expected == 201:
            created = response.json()["created"]
            assert len(created) == count
            for item, (s, e) in zip(created, spans, strict=True):
                entry = self.model.new_entry(
                    id_=item["id"], room=room_id, organizer=person, start=s, end=e, now=self.now
                )
                self.model.entries[entry.id] = entry

    @precondition(lambda self: self.model is not None and self.model.entries)
    @rule(data=st.data(), person=st.sampled_from(PEOPLE), k=st.integers(0, 200), quarters=st.integers(1, 8))
    def move(self, data, person, k, quarters):
        entry = self.pick(data)
        start, end = self.slot(k, quarters)
        expected = self.model.move(actor=person, entry=entry, start=start, end=end, now=self.now)
        body = {"start": start.isoformat(), "end": end.isoformat()}
        response = self.call("patch", f"/bookings/{entry.id}", person, body)
        assert response.status_code == expected, (expected, response.content)
        if expected == 200:
            self.model.entries[entry.id] = self.model.moved(entry, start, end)

    @precondition(lambda self: self.model is not None and self.model.entries)
    @rule(data=st.data(), person=st.sampled_from(PEOPLE))
    def cancel(self, data, person):
        entry = self.pick(data)
        expected = self.model.cancel(actor=person, entry=entry, now=self.now)
        response = self.call("delete", f"/bookings/{entry.id}", person)
        assert response.status_code == expected, (expected, response.content)
        if expected == 200:
            entry.status = "cancelled"

    @precondition(lambda self: self.model is not None and self.model.entries)
    @rule(data=st.data(), person=st.sampled_from(PEOPLE))
    def approve(self, data, person):
        entry = self.pick(data)
        expected = self.model.approve(actor=person, entry=entry, now=self.now)
        response = self.call("post", f"/bookings/{entry.id}/approve", person, {})
        assert response.status_code == expected, (expected, response.content)
        if expected == 200:
            entry.status = "confirmed"
        elif person in self.model.managers and entry.status == "pending" and entry.due <= self.now:
            entry.status = "rejected"  # it expired at the decision deadline

    @precondition(lambda self: self.model is not None and self.model.entries)
    @rule(data=st.data(), person=st.sampled_from(PEOPLE))
    def check_in(self, data, person):
        entry = self.pick(data)
        expected = self.model.check_in(actor=person, entry=entry, now=self.now)
        response = self.call("post", f"/bookings/{entry.id}/check-in", person, {})
        assert response.status_code == expected, (expected, response.content)
        if expected == 200:
            entry.checked_in = True

    @precondition(lambda self: self.model is not None)
    @rule(minutes=st.sampled_from([5, 15, 50, 180, 600, 1440]))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)
        self.coordinates.move_to(self.now)
        expire_pending()
        release_no_shows()
        self.model.tidy(self.now)

    # --- after every step --------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self):
        if self.model is None:
            return
        names = {user.pk: name for name, user in self.users.items()}
        stored = {
            b.pk: (
                b.room_id,
                names[b.organizer_id],
                b.span.lower,
                b.span.upper,
                b.status,
                b.checked_in_at is not None,
            )
            for b in Booking.objects.all()
        }
        assert stored == {i: e.row() for i, e in self.model.entries.items()}


EXAMPLES = int(os.environ.get("RFR_HYPOTHESIS_EXAMPLES", "30"))


@pytest.mark.django_db
def test_bookings_follow_the_rules_whatever_happens():
    run_state_machine_as_test(
        Bookings,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=25,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
