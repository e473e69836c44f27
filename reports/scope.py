"""Which rooms a report covers, which days, and who may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q

from bookings.models import Building, Policy, Room, Site
from bookings.rules.groups import group_ids

WEEK, MONTH, QUARTER, CUSTOM = "week", "month", "quarter", "custom"
# A custom period longer than this is refused: a report covers at most a year or so.
LONGEST = timedelta(days=400)


def visible_rooms(user) -> Q:
    """A filter on Room: every room with the reports permission, else the rooms the user
    manages (room managers see their own rooms' figures)."""
    if user.is_superuser or user.has_perm("reports.view_reports"):
        return Q()
    groups = list(group_ids(user))
    if not groups:
        return Q(pk__in=[])
    places = Policy.objects.filter(managers__in=groups)
    return (
        Q(pk__in=places.filter(room__isnull=False).values("room_id"))
        | Q(floor__building__in=places.filter(building__isnull=False).values("building_id"))
        | Q(floor__building__site__in=places.filter(site__isnull=False).values("site_id"))
    )


def may_see_reports(user) -> bool:
    return user.is_authenticated and Room.objects.filter(visible_rooms(user)).exists()


@dataclass(frozen=True)
class Place:
    key: str  # "site:1", "building:2", "room:3"
    label: str


def places(user) -> list[Place]:
    """Sites, buildings and rooms with at least one room the user may see, in that order."""
    rooms = list(
        Room.objects.filter(visible_rooms(user))
        .select_related("floor__building__site")
        .order_by("floor__building__site__name", "floor__building__name", "name")
    )
    sites: dict[int, Site] = {}
    buildings: dict[int, Building] = {}
    for room in rooms:
        buildings.setdefault(room.floor.building_id, room.floor.building)
        sites.setdefault(room.floor.building.site_id, room.floor.building.site)
    return (
        [Place(f"site:{s.pk}", s.name) for s in sites.values()]
        + [Place(f"building:{b.pk}", f"{b.site.name} · {b.name}") for b in buildings.values()]
        + [Place(f"room:{r.pk}", f"{r.floor.building.name} · {r.name}") for r in rooms]
    )


def room_ids(user, key: str) -> list[int]:
    """The rooms of a place the user may see; empty for an unknown or foreign place."""
    level, _sep, raw = key.partition(":")
    field = {"site": "floor__building__site", "building": "floor__building", "room": "pk"}.get(level)
    if field is None or not raw.isdigit():
        return []
    return list(
        Room.objects.filter(visible_rooms(user), **{field: int(raw)})
        .order_by("name")
        .values_list("pk", flat=True)
    )


def period(kind: str, start: date, end: date | None = None) -> tuple[date, date]:
    """[first day, day after the last) of the week, month or quarter that holds ``start``,
    or the custom days start to end (both included)."""
    if kind == WEEK:
        first = start - timedelta(days=start.weekday())
        return first, first + timedelta(days=7)
    if kind == MONTH:
        first = start.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1)
    if kind == QUARTER:
        first = start.replace(month=(start.month - 1) // 3 * 3 + 1, day=1)
        return first, (first + timedelta(days=95)).replace(day=1)
    assert end is not None
    return start, end + timedelta(days=1)
