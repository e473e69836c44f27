"""Live posting: the CO lines of pending export batches go to SAP through the Sap Protocol.

The export (orders/export.py) commits a batch as "pending" before SAP hears of it, so the
charges in it are fixed and exported once whatever happens here. Each batch becomes one
CO document per posting date, with the header text the file would carry plus the date.
Exactly once towards SAP: a worker locks the batch row (others skip it), asks SAP whether
a document with that header text exists already (posted before a crash, say) and only
then posts; SAP's numbers are stored on the postings. A refusal SAP will repeat (an unknown
cost centre, a closed period) marks the batch refused with SAP's answer for controlling.
"""

from __future__ import annotations

from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.export import UNITS
from orders.models import ExportBatch, Posting

from ..base import AllocationLine, IntegrationError, Sap


def header_text(batch: ExportBatch, posting_date) -> str:
    return f"raum]für[raum {batch.number:06d} {posting_date:%Y-%m-%d}"


def allocation_line(posting: Posting) -> AllocationLine:
    return AllocationLine(
        sender_cost_centre=posting.sender_cost_centre,
        activity_type=posting.activity_type,
        # A reversal posts the negated quantity, as its line in the file does.
        quantity=posting.quantity,
        unit=UNITS.get(posting.unit, posting.unit),
        receiver_cost_centre=posting.receiver_cost_centre,
        text=posting.text,
        reference=f"RFR{posting.pk}",
    )


def post_batch(sap: Sap, batch: ExportBatch, *, controlling_area: str, today) -> None:
    """Post the batch's CO lines not yet posted, one document per posting date; raises IntegrationError."""
    pending = batch.postings.filter(kind="CO", sap_document="").order_by("posting_date", "pk")
    for posting_date, group in groupby(pending, key=lambda p: p.posting_date):
        postings = list(group)
        header = header_text(batch, posting_date)
        number = sap.find_allocation(controlling_area=controlling_area, header_text=header)
        if number is None:
            number = sap.post_allocation(
                controlling_area=controlling_area,
                document_date=today,
                posting_date=posting_date,
                header_text=header,
                lines=[allocation_line(p) for p in postings],
            )
        # Stored at once: a later failure in this batch does not post this date again.
        Posting.objects.filter(pk__in=[p.pk for p in postings]).update(sap_document=number)


def post_pending(sap: Sap) -> list[ExportBatch]:
    """Post every pending batch, oldest first, each in its own transaction; returns those handled.

    A temporary failure leaves the batch pending for the next run (its error kept); a
    permanent one marks it refused. Raises nothing of its own.
    """
    handled = []
    area = settings.RFR_SAP_CONTROLLING_AREA
    ids = (
        ExportBatch.objects.filter(live=ExportBatch.Live.PENDING)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    for pk in list(ids):
        with transaction.atomic():
            # Locked while SAP is asked: a second worker skips it instead of posting it again.
            batch = (
                ExportBatch.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, live=ExportBatch.Live.PENDING)
                .first()
            )
            if batch is None:
                continue
            try:
                post_batch(sap, batch, controlling_area=area, today=timezone.localdate())
            except IntegrationError as exc:
                batch.live_error = str(exc)[:500]
                if exc.permanent:
                    batch.live = ExportBatch.Live.REFUSED
            else:
                batch.live, batch.live_error = ExportBatch.Live.POSTED, ""
            batch.save(update_fields=["live", "live_error"])
            handled.append(batch)
    return handled
