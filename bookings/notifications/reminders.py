"""Reminders: a mail RFR_REMINDER_MINUTES before a confirmed booking starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Booking
from ..outbox import enqueue
from ..services.audit import booking_payload

REMINDER_BATCH = 500


@transaction.atomic
def send_reminders(now: datetime | None = None) -> int:
    """Queue a ``booking.reminder`` for each booking now due one; returns how many; raises nothing.

    Each booking is reminded once (``reminded_at``). Bookings made inside the reminder
    window get none: their organizer has just booked them.
    """
    minutes = settings.RFR_REMINDER_MINUTES
    if minutes <= 0:
        return 0
    now = now or timezone.now()
    lead = timedelta(minutes=minutes)
    # Two beats running at once each take the rows the other has not locked; a row the
    # other has reminded meanwhile no longer matches when it is re-read for the lock.
    due = list(
        Booking.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(
            status=Booking.Status.CONFIRMED,
            reminded_at__isnull=True,
            span__startswith__gt=now,
            span__startswith__lte=now + lead,
            span__startswith__gte=F("created_at") + lead,
        )
        .order_by("span")[:REMINDER_BATCH]
    )
    if not due:
        return 0
    Booking.objects.filter(pk__in=[b.pk for b in due]).update(reminded_at=now)
    for booking in due:
        enqueue(topic="booking.reminder", payload=booking_payload(booking))
    return len(due)
