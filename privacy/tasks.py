"""Celery tasks of privacy: thin, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .retention import apply_retention


@shared_task(ignore_result=True)
def apply_retention_task() -> dict:
    """Apply every retention rule (beat, hourly); returns what each did."""
    return apply_retention(now=timezone.now()).done
