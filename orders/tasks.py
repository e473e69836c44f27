"""Celery tasks: thin, idempotent."""

from celery import shared_task

from .export import export_batch
from .summaries import send_due_summaries


@shared_task(name="orders.tasks.export_sap", acks_late=True, ignore_result=True)
def export_sap() -> int:
    """Write the next SAP export batch (beat: RFR_SAP_EXPORT_MINUTES); returns its number, 0 if none."""
    result = export_batch()
    return result.batch.number if result.batch else 0


@shared_task(name="orders.tasks.send_summaries", acks_late=True, ignore_result=True)
def send_summaries() -> int:
    """Write the providers' daily summaries that are due (beat: every 5 minutes); returns how many."""
    return len(send_due_summaries())
