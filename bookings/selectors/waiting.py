"""A person's places on the waiting list, as My bookings shows them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q

from ..models import WaitingEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Entries that left the line without a booking stay in view this long, with the reason.
RECENT = timedelta(days=7)


def my_waiting(*, user: User, now: datetime, limit: int = 100) -> list[WaitingEntry]:
    """Places still in line (their time ahead), open offers, and those refused or expired lately, by start."""
    return list(
        WaitingEntry.objects.filter(person=user)
        .filter(
            Q(status=WaitingEntry.Status.WAITING, span__startswith__gt=now)
            | Q(status=WaitingEntry.Status.OFFERED)
            | Q(
                status__in=[WaitingEntry.Status.REFUSED, WaitingEntry.Status.EXPIRED],
                decided_at__gt=now - RECENT,
            )
        )
        .select_related("room__floor__building__site", "booking__room")
        .order_by("span", "pk")[:limit]
    )
