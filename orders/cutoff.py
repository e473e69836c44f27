"""When an item can still be ordered: pure functions of the item, the site's calendar and times.

"By 14:00 the working day before" is counted in the site's zone, skipping weekends and
the site's closed days; the wall-clock cut-off stays 14:00 across a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .models import ClosedDay, Item


def working_day(day: date, closed: Container[date]) -> bool:
    return day.isoweekday() <= 5 and day not in closed


def closed_days(site_id: int, around: date) -> set[date]:
    """The site's closed days in the weeks before ``around`` (enough for any cut-off)."""
    return set(
        ClosedDay.objects.filter(
            site_id=site_id, day__range=(around - timedelta(days=60), around)
        ).values_list("day", flat=True)
    )


def deadline(item: Item, *, deliver_at: datetime, tz: ZoneInfo, closed: Container[date]) -> datetime:
    """The last moment (inclusive) an order of ``item`` for ``deliver_at`` is accepted."""
    day = deliver_at.astimezone(tz).date()
    for _ in range(item.cutoff_days):
        day -= timedelta(days=1)
        while not working_day(day, closed):
            day -= timedelta(days=1)
    return datetime.combine(day, item.cutoff_time, tzinfo=tz)


def delivered_then(item: Item, *, deliver_at: datetime, tz: ZoneInfo) -> bool:
    """Whether the provider delivers this item at that local weekday and hour."""
    local = deliver_at.astimezone(tz)
    return str(local.isoweekday()) in item.delivery_weekdays and (
        item.delivery_from <= local.time().replace(tzinfo=None) <= item.delivery_until
    )
