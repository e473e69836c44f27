"""Buildings, rooms and equipment from the ORM, as model instances for the pages and rules."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Building, Equipment, Room


def rooms(
    *,
    building: int | None = None,
    site: int | None = None,
    min_capacity: int | None = None,
    equipment: list[str] | None = None,
    bookable_only: bool = False,
) -> QuerySet[Room]:
    """Rooms matching the filters, smallest first (the best fit for a group)."""
    qs = Room.objects.select_related("floor__building__site")
    if building is not None:
        qs = qs.filter(floor__building_id=building)
    if site is not None:
        qs = qs.filter(floor__building__site_id=site)
    if min_capacity:
        qs = qs.filter(capacity__gte=min_capacity)
    for code in equipment or []:
        qs = qs.filter(equipment__code=code)
    if bookable_only:
        qs = qs.filter(bookable=True)
    return qs.order_by("capacity", "name", "pk")


def buildings() -> list[Building]:
    """Every building with its site, by site and name: one query."""
    return list(Building.objects.select_related("site").order_by("site__name", "name"))


def equipment() -> list[Equipment]:
    return list(Equipment.objects.order_by("name"))


def bookable_rooms(*, site_id: int | None = None) -> list[Room]:
    """Bookable rooms grouped for a select (by site, building, name): one query."""
    qs = Room.objects.filter(bookable=True).select_related("floor__building__site")
    if site_id is not None:
        qs = qs.filter(floor__building__site_id=site_id)
    return list(qs.order_by("floor__building__site__name", "floor__building__name", "name"))


def room_with_place(room_id: int) -> Room | None:
    return (
        Room.objects.select_related("floor__building__site")
        .prefetch_related("equipment")
        .filter(pk=room_id)
        .first()
    )
