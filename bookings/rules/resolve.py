"""What a room's policies add up to, and the blockings that meet a time.

A room's rules come from its own policy, then its building's, then its site's: the
nearest place that sets a field wins. Overriders and managers add up over the places
(a building's room managers manage each of its rooms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from ..combinations import sharing
from ..models import Blocking, Policy, Room
from ..models.policies import place_chain

DEFAULT_APPROVAL_TIMEOUT = timedelta(hours=48)
DEFAULT_CHECK_IN_GRACE = timedelta(minutes=15)

# The Policy fields that hold one value each (the groups and hours are relations).
LIMITS = tuple(f.name for f in Policy._meta.concrete_fields if not f.is_relation and not f.primary_key)
# The limits that count the person's bookings in the place that set them.
QUOTAS = ("max_bookings_per_day", "max_bookings_per_week", "max_hours_per_day", "max_hours_per_week")


@dataclass(frozen=True, kw_only=True)
class Access:
    """Who may book a room and who is not bound by its rules, as group ids.

    Rules extends it; the read-only list of rooms builds it alone (from one query over
    all rooms) so that may_book answers for it exactly as for a booking.
    """

    # None: everyone may book.
    bookers: frozenset[int] | None = None
    overriders: frozenset[int] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Rules(Access):
    """A room's effective rules: one field per Policy field, its default where no place sets it.

    A limit left None does not apply.
    """

    room: Room
    managers: frozenset[int] = frozenset()
    # weekday (1 = Monday) -> [(opens, closes)]; None: bookable around the clock.
    hours: Mapping[int, list[tuple[time, time]]] | None = None
    # Which place set each quota: quotas count the person's bookings in that place.
    quota_places: Mapping[str, Policy] = field(default_factory=dict)

    min_notice_minutes: int | None = None
    max_advance_days: int | None = None
    max_duration_minutes: int | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    cancel_cutoff_minutes: int | None = None
    series_allowed: bool = True
    requires_approval: bool = False
    approval_timeout_hours: int | None = None
    requires_check_in: bool = False
    check_in_grace_minutes: int | None = None
    max_bookings_per_day: int | None = None
    max_bookings_per_week: int | None = None
    max_hours_per_day: Decimal | None = None
    max_hours_per_week: Decimal | None = None
    waiting_offer_minutes: int | None = None

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes or 0)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes or 0)

    @property
    def approval_timeout(self) -> timedelta:
        hours = self.approval_timeout_hours
        return DEFAULT_APPROVAL_TIMEOUT if hours is None else timedelta(hours=hours)

    @property
    def check_in_grace(self) -> timedelta:
        return timedelta(minutes=self.check_in_grace_minutes or 0) or DEFAULT_CHECK_IN_GRACE

    @property
    def waiting_offer(self) -> timedelta | None:
        """How long a freed slot is held for the first in line; None: they are booked at once."""
        minutes = self.waiting_offer_minutes
        return timedelta(minutes=minutes) if minutes else None

    @property
    def cancel_cutoff(self) -> timedelta | None:
        minutes = self.cancel_cutoff_minutes
        return None if minutes is None else timedelta(minutes=minutes)


def _check_limits() -> None:
    # A Policy field without a Rules field would be saved in the admin and then silently
    # ignored; stop the start instead.
    ours = {f.name for f in fields(Rules)} - {f.name for f in fields(Access)}
    ours -= {"room", "managers", "hours", "quota_places"}
    if ours != set(LIMITS):
        raise ImproperlyConfigured(
            f"Rules and Policy disagree: only in Policy {sorted(set(LIMITS) - ours)}, "
            f"only in Rules {sorted(ours - set(LIMITS))}"
        )
    if not set(QUOTAS) <= ours:
        raise ImproperlyConfigured(f"QUOTAS names no Policy field: {sorted(set(QUOTAS) - ours)}")


_check_limits()


def ids(sql: str, params: list) -> list[int]:
    # Plain SQL for the common answer "nothing applies": building the ORM query cost more
    # than running it, on every booking (docs/performance.md, "Rules on the write path").
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _at_any(chain: Sequence[tuple[str, int]]) -> tuple[str, list[int]]:
    """An SQL condition on a policy's or blocking's row: set on one of these places."""
    return " OR ".join(f"{level}_id = %s" for level, _pk in chain), [pk for _level, pk in chain]


def access_of(policies: Sequence[Policy]) -> Access:
    """Who may book, from a room's policies nearest first (bookers and overriders prefetched).

    The nearest place that names bookers names all of them; overriders add up.
    """
    bookers = next((named for p in policies if (named := frozenset(g.pk for g in p.bookers.all()))), None)
    return Access(bookers=bookers, overriders=frozenset(g.pk for p in policies for g in p.overriders.all()))


def rules_for(room: Room) -> Rules:
    """Resolve the room's rules from its policies: one query, five where a policy applies."""
    chain = place_chain(room)
    where, params = _at_any(chain)
    found = ids(f"SELECT id FROM bookings_policy WHERE {where}", params)  # noqa: S608 (no user input)
    if not found:
        return Rules(room=room)
    rank = {key: n for n, key in enumerate(chain)}
    policies = sorted(
        Policy.objects.filter(pk__in=found).prefetch_related("hours", "bookers", "overriders", "managers"),
        key=lambda p: rank[p.place_key],
    )
    limits: dict[str, Any] = {}
    quota_places: dict[str, Policy] = {}
    for name in LIMITS:
        policy = next((p for p in policies if getattr(p, name) is not None), None)
        if policy is not None:
            limits[name] = getattr(policy, name)
            if name in QUOTAS:
                quota_places[name] = policy
    hours: dict[int, list[tuple[time, time]]] | None = None
    stretches = next((s for p in policies if (s := list(p.hours.all()))), None)
    if stretches:
        hours = {}
        for stretch in stretches:
            hours.setdefault(stretch.weekday, []).append((stretch.opens, stretch.closes))
    access = access_of(policies)
    return Rules(
        room=room,
        bookers=access.bookers,
        overriders=access.overriders,
        managers=frozenset(g.pk for p in policies for g in p.managers.all()),
        hours=hours,
        quota_places=quota_places,
        **limits,
    )


