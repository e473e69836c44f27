"""Celery tasks of the displays: thin, idempotent, taking ids."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from bookings.outbox import DeliveryError

from . import lookup, push
from .models import Display


@shared_task(ignore_result=True)
def flush_last_seen() -> int:
    """Write the displays' last polls from Redis to PostgreSQL (beat, once a minute)."""
    return lookup.flush_seen()


@shared_task(bind=True, ignore_result=True, max_retries=6)
def push_display_status(self, display_id: int) -> None:
    """Push one display's status now (the admin's "push now"); retries with backoff."""
    display = (
        Display.objects.select_related("room__floor__building__site")
        .filter(pk=display_id, revoked_at__isnull=True)
        .exclude(push_url="")
        .first()
    )
    if display is None:
        return
    try:
        push.push(display, topic="display.push")
    except DeliveryError as exc:
        Display.objects.filter(pk=display_id).update(last_push_error=str(exc)[:2000])
        if exc.permanent:
            return
        raise self.retry(exc=exc, countdown=min(15 * 2**self.request.retries, 3600)) from None
    Display.objects.filter(pk=display_id).update(last_push_at=timezone.now(), last_push_error="")
