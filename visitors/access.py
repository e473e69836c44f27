"""Who may do what with visits: hosts, reception desks, facility admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from bookings.rules.groups import group_ids

from .models import Reception, Visit, Visitor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from bookings.models import Site


def is_admin(user: User) -> bool:
    """Facility admins: every visit at every site."""
    return user.is_superuser or user.has_perm("visitors.change_visit")


def reception_site_ids(user: User) -> set[int]:
    """The sites whose reception the user works at (by the desk's group)."""
    if not user.pk:
        return set()
    groups = group_ids(user)
    if not groups:
        return set()
    return set(Reception.objects.filter(group_id__in=groups).values_list("site_id", flat=True))


def works_reception(user: User, site: Site) -> bool:
    return is_admin(user) or site.pk in reception_site_ids(user)


def may_host(user: User, visit: Visit) -> bool:
    """The host changes their own visit; admins any."""
    return visit.host_id == user.pk or is_admin(user)


def visible_visits(user: User) -> QuerySet:
    """The visits the user may know exist: an id outside these answers 404, not 403,
    so nobody learns from the answer that a colleague expects a visitor."""
    if is_admin(user):
        return Visit.objects.all()
    return Visit.objects.filter(Q(host_id=user.pk) | Q(building__site_id__in=reception_site_ids(user)))


def visible_visitors(user: User) -> QuerySet:
    """The visitors of the visits the user may know exist (see visible_visits)."""
    return Visitor.objects.filter(visit__in=visible_visits(user))
