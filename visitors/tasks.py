"""Celery tasks of the visitors: thin, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .retention import erase_visitor_data


@shared_task(ignore_result=True)
def erase_visitor_data_task() -> int:
    """Apply the visitors' retention period (beat, hourly); returns how many were erased."""
    return erase_visitor_data(now=timezone.now()).visitors
