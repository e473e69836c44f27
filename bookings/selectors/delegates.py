"""Who may book for whom: the delegations a person gave and those they may use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q

from ..models import Delegation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def delegations_given(principal: User) -> list[Delegation]:
    """The principal's active delegations (to a person or a group), oldest first."""
    return list(
        Delegation.objects.filter(principal=principal, revoked_at__isnull=True)
        .select_related("delegate", "group")
        .order_by("created_at", "pk")
    )


def delegations_received(user: User) -> list[Delegation]:
    """The active delegations ``user`` may book under: named in person or through a group."""
    return list(
        Delegation.objects.filter(revoked_at__isnull=True, principal__is_active=True)
        .filter(Q(delegate=user) | Q(group__in=user.groups.all()))
        .select_related("principal", "group")
        .order_by("principal__last_name", "principal__first_name", "principal__username", "pk")
    )


def principals_of(user: User) -> list[User]:
    """The active people ``user`` may book for as their delegate, each once, by name (one query)."""
    active = Q(delegations_given__revoked_at__isnull=True)
    named = Q(delegations_given__delegate=user) | Q(delegations_given__group__in=user.groups.all())
    return list(
        get_user_model()
        .objects.filter(active & named, is_active=True)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
