"""Template filters of the staff pages: dates in the reader's language, times in a site's zone."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

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
def quoted(value) -> str:
    """A title in the reader's quotation marks: “Jour fixe” / „Jour fixe“."""
    return format_html(pgettext("quotation marks", "“{}”"), value)


@register.filter
def pct(value: float) -> str:
    """A CSS percentage, never with a decimal comma."""
    return f"{value:.3f}%"


@register.simple_tag
def read_only_message() -> str:
    """Why writing is refused right now (shown when the read-only context flag is set)."""
    from raumfuerraum import read_only

    return read_only.message()


@register.simple_tag
def plan_track(track, axis, tz) -> str:
    """One row of a plan as HTML: bookings as blocks, free stretches as links to the dialog.

    Built in Python rather than a template: the day plan of 200 rooms has thousands of
    these elements, and the template engine took most of a second for them.
    """
    book = reverse("bookings:book")
    day = track.day.isoformat()
    room = track.room
    parts = [
        format_html(
            '<div class="track" data-date="{}" data-axis-start="{}" data-axis-minutes="{}">',
            day,
            hm(axis.start, tz),
            axis.minutes,
        )
    ]
    for gap in track.gaps:
        start, end = hm(gap.start, tz), hm(gap.end, tz)
        query = urlencode({"room": room.pk, "date": day, "start": start, "end": hm(gap.suggested_end, tz)})
        label = gettext("Free %(span)s: book %(room)s") % {"span": f"{start}–{end}", "room": room.name}
        parts.append(
            format_html(
                '<a class="gap" style="left:{};width:{}" href="{}?{}" data-start="{}" data-end="{}">'
                '<span class="visually-hidden">{}</span></a>',
                pct(gap.left),
                pct(gap.width),
                book,
                query,
                start,
                end,
                label,
            )
        )
    busy = gettext("Busy")
    for block in track.blocks:
        span = timespan(block.start, block.end, tz)
        style = f"left:{pct(block.left)};width:{pct(block.width)}"
        if block.mine:
            parts.append(
                format_html(
                    '<a class="block mine" style="{}" href="{}" title="{} {}">'
                    '<span class="block-time">{}</span> <span class="block-title">{}</span></a>',
                    style,
                    reverse("bookings:change", args=[block.id]),
                    span,
                    block.title,
                    span,
                    block.title,
                )
            )
        else:
            title = block.title if block.title is not None else busy
            tooltip = f"{span} {title}" + (f" ({block.organizer})" if block.organizer else "")
            parts.append(
                format_html(
                    '<span class="block" style="{}" title="{}">'
                    '<span class="block-time">{}</span> <span class="block-title">{}</span></span>',
                    style,
                    tooltip,
                    span,
                    title,
                )
            )
    if axis.now is not None:
        parts.append(
            format_html('<span class="now" style="left:{}" aria-hidden="true"></span>', pct(axis.now))
        )
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 (every part above is escaped by format_html)
