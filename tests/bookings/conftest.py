"""Fixtures the booking tests share: the API's day, times on it, a valid booking body, a room manager."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests import factories


@pytest.fixture
def day():
    # Two days ahead: still in the future when a test runs across midnight.
    return factories.days_ahead(2)


@pytest.fixture
def at(day):
    """``at(hour, minute=0)``: wall-clock time on ``day`` in the server's zone."""
    return lambda hour, minute=0: factories.on(day, hour, minute)


@pytest.fixture
def valid(room, at) -> dict:
    """A body POST /api/v1/bookings accepts: the room, 09:00–10:00 on ``day``."""
    return {"room": room.pk, "title": "Planung", "start": at(9).isoformat(), "end": at(10).isoformat()}


@pytest.fixture
def maria(db):
    """A room manager: in the group "Raumverwaltung", which a test's policy names as its managers."""
    user = factories.user("maria")
    user.groups.add(Group.objects.create(name="Raumverwaltung"))
    return user
