"""Writes for directory users: create or update from a Person, roles, leavers.

Sign-in and sync both come through ``upsert_person``, which locks the account row by
its directory id, so the two running side by side converge on one user instead of
creating two or overwriting each other half-way.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bookings.errors import BookingError
from bookings.models import Booking
from bookings.outbox import enqueue
from bookings.services import cancel_booking

from ..base import Person
from .conf import MANAGER_ROLE
from .models import DirectoryAccount

log = logging.getLogger("rfr.directory")

DIRECTORY_USERS = "directory users"
# Role -> Django group; "staff" only sets is_staff (admin site, private titles).
ROLE_GROUPS = {
    "room_managers": "room managers",
    "facility_admins": "facility admins",
    "display_admins": "display admins",
}
MANAGED_GROUPS = {DIRECTORY_USERS, *ROLE_GROUPS.values()}
# What a group may do when the sync first creates it; admins may change it afterwards.
# "room managers" manage every room; for one building or room, mirror a directory group
# (RFR_LDAP_MANAGER_GROUPS) and name it as managers in that place's policy.
GROUP_PERMISSIONS = {
    "room managers": Q(
        content_type__app_label="bookings",
        codename__in=[
            "view_booking",
            "change_booking",
            "view_series",
            "change_series",
            "view_room",
            "view_bookingevent",
        ],
    ),
    "facility admins": Q(content_type__app_label="bookings"),
    "display admins": Q(content_type__app_label="displays"),
}
USER_FIELDS = ("first_name", "last_name", "email")


class UsernameTaken(Exception):
    """A local account (not from the directory) holds the login name; it is never taken over."""


def role_group(name: str) -> Group:
    group, created = Group.objects.get_or_create(name=name)
    if created and name in GROUP_PERMISSIONS:
        group.permissions.set(Permission.objects.filter(GROUP_PERMISSIONS[name]))
    return group


def apply_roles(user, account: DirectoryAccount, roles: frozenset[str]) -> bool:
    """Set is_staff and the managed groups to what the roles say; True if anything changed."""
    wanted = wanted_groups(roles)
    managed = MANAGED_GROUPS | mirrored_groups()
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    changed = False
    if current != wanted:
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))
        user.groups.add(*(role_group(name) for name in wanted - current))
        changed = True
    # Every role works in the admin; is_superuser stays with the local emergency admin.
    # Managing one building's rooms is no reason to see the admin (and every private title).
    staff = any(not r.startswith(MANAGER_ROLE) for r in roles)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
        changed = True
    if sorted(account.roles) != sorted(roles):
        account.roles = sorted(roles)
        account.save(update_fields=["roles"])
        changed = True
    return changed


def _free_username(username: str, *, external_id: str, keep_pk: int | None = None) -> None:
    """Make room for a directory user's login name; raises UsernameTaken for a local account."""
    other = get_user_model().objects.select_for_update().filter(username=username).exclude(pk=keep_pk).first()
    if other is None:
        return
    holder = DirectoryAccount.objects.filter(user=other).values_list("external_id", flat=True).first()
    if holder is None:
        raise UsernameTaken(username)
    if holder == external_id:
        return  # the same person, written by a concurrent sign-in or sync a moment ago
    # Another directory user held the name: renamed or gone in the directory, and
    # their own next update gives them their current name back.
    other.username = f"{username}~{other.pk}"[:150]
    other.save(update_fields=["username"])


def _create(person: Person, now: datetime) -> DirectoryAccount | None:
    """A new user and account; None if a concurrent sign-in or sync created it first."""
    try:
        with transaction.atomic():
            _free_username(person.username, external_id=person.external_id)
            user = get_user_model()(username=person.username, **{f: getattr(person, f) for f in USER_FIELDS})
            user.set_unusable_password()  # a directory user never signs in with a local password
            user.save()
            return DirectoryAccount.objects.create(
                user=user,
                external_id=person.external_id,
                department=person.department,
                phone=person.phone,
                synced_at=now,
            )
    except IntegrityError:
        return None


@transaction.atomic
def upsert_person(person: Person, *, now: datetime) -> tuple[object, str]:
    """Create or update the user for a Person; returns (user, "created"|"updated"|"reactivated"|
    "unchanged"). Raises UsernameTaken when a local account holds the login name."""
    status = "unchanged"
    account = (
        DirectoryAccount.objects.select_for_update()
        .select_related("user")
        .filter(external_id=person.external_id)
        .first()
    )
    if account is None:
        account = _create(person, now)
        status = "created"
        if account is None:  # lost the race: the other writer's row is committed now
            account = (
                DirectoryAccount.objects.select_for_update()
                .select_related("user")
                .filter(external_id=person.external_id)
                .first()
            )
            if account is None:
                raise UsernameTaken(person.username)
            status = "unchanged"
    user = account.user
    user_changes = [f for f in USER_FIELDS if getattr(user, f) != getattr(person, f)]
    for field in user_changes:
        setattr(user, field, getattr(person, field))
    if user.username != person.username:
        _free_username(person.username, external_id=person.external_id, keep_pk=user.pk)
        user.username = person.username
        user_changes.append("username")
    if not user.is_active:
        user.is_active = True
        user_changes.append("is_active")
        status = "reactivated"
    if user_changes:
        user.save(update_fields=user_changes)
    account_changes = [f for f in ("department", "phone") if getattr(account, f) != getattr(person, f)]
    for field in account_changes:
        setattr(account, field, getattr(person, field))
    if account.left_at is not None:
        account.left_at = None
        account_changes.append("left_at")
    account.synced_at = now
    account.save(update_fields=[*account_changes, "synced_at"])
    roles_changed = apply_roles(user, account, person.roles)
    if status == "unchanged" and (user_changes or account_changes or roles_changed):
        status = "updated"
    return user, status


