"""Delegates: a person names who may book in their name, and takes it back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import InvalidBooking, NotAllowed
from ..models import Delegation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def find_person(text: str) -> User:
    """The active person with this user name or mail address; raises InvalidBooking otherwise."""
    text = (text or "").strip()
    if not text:
        raise InvalidBooking(_("Please enter a user name or mail address."), field="person")
    people = get_user_model().objects.filter(is_active=True)
    found = list(people.filter(username__iexact=text)[:2])
    if not found and "@" in text:
        found = list(people.filter(email__iexact=text)[:2])
    if len(found) != 1:
        # One message for "nobody" and "several": the page names no one it was not asked about.
        raise InvalidBooking(_("There is no single active person with this name or address."), field="person")
    return found[0]


@transaction.atomic
def name_delegate(*, principal: User, delegate: User, actor: User) -> Delegation:
    """Let ``delegate`` book for ``principal``; naming them again changes nothing.

    Raises NotAllowed unless the actor is the principal or may change delegations (admins),
    InvalidBooking for oneself or a person who has left.
    """
    if actor.pk != principal.pk and not actor.has_perm("bookings.change_delegation"):
        raise NotAllowed(_("Only the person themselves and admins can name their delegates."))
    if delegate.pk == principal.pk:
        raise InvalidBooking(_("You always book for yourself; name someone else."), field="person")
    if not delegate.is_active:
        raise InvalidBooking(_("This person is no longer active."), field="person")
    # The principal's row is the lock: two requests naming the same delegate at once make one row.
    get_user_model().objects.select_for_update().filter(pk=principal.pk).first()
    active = Delegation.objects.filter(principal=principal, delegate=delegate, revoked_at__isnull=True)
    existing = active.first()
    if existing is not None:
        return existing
    return Delegation.objects.create(principal=principal, delegate=delegate, granted_by=actor)


def revoke_delegation(*, delegation: Delegation, actor: User) -> None:
    """End a delegation (the row stays on record); repeating it is harmless.

    Raises NotAllowed unless the actor is the principal, the delegate giving it up, or an admin.
    """
    if actor.pk not in (delegation.principal_id, delegation.delegate_id) and not actor.has_perm(
        "bookings.change_delegation"
    ):
        raise NotAllowed(_("Only the person themselves and admins can take a delegation back."))
    # Only where it is still active: a concurrent second revocation keeps the first time.
    Delegation.objects.filter(pk=delegation.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
