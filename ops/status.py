"""The running system's health in figures, read from PostgreSQL and Redis when asked.

Gunicorn runs several workers and Celery others, so no process holds the whole
picture: every figure is computed at the moment it is asked for, from the database and
Redis, and any worker answers the same. A handful of queries, each on an index (the
outbox's partial indexes, the active-span index of bookings), whatever the tables hold.
/metrics (ops/metrics.py) and the admins' status page (ops/views.py) show these figures.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Count, Min, Q
from django.utils import timezone

from bookings.models import Booking, OutboxMessage
from displays import lookup
from displays.models import Display
from integrations.directory.models import SyncState
from raumfuerraum import read_only, redis_store


@dataclass
class Channel:
    name: str
    pending: int = 0
    # Undelivered messages that failed at least once and wait for their next attempt.
    retrying: int = 0
    oldest_pending_at: datetime | None = None
    given_up: int = 0

    def oldest_age(self, now: datetime) -> float:
        return max((now - self.oldest_pending_at).total_seconds(), 0.0) if self.oldest_pending_at else 0.0


@dataclass
class Figures:
    now: datetime
    version: str
    database_up: bool = False
    redis_up: bool = False
    read_only: bool = False
    channels: dict[str, Channel] = field(default_factory=dict)
    directory_configured: bool = False
    directory_last_success_at: datetime | None = None
    directory_last_result: dict = field(default_factory=dict)
    displays_online: int = 0
    displays_offline: int = 0
    displays_revoked: int = 0
    approvals_pending: int = 0
    # Requests whose decision deadline has passed: beat's expire_approvals should have
    # expired them within a minute, so a number here says beat is not running.
    approvals_overdue: int = 0
    upcoming_by_status: dict[str, int] = field(default_factory=dict)

    def directory_age(self) -> float | None:
        if self.directory_last_success_at is None:
            return None
        return max((self.now - self.directory_last_success_at).total_seconds(), 0.0)


def collect(now: datetime | None = None) -> Figures:
    """Every figure; a database or Redis that does not answer is reported, not raised."""
    now = now or timezone.now()
    figures = Figures(now=now, version=settings.VERSION)
    figures.redis_up = _redis_answers()
    figures.read_only = read_only.active()
    try:
        _from_database(figures, now)
        figures.database_up = True
    except DatabaseError:
        # The next query connects afresh (to a promoted standby, say); the figures so far
        # are dropped rather than shown half.
        with contextlib.suppress(DatabaseError):
            connection.close()
        figures = Figures(now=now, version=settings.VERSION, redis_up=figures.redis_up)
        figures.read_only = read_only.active()
    return figures


def _redis_answers() -> bool:
    return bool(redis_store.run(lambda r: r.ping(), default=False))


def _from_database(figures: Figures, now: datetime) -> None:
    for name in settings.RFR_OUTBOX_CHANNELS:
        figures.channels[name] = Channel(name)
    undelivered = Q(delivered_at__isnull=True, given_up_at__isnull=True)
    # The partial index outbox_due holds exactly the undelivered messages.
    for row in (
        OutboxMessage.objects.filter(undelivered)
        .values("channel")
        .annotate(
            pending=Count("pk"), retrying=Count("pk", filter=Q(attempts__gt=0)), oldest=Min("created_at")
        )
        .order_by()
    ):
        channel = figures.channels.setdefault(row["channel"], Channel(row["channel"]))
        channel.pending, channel.retrying, channel.oldest_pending_at = (
            row["pending"],
            row["retrying"],
            row["oldest"],
        )
    for row in (
        OutboxMessage.objects.filter(given_up_at__isnull=False)
        .values("channel")
        .annotate(given_up=Count("pk"))
        .order_by()
    ):
        figures.channels.setdefault(row["channel"], Channel(row["channel"])).given_up = row["given_up"]

    figures.directory_configured = getattr(settings, "RFR_LDAP", None) is not None
    # SyncState is written only when a sync run finished (integrations/directory/sync.py).
    state = SyncState.objects.filter(name="default").first()
    if state is not None:
        figures.directory_last_success_at = state.last_run_at
        figures.directory_last_result = state.last_result or {}

    _displays(figures, now)

    # Only active bookings (on the active-span index); cancelled and released ones would
    # cost a scan of the whole table at every scrape.
    active = Booking.objects.filter(status__in=Booking.ACTIVE, span__overlap=DateTimeTZRange(now, None, "[)"))
    counts = active.aggregate(
        pending=Count("pk", filter=Q(status=Booking.Status.PENDING)),
        confirmed=Count("pk", filter=Q(status=Booking.Status.CONFIRMED)),
        overdue=Count("pk", filter=Q(status=Booking.Status.PENDING, decision_due_at__lte=now)),
    )
    figures.upcoming_by_status = {"pending": counts["pending"], "confirmed": counts["confirmed"]}
    figures.approvals_pending = counts["pending"]
    figures.approvals_overdue = counts["overdue"]


def _displays(figures: Figures, now: datetime) -> None:
    """Online: polled within RFR_DISPLAY_OFFLINE_MINUTES, by PostgreSQL or by the polls
    Redis holds and has not yet written (displays/lookup.py writes them once a minute)."""
    cutoff = now - timedelta(minutes=settings.RFR_DISPLAY_OFFLINE_MINUTES)
    recent = [pk for pk, (seen_at, *_rest) in lookup.pending_seen().items() if seen_at >= cutoff]
    counts = Display.objects.aggregate(
        revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
        online=Count(
            "pk", filter=Q(revoked_at__isnull=True) & (Q(last_seen_at__gte=cutoff) | Q(pk__in=recent))
        ),
        live=Count("pk", filter=Q(revoked_at__isnull=True)),
    )
    figures.displays_revoked = counts["revoked"]
    figures.displays_online = counts["online"]
    figures.displays_offline = counts["live"] - counts["online"]
