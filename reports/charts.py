"""Charts as SVG drawn on the server: no script, no style attribute (the CSP allows
neither), nothing fetched from elsewhere. Colours are SVG presentation attributes and
classes from reports/static/reports/reports.css. Every chart is an image with a title;
the page puts the same numbers in a table beside it, for screen readers and for copying.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

BOOKED, USED, BEFORE = "#1d4ed8", "#0f766e", "#9ca3af"
# Heat map: five steps from white to dark blue, by booked share.
STEPS = ("#f8fafc", "#dbeafe", "#93c5fd", "#3b82f6", "#1e3a8a")


def _svg(title_id: str, title: str, width: int, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="{}" '
        'viewBox="0 0 {} {}" width="{}" height="{}"><title id="{}">{}</title>{}</svg>',
        title_id,
        width,
        height,
        width,
        height,
        title_id,
        title,
        body,
    )


def _n(value: float, places: int = 1) -> str:
    return f"{value:.{places}f}"


def _join(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _pct(share: Decimal | None) -> float:
    return float(share or 0) * 100


def bars(rows: list[tuple[str, Decimal | None, Decimal | None]], *, title: str) -> SafeString:
    """Two bars per row (booked, used), in per cent of the bookable hours."""
    label_width, bar_width, line = 200, 360, 34
    height = 30 + line * len(rows)
    parts = [
        format_html(
            '<text x="0" y="{}" class="label">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="12" fill="{}"/>'
            '<rect x="{}" y="{}" width="{}" height="12" fill="{}"/>'
            '<text x="{}" y="{}" class="value">{} % / {} %</text>',
            18 + 30 + i * line - 6,
            name[:30],
            label_width,
            30 + i * line,
            _n(bar_width * _pct(booked) / 100),
            BOOKED,
            label_width,
            30 + i * line + 13,
            _n(bar_width * _pct(used) / 100),
            USED,
            label_width + bar_width + 8,
            30 + i * line + 18,
            _n(_pct(booked), 0),
            _n(_pct(used), 0),
        )
        for i, (name, booked, used) in enumerate(rows)
    ]
    legend = format_html(
        '<rect x="{}" y="4" width="12" height="12" fill="{}"/><text x="{}" y="15" class="label">{}</text>'
        '<rect x="{}" y="4" width="12" height="12" fill="{}"/><text x="{}" y="15" class="label">{}</text>',
        label_width,
        BOOKED,
        label_width + 16,
        _("booked"),
        label_width + 120,
        USED,
        label_width + 136,
        _("used"),
    )
    return _svg("chart-rooms", title, label_width + bar_width + 110, height, legend + _join(parts))


def line(points: list[tuple[str, Decimal | None, Decimal | None]], *, title: str) -> SafeString:
    """Booked share per week, and a year before (grey), 0–100 %."""
    width, height, left, top, plot = 640, 240, 44, 20, 180
    step = (width - left - 20) / max(len(points) - 1, 1)

    def path(index: int, colour: str) -> SafeString:
        coords = [
            (left + i * step, top + plot - plot * _pct(p[index]) / 100)
            for i, p in enumerate(points)
            if p[index] is not None
        ]
        if not coords:
            return SafeString("")
        d = " ".join(f"{'M' if n == 0 else 'L'}{x:.1f},{y:.1f}" for n, (x, y) in enumerate(coords))
        dots = format_html_join(
            "", '<circle cx="{}" cy="{}" r="3" fill="{}"/>', ((_n(x), _n(y), colour) for x, y in coords)
        )
        return format_html('<path d="{}" fill="none" stroke="{}" stroke-width="2"/>{}', d, colour, dots)

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/><text x="0" y="{}" class="value">{} %</text>',
        (
            (
                left,
                width - 20,
                top + plot - plot * v / 100,
                top + plot - plot * v / 100,
                top + plot - plot * v / 100 + 4,
                v,
            )
            for v in (0, 25, 50, 75, 100)
        ),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="value" text-anchor="middle">{}</text>',
        ((_n(left + i * step), top + plot + 18, p[0]) for i, p in enumerate(points)),
    )
    return _svg("chart-weeks", title, width, height + 10, grid + labels + path(2, BEFORE) + path(1, BOOKED))


def heat(
    cells: dict[tuple[int, int], Decimal | None], weekdays: list[str], hours: range, *, title: str
) -> SafeString:
    """Weekday rows × hour columns, darker the more booked; closed cells are hatched grey."""
    left, top, size = 40, 20, 22
    parts = []
    for row, name in enumerate(weekdays, start=1):
        parts.append(
            format_html('<text x="0" y="{}" class="label">{}</text>', top + (row - 1) * size + 15, name)
        )
        for col, hour in enumerate(hours):
            share = cells.get((row, hour))
            fill = "#e5e7eb" if share is None else STEPS[min(int(float(share) * 5), 4)]
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="cell"/>',
                    left + col * size,
                    top + (row - 1) * size,
                    size - 2,
                    size - 2,
                    fill,
                )
            )
    for col, hour in enumerate(hours):
        parts.append(format_html('<text x="{}" y="12" class="value">{}</text>', left + col * size + 2, hour))
    return _svg("chart-heat", title, left + len(hours) * size + 10, top + 7 * size + 10, _join(parts))
