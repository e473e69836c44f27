"""Cost centres from a CSV master list, and SAP document numbers read back from a return file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from .models import CostCentre, Posting


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _rows(content: str) -> list[dict]:
    # Excel in Germany writes ';', other tools ','; the header row tells which.
    delimiter = ";" if content.splitlines()[0].count(";") > content.splitlines()[0].count(",") else ","
    return list(csv.DictReader(io.StringIO(content), delimiter=delimiter))


def _day(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    if "." in value:  # 31.12.2027, as SAP lists it
        d, m, y = value.split(".")
        return date(int(y), int(m), int(d))
    return date.fromisoformat(value)


@transaction.atomic
def import_cost_centres(content: str) -> ImportResult:
    """Create or update cost centres from CSV (code, name, valid_from, valid_to); all or nothing.

    Raises ValueError naming every bad line; then nothing is written.
    """
    result = ImportResult()
    rows = _rows(content.lstrip("\ufeff")) if content.strip() else []
    for number, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        try:
            if not code or len(code) > 10:
                raise ValueError("code must have 1 to 10 characters")
            valid = {"valid_from": _day(row.get("valid_from")), "valid_to": _day(row.get("valid_to"))}
        except ValueError as exc:
            result.errors.append(f"line {number}: {exc}")
            continue
        _, created = CostCentre.objects.update_or_create(
            code=code, defaults={"name": (row.get("name") or "").strip()[:100], **valid}
        )
        if created:
            result.created += 1
        else:
            result.updated += 1
    if result.errors:
        raise ValueError("; ".join(result.errors))
    return result


@transaction.atomic
def read_return_file(content: str) -> int:
    """Store SAP's document numbers on the postings (columns reference, sap_document); returns how many."""
    stored = 0
    for row in _rows(content.lstrip("\ufeff")) if content.strip() else []:
        reference = (row.get("reference") or "").strip()
        document = (row.get("sap_document") or "").strip()[:20]
        if reference.startswith("RFR") and reference[3:].isdigit() and document:
            stored += Posting.objects.filter(pk=int(reference[3:])).update(sap_document=document)
    return stored
