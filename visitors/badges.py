"""Visitor badges as PDF: name, company, host, date, and a QR code that carries only the
badge's random id (nothing a finder of a lost badge could read a person from).

One A6 landscape page per visitor, so a badge printer or a sheet of labels takes them
as they come. fpdf2's built-in Helvetica is used (no font file to ship); it covers
Latin-1, which holds German, and other letters are spelled without their accents.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable

import segno
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from bookings.notifications.compose import name_of

from .models import Visitor


def latin1(text: str) -> str:
    """Text Helvetica can set: Latin-1 kept, other letters without accents, the rest as '?'."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(base or {"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "đ": "d"}.get(char, "?"))
    return "".join(out)


def qr_png(badge_id: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make_qr(badge_id, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def badges_pdf(visitors: Iterable[Visitor], *, language: str = "de") -> bytes:
    """One page per visitor; an empty list gives one page saying so."""
    pdf = FPDF(orientation="L", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(False)
    pdf.set_title("Badges")
    with translation.override(language):
        count = 0
        for visitor in visitors:
            count += 1
            visit = visitor.visit
            start = visit.start.astimezone(visit.building.site.tz)
            pdf.add_page()
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(0, 8, latin1(_("VISITOR")), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "B", 20)
            pdf.multi_cell(85, 9, latin1(visitor.name), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 13)
            if visitor.company:
                pdf.multi_cell(85, 7, latin1(visitor.company), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
            pdf.set_font("Helvetica", "", 10)
            host = _("Host: %(host)s") % {"host": name_of(visit.host)}
            pdf.cell(85, 6, latin1(host), new_x="LMARGIN", new_y="NEXT")
            pdf.cell(85, 6, latin1(formats.date_format(start, "DATE_FORMAT")), new_x="LMARGIN", new_y="NEXT")
            pdf.cell(85, 6, latin1(visit.building.name), new_x="LMARGIN", new_y="NEXT")
            pdf.image(qr_png(visitor.badge_id), x=105, y=30, w=35, h=35)
        if not count:
            pdf.add_page()
            pdf.set_font("Helvetica", "", 12)
            pdf.cell(0, 10, latin1(_("No visitors today.")))
    return bytes(pdf.output())
