"""The report's tables as CSV (one table per file) and XLSX (one sheet per table).

Numbers stay numbers: hours with two places, shares as fractions (0.42; Excel shows them
as per cent), so the files can be computed with. CSV uses a comma and a decimal point.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook

TABLES = ("rooms", "weeks", "hours", "groups")


def tables(figures: dict) -> dict[str, tuple[str, list[str], list[list]]]:
    """name → (title, header, rows) from what reports.views.figures computed."""
    return {
        "rooms": (
            _("Rooms"),
            [
                _("Room"),
                _("Bookable hours"),
                _("Booked hours"),
                _("Used hours"),
                _("booked"),
                _("used"),
                _("Bookings"),
                _("Released (no check-in)"),
                _("Cancelled < 1 h before"),
                _("No-show rate"),
                _("Seats"),
                _("Median people"),
            ],
            [
                [
                    r.name,
                    r.bookable_hours,
                    r.booked_hours,
                    r.used_hours,
                    r.booked_share,
                    r.used_share,
                    r.bookings,
                    r.released,
                    r.late_cancelled,
                    r.no_show_rate,
                    r.capacity,
                    size.median_people if size else None,
                ]
                for r, size in figures["rooms"]
            ],
        ),
        "weeks": (
            _("Weeks"),
            [_("Week from"), _("Bookable hours"), _("Booked hours"), _("booked"), _("a year before")],
            [
                [w.monday, w.bookable_hours, w.booked_hours, w.booked_share, w.booked_share_year_before]
                for w in figures["weeks"]
            ],
        ),
        "hours": (
            _("Weekday and hour"),
            [_("Weekday"), _("Hour"), _("Bookable hours"), _("Booked hours"), _("booked")],
            [[c.weekday, c.hour, c.bookable_hours, c.booked_hours, c.booked_share] for c in figures["cells"]],
        ),
        "groups": (
            _("Groups"),
            [
                _("Group"),
                _("Bookings"),
                _("Released (no check-in)"),
                _("Cancelled < 1 h before"),
                _("No-show rate"),
            ],
            [
                [
                    g.name or _("Smaller groups and no group"),
                    g.bookings,
                    g.released,
                    g.late_cancelled,
                    g.no_show_rate,
                ]
                for g in figures["groups"]
            ],
        ),
    }


def as_csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    # With a byte order mark, Excel opens the umlauts as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(found: dict[str, tuple[str, list[str], list[list]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in found.values():
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        shares = [
            i
            for i, name in enumerate(header, 1)
            if name in (_("booked"), _("used"), _("a year before"), _("No-show rate"))
        ]
        for column in shares:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
