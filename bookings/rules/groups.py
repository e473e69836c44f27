"""Who may book a room, who is not bound by its rules, who manages it.

Each decision checks whether the rules name any group before it reads the user's
groups: most rooms name none, and then a booking costs no query for them.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import datetime
from functools import reduce
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from ..combinations import sharing_map
from ..models import Blocking, Policy, Room
from ..models.policies import BOOKING_PLACE, PLACE_LEVELS, place_chain
from .resolve import Access, Rules, access_of, ids

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def group_ids(user: User) -> frozenset[int]:
    """The user's group ids, read once per user object."""
    cached = getattr(user, "_rfr_group_ids", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("pk", flat=True)) if user.pk else frozenset()
        user._rfr_group_ids = cached  # type: ignore[attr-defined]
    return cached


def may_override(user: User, access: Access) -> bool:
    """Facility admins and the policy's overriders are not bound by its rules."""
    return user.is_superuser or bool(access.overriders and group_ids(user) & access.overriders)


def may_book(user: User, access: Access) -> bool:
    """Where a policy names who may book, only they (and overriders) may; elsewhere everyone."""
    return access.bookers is None or may_override(user, access) or bool(group_ids(user) & access.bookers)


def is_manager(user: User, rules: Rules) -> bool:
    """Room managers approve requests for the room; facility admins count as managers."""
    return user.is_superuser or bool(rules.managers and group_ids(user) & rules.managers)


def may_book_for_anyone(user: User) -> bool:
    """Facility admins and room managers (of any room) book in anyone's name; the services
    still check the room: a manager books for others only in the rooms they manage.

    One query (the booking dialog asks on every visit): the permission "change booking",
    given to the user or a group of theirs, or a group named as some policy's managers.
    """
    if user.is_superuser:
        return True
    if not user.pk:
        return False
    may_change = {"content_type__app_label": "bookings", "codename": "change_booking"}
    admins = Permission.objects.filter(**may_change)
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(
            Q(user_permissions__in=admins)
            | Q(groups__permissions__in=admins)
            | Q(groups__in=Policy.managers.through.objects.values("group_id"))
        )
        .exists()
    )


def managed_rooms_filter(user: User) -> Q:
    """A filter on Booking for the rooms the user manages (every room for facility admins)."""
    if user.is_superuser:
        return Q()
    groups = list(group_ids(user))
    if not groups:
        return Q(pk__in=[])
    places = Policy.objects.filter(managers__in=groups)
    managed = []
    for level in PLACE_LEVELS:
        set_there = places.filter(**{f"{level}__isnull": False}).values(f"{level}_id")
        managed.append(Q(**{f"{BOOKING_PLACE[level]}__in": set_there}))
    return reduce(operator.or_, managed)


def manager_user_ids(rules: Rules) -> list[int]:
    """The active users in the room's manager groups (the people an approval request goes to)."""
    if not rules.managers:
        return []
    users = get_user_model().objects.filter(is_active=True, groups__in=rules.managers)
    return sorted(set(users.values_list("pk", flat=True)))


def read_only_rooms(user: User, rooms: Iterable[Room]) -> set[int]:
    """Of these rooms (floor loaded), the ids the user may see but not book (who-may-book).

    One query when no policy names who may book or overrides, which is the common case.
    """
    if user.is_superuser:
        return set()
    # Only a policy naming bookers can keep anyone out: the common answer in one tiny query.
    if not ids(f"SELECT 1 FROM {Policy.bookers.through._meta.db_table} LIMIT 1", []):  # noqa: S608
        return set()
    named = list(
        Policy.objects.filter(Q(bookers__isnull=False) | Q(overriders__isnull=False))
        .distinct()
        .prefetch_related("bookers", "overriders")
    )
    if not any(p.bookers.all() for p in named):
        return set()
    # Policies that name nobody cannot change who may book, so these are all it takes.
    by_place = {p.place_key: p for p in named}
    return {
        room.pk
        for room in rooms
        if not may_book(user, access_of([by_place[key] for key in place_chain(room) if key in by_place]))
    }


def closed_rooms(user: User, rooms: Iterable[Room], start: datetime, end: datetime) -> set[int]:
    """Of these rooms (floor loaded), the ids a blocking closes to the user in [start, end)."""
    return {pk for pk, blockings in closures(user, rooms, start, end).items() if blockings}


def closing_to(user: User | None, blockings: QuerySet[Blocking]) -> list[Blocking]:
    """Of these blockings, by start, those that close their place to the user: not to a
    superuser, nor to a member of an allowed group. With user None: all of them."""
    if user is not None and user.is_superuser:
        return []
    mine = group_ids(user) if user is not None else set()
    return [
        b
        for b in blockings.prefetch_related("allowed_groups").order_by("span")
        if user is None or not mine & {g.pk for g in b.allowed_groups.all()}
    ]


def blockings_in(
    user: User, *, site_id: int, building_id: int | None, start: datetime, end: datetime
) -> list[Blocking]:
    """The blockings that close (part of) a site or building to the user in [start, end):
    what the finder names when it found nothing."""
    place = Q(site_id=site_id) | Q(building__site_id=site_id) | Q(room__floor__building__site_id=site_id)
    if building_id is not None:
        place = Q(site_id=site_id) | Q(building_id=building_id) | Q(room__floor__building_id=building_id)
    found = Blocking.objects.filter(place, cancelled_at__isnull=True, span__overlap=(start, end))
    return closing_to(user, found.select_related("site", "building", "room"))


def closures(
    user: User | None, rooms: Iterable[Room], start: datetime, end: datetime
) -> dict[int, list[Blocking]]:
    """Per room (floor loaded), the blockings that close it to the user in [start, end), by start.

    The plans draw them with their reason; closed_rooms hides the rooms from the finder.
    With user None: every blocking there, whoever it lets through (what a plan draws).
    """
    found = ids(
        "SELECT id FROM bookings_blocking WHERE cancelled_at IS NULL AND span && tstzrange(%s, %s, '[)')",
        [start, end],
    )
    if not found:
        return {}
    closing = closing_to(user, Blocking.objects.filter(pk__in=found))
    found_by_room: dict[int, list[Blocking]] = {}
    shared = sharing_map() if closing else {}
    for room in rooms:
        # A blocking of a part closes its combinations too, and the other way round.
        chain = list(place_chain(room)) + [("room", pk) for pk in shared.get(room.pk, ())]
        hits = [b for b in closing if b.place_key in chain]
        if hits:
            found_by_room[room.pk] = hits
    return found_by_room
