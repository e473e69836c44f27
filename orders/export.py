"""The SAP export: a numbered batch of CO activity allocations (and FI lines) as CSV and XLSX.

The CO file has the shape of BAPI_ACC_ACTIVITY_ALLOC_POST: per document a controlling
area, document and posting date and header text, and per line the sender cost centre,
activity type, quantity, unit, price, receiver cost centre or order and a line text.
docs/sap-export.md describes every column. Each charge is exported exactly once: the
export holds a database lock, so two exports started together take turns and the
second finds nothing new. With RFR_SAP_TARGET=odata or rfc the CO lines are not written but
left pending for the live adapter (integrations/sap/posting.py).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from openpyxl import Workbook

from .models import ExportBatch, Posting
from .money import text
from .postings import post_due, post_rooms

# pg_advisory_xact_lock(EXPORT_LOCK): one export at a time, until its commit.
EXPORT_LOCK = 7316

CO_COLUMNS = [
    "batch",
    "document",
    "controlling_area",
    "document_date",
    "posting_date",
    "header_text",
    "line",
    "sender_cost_centre",
    "activity_type",
    "quantity",
    "unit",
    "price",
    "amount",
    "currency",
    "receiver_cost_centre",
    "receiver_order",
    "line_text",
    "reference",
    "reverses",
]
FI_COLUMNS = [
    "batch",
    "document",
    "company_code",
    "document_date",
    "posting_date",
    "header_text",
    "line",
    "cost_element",
    "sender_cost_centre",
    "receiver_cost_centre",
    "quantity",
    "price",
    "amount",
    "currency",
    "line_text",
    "reference",
    "reverses",
]
# SAP units of measure for the catalogue's units.
UNITS = {"person": "PERS", "piece": "ST", "flat": "PAU", "h": "H", "halfday": "HTG", "day": "TAG"}


@dataclass
class Result:
    batch: ExportBatch | None
    paths: list[Path]
    lines: int
    total: Decimal


def rows(postings: list[Posting], *, kind: str, number: int, today) -> list[dict]:
    """The lines of one file, one document per posting date, numbered from 1."""
    selected = sorted((p for p in postings if p.kind == kind), key=lambda p: (p.posting_date, p.pk))
    dates = sorted({p.posting_date for p in selected})
    out = []
    for line, posting in enumerate(selected, start=1):
        out.append(
            {
                "batch": number,
                "document": dates.index(posting.posting_date) + 1,
                "controlling_area": settings.RFR_SAP_CONTROLLING_AREA,
                "company_code": settings.RFR_SAP_COMPANY_CODE,
                "document_date": today.isoformat(),
                "posting_date": posting.posting_date.isoformat(),
                "header_text": f"raum]für[raum {number:06d}",
                "line": line,
                "sender_cost_centre": posting.sender_cost_centre,
                "activity_type": posting.activity_type,
                "cost_element": posting.cost_element,
                "quantity": f"{posting.quantity:.3f}",
                "unit": UNITS.get(posting.unit, posting.unit),
                "price": text(posting.price),
                "amount": text(posting.amount),
                "currency": posting.currency,
                "receiver_cost_centre": posting.receiver_cost_centre,
                "receiver_order": "",
                "line_text": posting.text,
                "reference": f"RFR{posting.pk}",
                "reverses": f"RFR{posting.reverses_id}" if posting.reverses_id else "",
            }
        )
    return out


def csv_bytes(lines: list[dict], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(lines)
    # UTF-8 with a byte order mark: Excel and SAP's upload both read the umlauts right.
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(lines: list[dict], columns: list[str], *, title: str = "") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title or ("CO" if "controlling_area" in columns else "FI")
    sheet.append(columns)
    numeric = {"quantity", "price", "amount"}
    for line in lines:
        sheet.append([Decimal(line[c]) if c in numeric else line[c] for c in columns])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if columns[cell.column - 1] in numeric:
                cell.number_format = "0.000" if columns[cell.column - 1] == "quantity" else "0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_atomically(folder: Path, name: str, content: bytes) -> Path:
    """Write to a temporary file in the folder, then rename: a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        target = folder / name
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def files_of(postings: list[Posting], *, number: int, today, live: bool = False) -> dict[str, bytes]:
    """The batch's files; with a live target the CO lines go to SAP instead (integrations/sap)."""
    files = {}
    kinds = (("FI", FI_COLUMNS),) if live else (("CO", CO_COLUMNS), ("FI", FI_COLUMNS))
    for kind, columns in kinds:
        lines = rows(postings, kind=kind, number=number, today=today)
        if lines:
            stem = f"rfr-{kind.lower()}-{number:06d}"
            files[f"{stem}.csv"] = csv_bytes(lines, columns)
            files[f"{stem}.xlsx"] = xlsx_bytes(lines, columns)
    return files


def export_batch(*, dry_run: bool = False, now: datetime | None = None) -> Result:
    """Write the next batch, or nothing when nothing is new; raises OSError (then nothing is written)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Two exports at once: the second waits here and then finds the charges posted.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPORT_LOCK])
        number = (ExportBatch.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        batch = ExportBatch.objects.create(number=number, created_at=now)
        postings = post_due(batch=batch, now=now, today=today) + post_rooms(batch=batch, now=now)
        total = sum((p.amount for p in postings), Decimal("0.00"))
        if dry_run:
            transaction.set_rollback(True)
            return Result(batch=None, paths=[], lines=len(postings), total=total)
        if not postings:
            # Never seen outside this transaction; the orders it looked at stay marked as settled.
            batch.delete()
            return Result(batch=None, paths=[], lines=0, total=total)
        live = settings.RFR_SAP_TARGET in ("odata", "rfc") and any(p.kind == "CO" for p in postings)
        files = files_of(postings, number=number, today=today, live=live)
        paths = [
            write_atomically(Path(settings.RFR_SAP_EXPORT_DIR), name, content)
            for name, content in files.items()
        ]
        if settings.RFR_SAP_EXPORT_COPY_DIR:
            for name, content in files.items():
                write_atomically(Path(settings.RFR_SAP_EXPORT_COPY_DIR), name, content)
        batch.files = list(files)
        batch.lines = len(postings)
        batch.total = total
        # Committed before SAP hears of it: integrations/sap posts pending batches once each.
        batch.live = ExportBatch.Live.PENDING if live else ExportBatch.Live.FILE
        batch.save(update_fields=["files", "lines", "total", "live"])
    return Result(batch=batch, paths=paths, lines=len(postings), total=total)
