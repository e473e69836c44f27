"""Deadlines hold at the moment of an action, not when a periodic job next runs.

A request nobody decided by its decision deadline, and a booking nobody checked in to
by its check-in deadline, still hold their slot in the database until the once-a-minute
jobs expire or release them. When someone needs that slot before then, the action frees
it itself, with the same services and audit entries the jobs use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..models import Booking
from . import approvals, checkin


def free_overdue(bookings: Iterable[Booking], *, now: datetime) -> set[int]:
    """Expire or release those of ``bookings`` past their deadline; the ids freed. Raises nothing."""
    overdue = [b.pk for b in bookings if b.holds_past_deadline(now)]
    if not overdue:
        return set()
    # The services lock the rows and skip any another transaction holds (being checked in
    # or decided right now); those stay in the way, as they should.
    approvals.expire_pending(now=now, ids=overdue)
    checkin.release_no_shows(now=now, ids=overdue)
    return set(
        Booking.objects.filter(pk__in=overdue).exclude(status__in=Booking.ACTIVE).values_list("pk", flat=True)
    )
