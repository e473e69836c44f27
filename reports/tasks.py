"""Celery tasks of the reports: keep the daily roll-up (reports/daily.py) up to date."""

from __future__ import annotations

from celery import shared_task

from . import daily

# Days the nightly run stores again: yesterday, and the days a stopped worker missed.
RECENT_DAYS = 7


@shared_task(ignore_result=True)
def refresh_changed_task() -> int:
    """Rewrite the stored days whose bookings or blockings changed (beat, every 5 minutes)."""
    return daily.refresh_changed()


@shared_task(ignore_result=True)
def roll_up_recent_task() -> int:
    """Store the last week's finished days of every room (beat, hourly; idempotent)."""
    return daily.roll_up_recent(days=RECENT_DAYS)