def mirrored_groups() -> set[str]:
    """The Django groups mirrored from the directory groups in RFR_LDAP_MANAGER_GROUPS."""
    conf = settings.RFR_LDAP
    roles = conf.role_groups if conf else {}
    return {r.removeprefix(MANAGER_ROLE) for r in roles if r.startswith(MANAGER_ROLE)}


def wanted_groups(roles: frozenset[str]) -> set[str]:
    return (
        {DIRECTORY_USERS}
        | {ROLE_GROUPS[r] for r in roles if r in ROLE_GROUPS}
        | {r.removeprefix(MANAGER_ROLE) for r in roles if r.startswith(MANAGER_ROLE)}
    )


@transaction.atomic
def create_people(people: list[Person], *, now: datetime) -> None:
    """Create many new directory users in a few statements (a first sync of thousands).

    Raises IntegrityError, and writes nothing, if any id or login name exists already
    (a sign-in came first, a local account): the caller then takes them one by one.
    """
    model = get_user_model()
    users = [
        model(
            username=p.username,
            is_staff=bool(p.roles),
            password=make_password(None),  # unusable, as set_unusable_password makes it
            **{f: getattr(p, f) for f in USER_FIELDS},
        )
        for p in people
    ]
    model.objects.bulk_create(users)
    DirectoryAccount.objects.bulk_create(
        DirectoryAccount(
            user=user,
            external_id=p.external_id,
            department=p.department,
            phone=p.phone,
            roles=sorted(p.roles),
            synced_at=now,
        )
        for user, p in zip(users, people, strict=True)
    )
    groups = {name: role_group(name) for name in set().union(*(wanted_groups(p.roles) for p in people))}
    membership = model.groups.through
    membership.objects.bulk_create(
        membership(user_id=user.pk, group_id=groups[name].pk)
        for user, p in zip(users, people, strict=True)
        for name in wanted_groups(p.roles)
    )


@transaction.atomic
def update_roles(*, external_id: str, roles: frozenset[str]) -> bool:
    """Roles only (group membership changed, the entry did not); True if anything changed."""
    account = DirectoryAccount.objects.select_for_update().select_related("user").get(external_id=external_id)
    return apply_roles(account.user, account, roles)


@transaction.atomic
def deactivate_leaver(*, external_id: str, now: datetime, cancel_bookings: bool) -> dict | None:
    """Deactivate (never delete) a user who left; cancel or report their future bookings.

    Returns what was done, or None if they had left already. Bookings that cannot be
    cancelled any more (ended meanwhile) are reported instead.
    """
    account = DirectoryAccount.objects.select_for_update().select_related("user").get(external_id=external_id)
    user = account.user
    if account.left_at is not None and not user.is_active:
        return None
    user.is_active = False
    user.save(update_fields=["is_active"])
    account.left_at = now
    account.save(update_fields=["left_at"])
    future = list(
        Booking.objects.filter(organizer=user, status__in=Booking.ACTIVE, span__endswith__gt=now)
        .select_related("room")
        .order_by("span")
    )
    cancelled, reported = [], []
    for booking in future:
        if cancel_bookings:
            try:
                cancel_booking(
                    booking=booking, actor=user, reason=_("The organizer left the company."), now=now
                )
            except BookingError as exc:
                log.warning("booking #%s of leaver %s stays: %s", booking.pk, user.username, exc)
            else:
                cancelled.append(booking)
                continue
        reported.append(booking)
    if future:
        # Room managers hear of it through the outbox (log today, mail once a sink exists).
        enqueue(
            topic="directory.user_left",
            payload={
                "user": user.pk,
                "username": user.username,
                "name": user.get_full_name() or user.username,
                "email": user.email,
                "cancelled": [_booking_line(b) for b in cancelled],
                "bookings": [_booking_line(b) for b in reported],
            },
        )
    log.info(
        "directory: %s left; %d future bookings cancelled, %d reported",
        user.username,
        len(cancelled),
        len(reported),
    )
    return {"cancelled": len(cancelled), "reported": len(reported)}


def _booking_line(booking: Booking) -> dict:
    return {
        "id": booking.pk,
        "room": booking.room_id,
        "room_name": booking.room.name,
        "start": booking.span.lower.isoformat(),
        "end": booking.span.upper.isoformat(),
        "title": "" if booking.private else booking.title,
    }
