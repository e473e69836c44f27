"""Which rooms share a physical part, the bottom layer's read of combinable rooms.

A plain room is its own only part; a combined room ("Saal 1+2") is its parts. Two rooms
*share* when their physical parts meet: a part and each combination it belongs to, and
two combinations with a part in common. A booking of one keeps the others busy (the
database enforces it through BookingHold; these reads let every list say so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .models import RoomPart


def parts_of(room_id: int) -> list[int]:
    """The ids of the room's parts, empty for a plain room."""
    return sorted(RoomPart.objects.filter(combined_id=room_id).values_list("part_id", flat=True))


def physical_parts(room_id: int) -> list[int]:
    """The physical rooms a booking of this room holds, sorted (lock order)."""
    return parts_of(room_id) or [room_id]


def sharing_map() -> dict[int, set[int]]:
    """For each room in a combination, the other rooms it shares a part with (one small query).

    Rooms that are in no combination are left out: they share with nobody.
    """
    parts: dict[int, set[int]] = defaultdict(set)
    for combined_id, part_id in RoomPart.objects.values_list("combined_id", "part_id"):
        parts[combined_id].add(part_id)
    physical: dict[int, set[int]] = {c: set(p) for c, p in parts.items()}
    for ps in parts.values():
        for p in ps:
            physical.setdefault(p, {p})
    shared: dict[int, set[int]] = {}
    for room_id, mine in physical.items():
        shared[room_id] = {other for other, theirs in physical.items() if other != room_id and mine & theirs}
    return shared


def sharing(room_id: int, shared: dict[int, set[int]] | None = None) -> set[int]:
    """The room and every room sharing a physical part with it."""
    shared = sharing_map() if shared is None else shared
    return {room_id} | shared.get(room_id, set())


def spread(busy: Iterable[int], shared: dict[int, set[int]] | None = None) -> set[int]:
    """Rooms busy because a room they share a part with is booked, and those rooms."""
    shared = sharing_map() if shared is None else shared
    out = set(busy)
    for room_id in list(out):
        out |= shared.get(room_id, set())
    return out


def share_bookings(by_room: dict, start_of) -> None:
    """Add to each room's list (in place) the bookings of the rooms it shares a part with.

    So the day plan shows a part taken while its combination is booked, and the other
    way round. ``start_of`` gives a booking's start, to keep each list in order.
    """
    shared = sharing_map()
    own = {room_id: list(found) for room_id, found in by_room.items()}
    for room_id, others in shared.items():
        extra = [b for other in sorted(others) for b in own.get(other, ())]
        if extra:
            by_room[room_id] = sorted(own.get(room_id, []) + extra, key=start_of)


def name_parts(rooms: Iterable) -> None:
    """Set ``part_names`` on each room (its parts' names, empty for a plain room): one query.

    So the finder and the day plan can say "Saal 1+2 joins Saal 1 + Saal 2".
    """
    rooms = list(rooms)
    names: dict[int, list[str]] = defaultdict(list)
    links = RoomPart.objects.filter(combined_id__in={r.pk for r in rooms}).order_by("part__name")
    for combined_id, part_name in links.values_list("combined_id", "part__name"):
        names[combined_id].append(part_name)
    for room in rooms:
        room.part_names = names.get(room.pk, [])
