"""Who handles other people's personal data: admins who may change user accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def is_privacy_admin(user: User) -> bool:
    """Superusers and whoever may change user accounts (they manage people already)."""
    return user.is_active and (user.is_superuser or user.has_perm("auth.change_user"))