def limits_of_rooms(rooms: Sequence[Room], names: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Some of the LIMITS of many rooms at once, nearest place first as rules_for resolves
    them, in one query: for lists (the finder's badges) where rules_for per room would cost
    a query each. Rooms need their floor and building loaded."""
    unknown = set(names) - set(LIMITS)
    if unknown:
        raise ValueError(f"not a limit: {sorted(unknown)}")
    chains = {room.pk: place_chain(room) for room in rooms}
    places = {key for chain in chains.values() for key in chain}
    if not places:
        return {}
    where: dict[str, list[int]] = {"site": [], "building": [], "room": []}
    for level, pk in places:
        where[level].append(pk)
    # Plain SQL with one array per level: the ORM compiled one parameter per room, which
    # for a 200-room day plan cost more than the page's whole booking query.
    # LIMITS are plain fields of Policy, each in the column of its name.
    sql = (
        "SELECT site_id, building_id, room_id, "  # noqa: S608 (model columns, not input)
        + ", ".join(connection.ops.quote_name(name) for name in names)
        + f" FROM {Policy._meta.db_table}"
        + " WHERE site_id = ANY(%s::integer[]) OR building_id = ANY(%s::integer[])"
        + " OR room_id = ANY(%s::integer[])"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [where["site"], where["building"], where["room"]])
        rows = [
            dict(zip(["site_id", "building_id", "room_id", *names], r, strict=True))
            for r in cursor.fetchall()
        ]
    at: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        level = next(level for level in ("room", "building", "site") if row[f"{level}_id"])
        at[(level, row[f"{level}_id"])] = row
    return {
        room_id: {
            name: next((at[key][name] for key in chain if key in at and at[key][name] is not None), None)
            for name in names
        }
        for room_id, chain in chains.items()
    }


def active_blockings(room: Room, start: datetime, end: datetime) -> list[Blocking]:
    """The blockings of the room, its building or its site that meet [start, end).

    A blocking of a part closes its combinations, and one of a combination its parts:
    the same walls, the same closure.
    """
    chain = list(place_chain(room)) + [("room", pk) for pk in sorted(sharing(room.pk) - {room.pk})]
    where, params = _at_any(chain)
    meets = "cancelled_at IS NULL AND span && tstzrange(%s, %s, '[)')"
    sql = f"SELECT id FROM bookings_blocking WHERE {meets} AND ({where})"  # noqa: S608 (no user input)
    found = ids(sql, [start, end, *params])
    if not found:
        return []
    return list(Blocking.objects.filter(pk__in=found).prefetch_related("allowed_groups").order_by("span"))
