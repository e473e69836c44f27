"""Template filters of the staff pages: dates in the reader's language, times in a site's zone."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, pgettext

from raumfuerraum import read_only

from .. import plan_geometry
from ..models import zone_city

register = template.Library()


def _local(value, tz):
    return value.astimezone(tz) if isinstance(value, datetime) and tz is not None else value


@register.filter
def in_tz(value: datetime, tz):
    """The moment as wall-clock time in a zone (a site's)."""
    return _local(value, tz)


@register.filter
def longdate(value: date | datetime) -> str:
    """Tuesday, May 12, 2026 / Dienstag, 12. Mai 2026."""
    return date_format(value, pgettext("date format", "l, F j, Y")) if value else ""


@register.filter
def shortdate(value: date | datetime) -> str:
    """Tue, May 12 / Di, 12. Mai."""
    return date_format(value, pgettext("date format", "D, M j")) if value else ""


@register.filter
def mediumdate(value: date | datetime) -> str:
    """Tue, May 12, 2026 / Di, 12. Mai 2026."""
    return date_format(value, pgettext("date format", "D, M j, Y")) if value else ""


@register.filter
def hm(value: datetime, tz=None) -> str:
    """24-hour time in a zone, the same in every language: 09:30."""
    return _local(value, tz).strftime("%H:%M") if value else ""


@register.simple_tag
def timespan(start: datetime, end: datetime, tz) -> str:
    """09:00–10:30 in the zone; a span past midnight names its end day."""
    start, end = _local(start, tz), _local(end, tz)
    if end.date() == start.date() or (end.hour == 0 and end.minute == 0 and (end - start).days < 1):
        return f"{start:%H:%M}–{end:%H:%M}"
    return f"{start:%H:%M}–{shortdate(end)} {end:%H:%M}"


@register.filter
def city(tz) -> str:
    """A time zone by its city: Europe/Berlin → Berlin, America/New_York → New York."""
    return zone_city(tz)


@register.filter
def quoted(value) -> str:
    """A title in the reader's quotation marks: “Jour fixe” / „Jour fixe“."""
    return format_html(pgettext("quotation marks", "“{}”"), value)


@register.filter
def at(value: float) -> str:
    """The class that puts a plan's element (an hour tick) at ``value`` percent from the left."""
    return plan_geometry.at(value)


@register.simple_tag
def read_only_message() -> str:
    """Why writing is refused right now (shown when the read-only context flag is set)."""
    return read_only.message()


@register.inclusion_tag("bookings/_plan_track.html")
def plan_track(track, axis, tz) -> dict:
    """One row of a plan: bookings as blocks, free stretches as links to the booking dialog.

    The markup is in the template; the times, links and labels are worked out here: a day
    plan of 200 rooms has thousands of elements, and template filters and {% url %} on
    each of them took most of a second.
    """
    book = reverse("bookings:book")
    day = track.day.isoformat()
    room = track.room
    gaps = []
    for gap in track.gaps:
        start, end = hm(gap.start, tz), hm(gap.end, tz)
        query = urlencode({"room": room.pk, "date": day, "start": start, "end": hm(gap.suggested_end, tz)})
        gaps.append(
            {
                "place": plan_geometry.placed(gap.left, gap.width),
                "href": f"{book}?{query}",
                "start": start,
                "end": end,
                "label": gettext("Free %(span)s: book %(room)s")
                % {"span": f"{start}–{end}", "room": room.name},
            }
        )
    busy = gettext("Busy")
    blocks = [
        {
            "place": plan_geometry.placed(block.left, block.width),
            "span": timespan(block.start, block.end, tz),
            # Only one's own bookings link to their change page; others' private titles read "Busy".
            "href": reverse("bookings:change", args=[block.id]) if block.mine else None,
            "title": block.title if block.mine or block.title is not None else busy,
            "organizer": None if block.mine else block.organizer,
        }
        for block in track.blocks
    ]
    closed = [
        {
            "place": plan_geometry.placed(c.left, c.width),
            "span": timespan(c.start, c.end, tz),
            "label": gettext("Blocked: %(reason)s") % {"reason": c.reason},
        }
        for c in track.closed
    ]
    return {
        "track_day": day,
        "closed": closed,
        "axis_start": hm(axis.start, tz),
        "axis_minutes": axis.minutes,
        "gaps": gaps,
        "blocks": blocks,
        "now": plan_geometry.at(axis.now) if axis.now is not None else None,
    }
