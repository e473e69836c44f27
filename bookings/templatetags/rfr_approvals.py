"""Whether to show the approvals link: only for people who manage a room."""

from __future__ import annotations

from django import template
from django.db import DatabaseError

register = template.Library()


@register.simple_tag
def manages_rooms(user) -> bool:
    """One EXISTS query per request, and only for signed-in users."""
    from ..views.approvals import manages_rooms as check

    try:
        return check(user)
    except DatabaseError:
        # The page saying the database is away must not fail on its navigation.
        return False


@register.simple_tag
def pending_count(user) -> int:
    """Requests waiting for this user's decision (0 for someone who manages no room)."""
    from ..services.approvals import pending_requests
    from ..views.approvals import manages_rooms as check

    try:
        return pending_requests(user).count() if check(user) else 0
    except DatabaseError:
        return 0
