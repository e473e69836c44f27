"""Which rooms are free when: one search over the ORM, one over the catalogue in SQL.

``free_rooms`` answers with Room instances, for the finder page (its templates and the
booking rules read the rooms' places and equipment). ``free_room_rows`` answers the API
from the room catalogue in memory: one index-only query for the busy rooms, where
compiling the ORM query and building four model instances per room cost it most of its
time (docs/performance.md). tests/bookings/test_selectors.py holds the two to the same
answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from ..models import BookingHold, Room
from ..rules.groups import closed_rooms, read_only_rooms
from ..spans import make_span
from .catalogue import Catalogue, RoomRow, room_rows
from .places import rooms

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Free stretches shorter than this are not offered for booking.
MIN_GAP = timedelta(minutes=15)


def free_rooms(*, start: datetime, end: datetime, **filters: Any) -> QuerySet[Room]:
    """Bookable rooms with no active booking (or its setup and cleanup time) in [start, end).

    ``filters`` are those of ``places.rooms()``.
    """
    # The physical rooms held then (BookingHold): a room is busy when it is held itself or
    # one of its parts is, so a part is busy while its combination is booked and the
    # combination while a part is.
    held = BookingHold.objects.filter(blocked_span__overlap=make_span(start, end))
    busy = Exists(held.filter(room=OuterRef("pk"))) | Exists(
        held.filter(room__combination_links__combined=OuterRef("pk"))
    )
    return rooms(bookable_only=True, **filters).exclude(busy)


# The catalogue's key and the rooms busy at some time (held themselves, or through a
# part: BookingHold), read in one snapshot.
BUSY_ROOMS_SQL = """
SELECT pg_postmaster_start_time(), v.n,
       ARRAY(SELECT h.room_id FROM bookings_bookinghold h WHERE h.blocked_span && %s
             UNION
             SELECT rp.combined_id FROM bookings_bookinghold h
               JOIN bookings_roompart rp ON rp.part_id = h.room_id
              WHERE h.blocked_span && %s)
  FROM bookings_catalogueversion v
"""


def free_room_rows(
    *,
    start: datetime,
    end: datetime,
    building: int | None = None,
    site: int | None = None,
    min_capacity: int | None = None,
    equipment: list[str] | None = None,
) -> tuple[Catalogue, list[RoomRow]]:
    """``free_rooms()`` as RoomRows of the catalogue: one small query.

    The rooms busy then come from PostgreSQL in the same statement as the catalogue's key.
    """
    with connection.cursor() as cursor:
        cursor.execute(BUSY_ROOMS_SQL, [make_span(start, end)] * 2)
        server_start, version, busy = cursor.fetchone()
    return room_rows(
        building=building,
        site=site,
        min_capacity=min_capacity,
        equipment=equipment,
        bookable_only=True,
        key=(server_start, version),
        leave_out=set(busy),
    )


def free_rooms_to_offer(
    *,
    start: datetime,
    end: datetime,
    site_id: int,
    building_id: int | None = None,
    people: int | None = None,
    codes: Iterable[str] = (),
    limit: int = 50,
    viewer: User | None = None,
) -> tuple[list[Room], bool]:
    """``free_rooms()`` as the finder offers them: the best-fitting (smallest first), and whether more fit.

    With a viewer, rooms they may not book then (who-may-book, blockings) are left out:
    two to four queries.
    """
    qs = free_rooms(
        start=start,
        end=end,
        site=site_id,
        building=building_id,
        min_capacity=people,
        equipment=list(codes),
    ).prefetch_related("equipment")
    found = list(qs[: limit + 1])
    if viewer is not None and found:
        hidden = read_only_rooms(viewer, found) | closed_rooms(viewer, found, start, end)
        found = [r for r in found if r.pk not in hidden]
    return found[:limit], len(found) > limit
