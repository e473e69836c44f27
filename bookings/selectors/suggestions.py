"""Where and when else, when a slot is taken: shifted, shorter, or in another room.

Pure shaping in Python over two queries, whatever the number of rooms, so every
interface (the finder, a refused booking) can offer the same suggestions. With a
viewer, a slot is offered only when the booking's own rule check would let them book
it (who may book, blockings, hours, notice, quotas), so "Buchen" never ends in a refusal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from django.contrib.auth.models import User

from ..combinations import sharing_map
from ..models import Booking, Room
from ..rules.catalogue import check
from ..rules.resolve import Rules, rules_for
from ..spans import START_GRACE, make_span
from .availability import MIN_GAP
from .places import rooms


@dataclass(frozen=True)
class Slot:
    room: Room
    start: datetime
    end: datetime
    kind: str = ""

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class Alternatives:
    shifted: list[Slot] = field(default_factory=list)
    shorter: list[Slot] = field(default_factory=list)
    elsewhere: list[Slot] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.shifted or self.shorter or self.elsewhere)


def alternatives(
    *,
    site_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    room: Room | None = None,
    building_id: int | None = None,
    people: int | None = None,
    codes: Iterable[str] = (),
    per_kind: int = 3,
    viewer: User | None = None,
) -> Alternatives:
    """Where and when else: ±30/60 minutes, a shorter slot, other rooms or buildings.

    ``room`` given: alternatives to that room (its neighbours count as elsewhere);
    otherwise to the rooms matching the filters in ``building_id``. Two queries, plus
    the rule check of each free slot when a ``viewer`` is given.
    """
    candidates = list(rooms(site=site_id, min_capacity=people, equipment=list(codes), bookable_only=True))
    if room is not None:
        home = [room]
        others = [r for r in candidates if r.pk != room.pk]
        # The same building first, then the rest of the site; smallest first within each.
        others.sort(key=lambda r: (r.floor.building_id != room.floor.building_id, r.capacity, r.name))
    else:
        home = [r for r in candidates if building_id is None or r.floor.building_id == building_id]
        others = [r for r in candidates if building_id is not None and r.floor.building_id != building_id]
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    window = make_span(start - timedelta(minutes=60), end + timedelta(minutes=60))
    for room_id, span in Booking.objects.filter(
        room__floor__building__site_id=site_id, status__in=Booking.ACTIVE, span__overlap=window
    ).values_list("room_id", "span"):
        busy[room_id].append((span.lower, span.upper))
    # A booking of a combined room keeps its parts busy, and one of a part its combinations.
    own = {room_id: list(spans) for room_id, spans in busy.items()}
    for room_id, neighbours in sharing_map().items():
        for other in neighbours:
            busy[room_id].extend(own.get(other, []))

    def is_free(r: Room, s: datetime, e: datetime) -> bool:
        return all(not (b0 < e and s < b1) for b0, b1 in busy[r.pk])

    rules: dict[int, Rules] = {}

    def may_book(r: Room, s: datetime, e: datetime) -> bool:
        # The same check create_booking makes, so an offer is never refused on "Buchen".
        if viewer is None:
            return True
        if r.pk not in rules:
            rules[r.pk] = rules_for(r)
        return not check(user=viewer, rules=rules[r.pk], start=s, end=e, now=now)

    def offered(r: Room, s: datetime, e: datetime) -> bool:
        return is_free(r, s, e) and may_book(r, s, e)

    found = Alternatives()
    earliest = now - START_GRACE
    for minutes in (30, -30, 60, -60):
        delta = timedelta(minutes=minutes)
        s, e = start + delta, end + delta
        if s < earliest:
            continue
        free_here = list(islice((r for r in home if offered(r, s, e)), 2))
        found.shifted.extend(Slot(r, s, e, "later" if minutes > 0 else "earlier") for r in free_here)
    found.shifted = found.shifted[: per_kind * 2]

    for r in home:
        overlapping = sorted((b0, b1) for b0, b1 in busy[r.pk] if b0 < end and start < b1)
        if not overlapping:
            continue
        first_start = overlapping[0][0]
        if first_start - start >= MIN_GAP:
            found.shorter.append(Slot(r, start, first_start, "until"))
        last_end = max(b1 for _b0, b1 in overlapping)
        if end - last_end >= MIN_GAP and is_free(r, last_end, end):
            found.shorter.append(Slot(r, last_end, end, "from"))
    found.shorter.sort(key=lambda slot: (-slot.minutes, slot.room.capacity))
    # Checked in the order offered, so a big site costs a rule check only per slot shown.
    found.shorter = list(islice((o for o in found.shorter if may_book(o.room, o.start, o.end)), per_kind))

    found.elsewhere = [
        Slot(r, start, end, "room") for r in islice((r for r in others if offered(r, start, end)), per_kind)
    ]
    return found
