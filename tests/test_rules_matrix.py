"""docs/rules.md names the test that proves each rule: those tests must exist.

And the one decision the matrix records that no other test covers: a meeting's cleanup
time may reach into a blocking, the meeting itself may not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookings import services
from bookings.models import Policy
from bookings.services.blockings import create_blocking
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def test_every_test_the_matrix_names_exists():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    named = REFERENCE.findall(text)
    assert len(named) >= 15  # the matrix names a proof for each rule
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).exists() or f"def {name}(" not in (ROOT / path).read_text(encoding="utf-8")
    ]
    assert missing == []


@pytest.fixture
def room(db):
    room = factories.room(name="Spree")
    Policy.objects.create(room=room, buffer_after_minutes=30)
    return room


def test_cleanup_time_may_reach_into_a_blocking(room, alice, fiona):
    day = factories.days_ahead(3)
    create_blocking(
        place=room, start=factories.on(day, 12), end=factories.on(day, 14), reason="Umbau", actor=fiona
    )
    booking = services.create_booking(
        room=room, organizer=alice, title="Planung", start=factories.on(day, 11), end=factories.on(day, 12)
    )
    assert booking.buffer_after.total_seconds() == 30 * 60
    with pytest.raises(services.PolicyViolation) as refused:
        services.create_booking(
            room=room,
            organizer=alice,
            title="Zu lang",
            start=factories.on(day, 13),
            end=factories.on(day, 15),
        )
    assert refused.value.reasons[0].rule == "blocking"
