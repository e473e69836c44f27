"""Whose booking titles a viewer may see: the one place the private-title rule lives."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TitleRule = Callable[[str, bool, int], str | None]


def title_rule(viewer: User | None) -> TitleRule:
    """``visible_title`` for one viewer, as ``rule(title, private, organizer_id)``.

    The viewer's id and rights are read once: the API's day plan applies it to every
    booking of the day.
    """
    if viewer is None:
        return _public_titles
    sees_all, viewer_id = viewer.is_staff, viewer.pk

    def rule(title: str, private: bool, organizer_id: int) -> str | None:
        return title if not private or sees_all or organizer_id == viewer_id else None

    return rule


def _public_titles(title: str, private: bool, organizer_id: int) -> str | None:
    return None if private else title


def visible_title(
    booking_title: str,
    *,
    private: bool,
    organizer_id: int,
    viewer: User | None,
    booked_by_id: int | None = None,
) -> str | None:
    """Private titles show only to their organizer, the delegate who booked it, and facility admins."""
    if booked_by_id is not None and viewer is not None and viewer.pk == booked_by_id:
        return booking_title
    return title_rule(viewer)(booking_title, private, organizer_id)
