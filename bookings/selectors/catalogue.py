"""Every room with its place and equipment, kept in memory, and each room's JSON.

The room list and the free-room search are what API clients poll. With the ORM,
compiling the queries took longer than PostgreSQL took to run them, and building a Room,
Floor, Building and Site instance and an equipment manager per room took five times as
long again. The rooms themselves change a few times a day, so each process keeps them
in memory (``Catalogue``), with each room's encoded JSON, for as long as the database's
catalogue version stays the same (docs/performance.md). ``places.rooms()`` serves the
staff pages; tests/bookings/test_selectors.py holds both to the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection


class RoomRow(NamedTuple):
    id: int
    name: str
    capacity: int
    bookable: bool
    floor_id: int
    floor_name: str
    building_id: int
    building_name: str
    site_id: int
    site_name: str
    time_zone: str
    equipment: list[str]  # codes, by equipment name
    parts: list[int]  # a combined room's parts, by id; empty for a plain room

    def as_dict(self) -> dict:
        """What ``api.serialize.room_dict`` answers for the same room, no model instances."""
        return {
            "id": self.id,
            "name": self.name,
            "capacity": self.capacity,
            "bookable": self.bookable,
            "equipment": self.equipment,
            "parts": self.parts,
            "floor": {"id": self.floor_id, "name": self.floor_name},
            "building": {"id": self.building_id, "name": self.building_name},
            "site": {"id": self.site_id, "name": self.site_name, "time_zone": self.time_zone},
        }


@dataclass(frozen=True)
class Catalogue:
    """Every room with its place and equipment, as of one catalogue version."""

    # The database server's start and bookings_catalogueversion.n (migration 0004): the
    # number changes in the transaction of every change to the catalogue and is never
    # reused; the start time tells a restored or failed-over database from the old one.
    key: tuple
    rooms: tuple[RoomRow, ...]  # in places.rooms() order: smallest first
    by_id: dict[int, RoomRow]
    # Each room's JSON, encoded on first use: the room list and the free-room search are
    # then a join of ready strings. It lives and dies with this version of the rooms.
    texts: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def room_json(self, row: RoomRow) -> str:
        """One room as JSON text, as ``JsonResponse(row.as_dict())`` has it."""
        text = self.texts.get(row.id)
        if text is None:
            text = self.texts[row.id] = json.dumps(row.as_dict(), cls=DjangoJSONEncoder)
        return text

    def rooms_json(self, rows: Iterable[RoomRow]) -> str:
        """A JSON list of rooms; byte for byte what JsonResponse would send."""
        return "[" + ", ".join(self.room_json(row) for row in rows) + "]"


KEY_SQL = "SELECT pg_postmaster_start_time(), n FROM bookings_catalogueversion"
CATALOGUE_SQL = """
SELECT pg_postmaster_start_time(), v.n,
       r.id, r.name, r.capacity, r.bookable, f.id, f.name, b.id, b.name, s.id, s.name, s.time_zone,
       coalesce(eq.codes, '{}'), coalesce(pt.parts, '{}')
  FROM bookings_catalogueversion v
  LEFT JOIN (bookings_room r
             JOIN bookings_floor f ON f.id = r.floor_id
             JOIN bookings_building b ON b.id = f.building_id
             JOIN bookings_site s ON s.id = b.site_id
             LEFT JOIN (SELECT re.room_id, array_agg(e.code ORDER BY e.name, e.id) AS codes
                          FROM bookings_room_equipment re
                          JOIN bookings_equipment e ON e.id = re.equipment_id
                         GROUP BY re.room_id) eq ON eq.room_id = r.id
             LEFT JOIN (SELECT rp.combined_id, array_agg(rp.part_id ORDER BY rp.part_id) AS parts
                          FROM bookings_roompart rp
                         GROUP BY rp.combined_id) pt ON pt.combined_id = r.id) ON TRUE
 ORDER BY r.capacity, r.name, r.id
"""
# This process's copy, the only cache of the read side: replaced whole (one reference
# assignment, safe across threads), the rooms' JSON texts with it.
_catalogue: Catalogue | None = None


def catalogue_key() -> tuple:
    """The catalogue's version now: changes in the transaction of any change to rooms,
    floors, buildings, sites, equipment or combinations, never reused. One tiny query."""
    with connection.cursor() as cursor:
        cursor.execute(KEY_SQL)
        return tuple(cursor.fetchone())


def catalogue(key: tuple | None = None) -> Catalogue:
    """The room catalogue, from memory while ``key`` (read now if not given) is unchanged.

    One small query to check; a new catalogue is loaded whole after any change (an admin
    edits rooms a few times a day; clients ask for them many times a second).
    """
    global _catalogue
    with connection.cursor() as cursor:
        if key is None:
            cursor.execute(KEY_SQL)
            key = tuple(cursor.fetchone())
        cached = _catalogue
        if cached is not None and cached.key == key:
            return cached
        cursor.execute(CATALOGUE_SQL)
        rows = cursor.fetchall()
    # Loaded in its own snapshot, so possibly newer than ``key``: never older.
    rooms = tuple(RoomRow(*row[2:]) for row in rows if row[2] is not None)
    _catalogue = Catalogue(key=tuple(rows[0][:2]), rooms=rooms, by_id={r.id: r for r in rooms})
    return _catalogue


def room_rows(
    *,
    building: int | None = None,
    site: int | None = None,
    min_capacity: int | None = None,
    equipment: list[str] | None = None,
    bookable_only: bool = False,
    key: tuple | None = None,
    leave_out: set[int] | frozenset[int] = frozenset(),
) -> tuple[Catalogue, list[RoomRow]]:
    """``places.rooms()`` as RoomRows, but for the rooms in ``leave_out``: one small query.

    The filters run in Python over the catalogue; ``key`` is the catalogue's key when the
    caller has read it already (availability reads it with the busy rooms).
    """
    current = catalogue(key)
    codes = set(equipment or ())
    rows = [
        r
        for r in current.rooms
        if (building is None or r.building_id == building)
        and (site is None or r.site_id == site)
        and (not min_capacity or r.capacity >= min_capacity)
        and (not codes or codes.issubset(r.equipment))
        and (not bookable_only or r.bookable)
        and r.id not in leave_out
    ]
    return current, rows
