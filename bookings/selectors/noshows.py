"""No-shows: bookings released because nobody checked in, counted per organizer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from ..models import Booking

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def released_bookings(*, since: datetime | None = None) -> QuerySet[Booking]:
    """No-shows: bookings released because nobody checked in (those starting at or after ``since``)."""
    qs = Booking.objects.filter(status=Booking.Status.RELEASED)
    return qs if since is None else qs.filter(span__startswith__gte=since)


def no_show_counts(*, since: datetime | None = None, organizer: User | None = None) -> dict[int, int]:
    """Released bookings per organizer id (only organizers with at least one)."""
    qs = released_bookings(since=since)
    if organizer is not None:
        qs = qs.filter(organizer=organizer)
    return dict(qs.order_by().values("organizer").annotate(n=Count("pk")).values_list("organizer", "n"))


def no_show_count_of_organizer(*, since: datetime | None = None) -> Coalesce:
    """``no_show_counts`` as an annotation for booking querysets: the organizer's no-shows."""
    counts = (
        released_bookings(since=since)
        .filter(organizer=OuterRef("organizer"))
        .order_by()
        .values("organizer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)
