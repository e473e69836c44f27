"""The provider's daily summary: once a day per provider, the lines changed since the last one.

Lines are mailed singly only after their cut-off (orders/mail.py); before it a provider
learns of them here. The beat job looks every few minutes and writes, for each provider
whose site has reached RFR_ORDER_SUMMARY_TIME today, one ProviderSummary row; the row's
unique (provider, day) makes a second run, or two workers at once, write nothing more.
Its mail goes through the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings.outbox import enqueue

from . import mail
from .models import Provider, ProviderSummary


def summary_time() -> time:
    """RFR_ORDER_SUMMARY_TIME as a time of day (settings checked its form)."""
    hour, minute = (int(part) for part in settings.RFR_ORDER_SUMMARY_TIME.split(":"))
    return time(hour, minute)


def send_due_summaries(*, now: datetime | None = None) -> list[ProviderSummary]:
    """Write today's summary of every provider whose site has reached the summary time; returns the new ones.

    A summary lists the lines changed between the previous summary's time and this one's;
    with nothing to list it is recorded without a mail. Raises nothing of its own.
    """
    now = now or timezone.now()
    at = summary_time()
    written = []
    for provider in Provider.objects.exclude(email="").select_related("site").order_by("pk"):
        tz = provider.site.tz
        local_day = now.astimezone(tz).date()
        until = datetime.combine(local_day, at, tzinfo=tz)
        if now < until:
            continue
        with transaction.atomic():
            last = ProviderSummary.objects.filter(provider=provider).order_by("-day").first()
            since = last.until if last else until - timedelta(days=1)
            summary, created = ProviderSummary.objects.get_or_create(
                provider=provider, day=local_day, defaults={"since": since, "until": until}
            )
            if not created:
                continue
            written.append(summary)
            if mail.summary_lines(summary):
                enqueue(topic=mail.SUMMARY, payload={"summary": summary.pk, "provider": provider.pk})
    return written
