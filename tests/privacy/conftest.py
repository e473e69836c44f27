"""The privacy tests' people: alice asks for her data, bob is a colleague whose data must
stay his, and petra administers user accounts (she may export and erase)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from bookings.models import CalendarFeed, Series
from orders.models import Order
from tests import factories
from tests.orders.conftest import centres, coffee, kitchen  # noqa: F401  (fixtures)
from tests.visitors.conftest import GUEST, reception, rita  # noqa: F401  (fixtures)
from visitors import services as visitor_services

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def petra(db):
    user = factories.user("petra", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_user"))
    return user


@pytest.fixture
def alices_world(alice, bob, room, coffee, centres):  # noqa: F811
    """Alice's booking (bob attends), her series, an order, a visitor, a subscription; bob's own booking."""
    start = MONDAY + timedelta(days=3)
    booking = factories.booking(
        room, alice, start, title="Strategie Müller", attendees=["bob@example.com", "extern@kunde.example"]
    )
    theirs = factories.booking(room, bob, start + timedelta(hours=2), title="Bobs Geheimprojekt")
    Series.objects.create(
        room=room,
        title="Jour fixe",
        organizer=alice,
        rrule="FREQ=WEEKLY;COUNT=4",
        local_start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        duration=timedelta(minutes=30),
        time_zone="Europe/Berlin",
    )
    Order.objects.create(
        booking=booking,
        item=coffee,
        quantity=4,
        price=Decimal("2.35"),
        amount=Decimal("9.40"),
        currency="EUR",
        deliver_at=start,
        cost_centre=centres["sales"],
        ordered_by=alice,
        created_at=MONDAY,
    )
    visit = visitor_services.register_visit(host=alice, booking=booking, visitors=[GUEST])
    CalendarFeed.objects.create(user=alice, prefix="abc123", key_hash="0" * 64)
    return {"booking": booking, "theirs": theirs, "visit": visit}


def read_json(response) -> dict:
    assert response.streaming
    return json.loads(b"".join(response.streaming_content))


def read_zip(response) -> dict[str, str]:
    assert response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
