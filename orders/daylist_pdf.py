"""The provider's day list as PDF, to print for the kitchen: today's and tomorrow's lines by delivery
time with room, floor, building, quantity, note, booker and status.

A4 portrait, a table per day. The font is chosen as for visitor badges (``visitors.badges``:
``RFR_BADGE_FONT``, else DejaVu Sans, else Helvetica with Latin-1 only).
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from bookings.notifications.compose import name_of
from bookings.templatetags.rfr import hm, longdate
from visitors.badges import font_files, latin1

from .models import Order, Provider

# Column widths in mm (A4 portrait leaves 190 mm between the margins).
WIDTHS = (14, 38, 12, 46, 36, 26, 18)


class _DayList(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(True, margin=12)
        self.set_title(title)
        files = font_files()
        if files:
            self.add_font("DayList", "", str(files[0]))
            self.add_font("DayList", "B", str(files[1]))
        self.text_family, self.fit = ("DayList", str) if files else ("Helvetica", latin1)

    def font(self, style: str, size: int) -> None:
        self.set_font(self.text_family, style, size)


def _where(line: Order) -> str:
    room = line.booking.room
    return f"{room.name}, {room.floor.name}, {room.floor.building.name}"


def day_list_pdf(provider: Provider, days: list[tuple[object, list[Order]]], *, now: datetime) -> bytes:
    """The day list (from ``selectors.day_list``) in the active language."""
    tz = provider.site.tz
    title = _("%(provider)s: orders") % {"provider": provider.name}
    pdf = _DayList(title)
    t = pdf.fit
    pdf.add_page()
    pdf.font("B", 16)
    pdf.cell(0, 9, t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.font("", 9)
    printed = _("Printed %(date)s at %(time)s") % {"date": longdate(now.astimezone(tz)), "time": hm(now, tz)}
    pdf.cell(0, 6, t(printed), new_x="LMARGIN", new_y="NEXT")
    heads = (_("Time"), _("Service"), _("Quantity"), _("Room"), _("Note"), _("Booked by"), _("Status"))
    for day, lines in days:
        pdf.ln(4)
        pdf.font("B", 12)
        pdf.cell(0, 8, t(longdate(day)), new_x="LMARGIN", new_y="NEXT")
        pdf.font("", 9)
        if not lines:
            pdf.cell(0, 6, t(_("No orders.")), new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(
            col_widths=WIDTHS, width=sum(WIDTHS), headings_style=FontFace(emphasis="BOLD")
        ) as table:
            table.row([t(h) for h in heads])
            for line in lines:
                table.row(
                    [
                        hm(line.deliver_at, tz),
                        t(line.item.display_name()),
                        str(line.quantity),
                        t(_where(line)),
                        t(line.note),
                        t(name_of(line.booking.organizer)),
                        t(line.get_status_display()),
                    ]
                )
    return bytes(pdf.output())
