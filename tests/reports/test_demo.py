"""The reports' demo data: past weeks with no-shows, made once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from reports.demo import seed_past_weeks
from reports.models import RoomDay
from reports.utilisation import per_room


@pytest.mark.django_db
def test_it_makes_past_weeks_with_no_shows_once(room, alice, bob):
    made = seed_past_weeks(weeks=2)

    today = timezone.localdate()
    figures = per_room(room_ids=[room.pk], start=today - timedelta(days=14), end=today)[0]
    assert made > 0
    assert figures.booked_hours > figures.used_hours > 0
    assert RoomDay.objects.filter(room=room, day=today - timedelta(days=1)).exists()  # rolled up
    assert seed_past_weeks(weeks=2) == 0
    assert Booking.objects.count() == made
