"""Celery tasks: thin, idempotent."""

from celery import shared_task

from .conf import adapter_from_env
from .posting import post_pending


@shared_task(name="integrations.sap.tasks.post_sap", acks_late=True, ignore_result=True)
def post_sap() -> int:
    """Post the pending export batches to the live SAP (beat, with RFR_SAP_TARGET=odata); returns how many."""
    sap = adapter_from_env()
    return len(post_pending(sap)) if sap is not None else 0
