"""The meetings in several rooms a person organizes, for My bookings (no view needs to know)."""

from __future__ import annotations

from django import template

from ..selectors.meetings import meetings_of

register = template.Library()


@register.simple_tag
def my_meetings(user) -> list:
    """The user's meetings that have not ended (organized, or booked for someone)."""
    return meetings_of(user) if user.is_authenticated else []
