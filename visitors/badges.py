"""Visitor badges as PDF: name, company, host, date, and a QR code that carries only the
badge's random id (nothing a finder of a lost badge could read a person from).

One A6 landscape page per visitor, so a badge printer or a sheet of labels takes them
as they come. Names are set in a TrueType font so that "Yılmaz" or "Łukasiewicz" print
as written: ``RFR_BADGE_FONT`` if set, else DejaVu Sans from the operating system
(Debian/Ubuntu ``fonts-dejavu-core``, RHEL ``dejavu-sans-fonts``; a free licence). Only
where neither is there does the PDF's built-in Helvetica stand in, which holds Latin-1
(German included) and spells other letters without their accents.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import segno
from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from bookings.notifications.compose import name_of

from .models import Visitor

DEJAVU = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),  # RHEL, Fedora
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),  # older RHEL, SUSE
)


def font_files() -> tuple[Path, Path] | None:
    """(regular, bold) TrueType files, bold falling back to regular; None: use Helvetica."""
    configured = settings.RFR_BADGE_FONT
    candidates = [Path(configured)] if configured else [p for p in DEJAVU if p.is_file()]
    if not candidates:
        return None
    regular = candidates[0]
    bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
    return regular, bold if bold.is_file() else regular


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


class _Badge(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format=(105, 148))  # A6
        self.set_auto_page_break(False)
        self.set_title("Badges")
        files = font_files()
        if files:
            self.add_font("Badge", "", str(files[0]))
            self.add_font("Badge", "B", str(files[1]))
        self.badge_family, self.fit = ("Badge", str) if files else ("Helvetica", latin1)

    def font(self, style: str, size: int) -> None:
        self.set_font(self.badge_family, style, size)


def badges_pdf(visitors: Iterable[Visitor], *, language: str = "de") -> bytes:
    """One page per visitor; an empty list gives one page saying so."""
    pdf = _Badge()
    t = pdf.fit
    with translation.override(language):
        count = 0
        for visitor in visitors:
            count += 1
            visit = visitor.visit
            start = visit.start.astimezone(visit.building.site.tz)
            pdf.add_page()
            pdf.font("B", 10)
            pdf.cell(0, 8, t(_("VISITOR")), new_x="LMARGIN", new_y="NEXT")
            pdf.font("B", 20)
            pdf.multi_cell(85, 9, t(visitor.name), new_x="LMARGIN", new_y="NEXT")
            pdf.font("", 13)
            if visitor.company:
                pdf.multi_cell(85, 7, t(visitor.company), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
            pdf.font("", 10)
            host = _("Host: %(host)s") % {"host": name_of(visit.host)}
            pdf.cell(85, 6, t(host), new_x="LMARGIN", new_y="NEXT")
            pdf.cell(85, 6, t(formats.date_format(start, "DATE_FORMAT")), new_x="LMARGIN", new_y="NEXT")
            pdf.cell(85, 6, t(visit.building.name), new_x="LMARGIN", new_y="NEXT")
            pdf.image(qr_png(visitor.badge_id), x=105, y=30, w=35, h=35)
        if not count:
            pdf.add_page()
            pdf.font("", 12)
            pdf.cell(0, 10, t(_("No visitors today.")))
    return bytes(pdf.output())
