"""Reads about visits: a reception's day, who is in the building, a host's own visits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from bookings.models import Building, Site

from .models import Visit, Visitor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RELATED = ("visit__building__site", "visit__host")


def local_day(site: Site, day: date) -> tuple[datetime, datetime]:
    """The day's bounds in the site's zone (23 or 25 hours long on a DST change)."""
    tz = site.tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _place(qs: QuerySet, site: Site, building: Building | None) -> QuerySet:
    return qs.filter(visit__building=building) if building else qs.filter(visit__building__site=site)


def day_visitors(*, site: Site, day: date, building: Building | None = None, query: str = "") -> QuerySet:
    """The day's visitors at the site (or one building), cancelled ones left out, by time."""
    start, end = local_day(site, day)
    on_the_day = Q(visit__start__lt=end, visit__end__gt=start, visit__cancelled_at__isnull=True)
    # Someone who arrived on an earlier day and never checked out is still in the building.
    still_here = Q(status=Visitor.Status.ARRIVED, visit__start__lt=end)
    qs = Visitor.objects.select_related(*RELATED).filter(on_the_day | still_here, anonymised_at__isnull=True)
    qs = _place(qs.exclude(status=Visitor.Status.CANCELLED), site, building)
    query = " ".join(query.split())
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(company__icontains=query))
    return qs.order_by("visit__start", "name", "pk")


def in_building(*, site: Site, building: Building | None = None) -> QuerySet:
    """The fire-safety list: visitors checked in and not out, now."""
    qs = Visitor.objects.select_related(*RELATED).filter(status=Visitor.Status.ARRIVED)
    return _place(qs, site, building).order_by("visit__building__name", "name", "pk")


def hosted_visits(user: User, *, since: datetime) -> QuerySet:
    """The user's own visits not over before ``since``, with their visitors."""
    return (
        Visit.objects.filter(host=user, end__gt=since)
        .select_related("building__site", "booking")
        .prefetch_related("visitors")
        .order_by("start", "pk")
    )
