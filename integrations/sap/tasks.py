"""Celery tasks: thin, idempotent."""

import logging

from celery import shared_task

from ..base import IntegrationError
from .conf import adapter_from_env
from .posting import post_pending

log = logging.getLogger(__name__)


@shared_task(name="integrations.sap.tasks.post_sap", acks_late=True, ignore_result=True)
def post_sap() -> int:
    """Post the pending export batches to the live SAP (beat, odata or rfc); returns how many."""
    try:
        sap = adapter_from_env()
    except IntegrationError as exc:
        # The batches stay pending (nothing is lost); the operator is told why on every run.
        log.error("SAP posting skipped: %s", exc)
        return 0
    return len(post_pending(sap)) if sap is not None else 0
