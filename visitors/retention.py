"""Retention: visitors' personal data erased N days after their visit ended.

The Visitor row stays, emptied, so reports still count visits; the audit log records
each run as counts, never the names it erased. A run is idempotent and can be dry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from .models import VisitEvent, Visitor

PERSONAL = {"name": "", "company": "", "email": "", "phone": "", "licence_plate": "", "notes": ""}


@dataclass
class Erased:
    visitors: int
    visits: int


def due(*, now: datetime, days: int):
    """Visitors whose visit ended at least ``days`` days ago, not yet erased."""
    return Visitor.objects.filter(visit__end__lte=now - timedelta(days=days), anonymised_at__isnull=True)


@transaction.atomic
def erase_visitor_data(*, now: datetime, days: int | None = None, dry_run: bool = False) -> Erased:
    """Empty the personal fields of every visitor past the retention period; raises nothing."""
    days = settings.RFR_VISITOR_RETENTION_DAYS if days is None else days
    # Locked so a second run at the same moment (beat and a command) waits, then finds nothing.
    visitors = list(due(now=now, days=days).select_for_update(of=("self",)).order_by("pk"))
    visit_ids = sorted({v.visit_id for v in visitors})
    if dry_run or not visitors:
        return Erased(len(visitors), len(visit_ids))
    Visitor.objects.filter(pk__in=[v.pk for v in visitors]).update(**PERSONAL, anonymised_at=now)
    counts: dict[int, int] = {}
    for v in visitors:
        counts[v.visit_id] = counts.get(v.visit_id, 0) + 1
    VisitEvent.objects.bulk_create(
        VisitEvent(
            visit_id=visit_id,
            kind=VisitEvent.Kind.ANONYMISED,
            at=now,
            changes={"visitors": count, "retention_days": days},
        )
        for visit_id, count in counts.items()
    )
    return Erased(len(visitors), len(visit_ids))
