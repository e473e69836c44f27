"""Reads for meetings in several rooms: rooms to offer together, and a meeting with its rooms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from ..combinations import sharing_map
from ..models import Booking, Meeting, Room
from .availability import free_rooms_to_offer

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Enough candidates to fill a meeting even when many free rooms are combinations of others.
CANDIDATES = 200


@dataclass
class RoomsFound:
    rooms: list[Room]
    # Fewer rooms were free than asked for: ``rooms`` holds those that were.
    short: bool


def rooms_for_meeting(
    *,
    start: datetime,
    end: datetime,
    count: int,
    site_id: int,
    building_id: int | None = None,
    people: int | None = None,
    codes: Iterable[str] = (),
    viewer: User | None = None,
) -> RoomsFound:
    """``count`` free rooms for ``people`` each, smallest fitting first, none sharing a part
    with another (a divisible hall's part and its combination are one space)."""
    candidates, _more = free_rooms_to_offer(
        start=start,
        end=end,
        site_id=site_id,
        building_id=building_id,
        people=people,
        codes=codes,
        limit=CANDIDATES,
        viewer=viewer,
    )
    shared = sharing_map()
    chosen: list[Room] = []
    taken: set[int] = set()
    for room in candidates:
        if room.pk in taken:
            continue
        chosen.append(room)
        taken |= {room.pk} | shared.get(room.pk, set())
        if len(chosen) == count:
            break
    return RoomsFound(rooms=chosen, short=len(chosen) < count)


def meeting_rooms(meeting: Meeting) -> list[Booking]:
    """The meeting's bookings, each with its room, place and ``meeting_room`` link, by site and room."""
    return list(
        Booking.objects.filter(meeting_room__meeting=meeting)
        .select_related("room__floor__building__site", "organizer", "booked_by", "meeting_room")
        .order_by("room__floor__building__site__name", "room__floor__building__name", "room__name", "pk")
    )


def meetings_of(user: User) -> list[Meeting]:
    """The user's meetings (organized or booked for someone) that have not ended, soonest first."""
    ids = (
        Meeting.objects.filter(Q(organizer=user) | Q(booked_by=user), cancelled_at__isnull=True)
        .filter(rooms__booking__span__endswith__gt=timezone.now())
        .values("pk")
    )
    return list(Meeting.objects.filter(pk__in=ids).order_by("-pk"))
