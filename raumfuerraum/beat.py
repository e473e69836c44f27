"""Celery beat on every app server, each periodic job still once per tick.

Every app server may run its own beat (deploy/systemd/raumfuerraum-beat.service): there is
no leader to elect and nothing to fail over. Before a beat sends a job it claims the job's
tick in Redis with ``SET NX``; the tick is the wall-clock interval the moment falls in
(``floor(now / every)``, the same on every server whose clock NTP keeps right), so two beats
a few seconds apart claim the same tick and only the first one sends. A beat that dies
leaves nothing behind; the others keep claiming the ticks it would have had.

Without Redis nothing can be sent anyway (it is the broker): the beat then sends as it
would alone, and Celery logs the failed send.
"""

from __future__ import annotations

import logging
import math
import time

from celery.beat import PersistentScheduler, ScheduleEntry
from celery.schedules import schedule as interval_schedule

from . import redis_store

log = logging.getLogger("rfr.beat")

PREFIX = "rfr:beat:"
# Crontab-like schedules have no fixed interval: their runs are claimed per minute.
DEFAULT_TICK_SECONDS = 60.0


def tick_seconds(entry: ScheduleEntry) -> float:
    """The length of one tick of ``entry``: its interval, else a minute."""
    if type(entry.schedule) is interval_schedule:
        return max(entry.schedule.run_every.total_seconds(), 1.0)
    return DEFAULT_TICK_SECONDS


def claim(name: str, every: float, now: float | None = None) -> bool:
    """Claim this tick of the job ``name`` for this beat; False when another beat has it."""
    now = time.time() if now is None else now
    tick = math.floor(now / every)
    key = f"{PREFIX}{name}:{tick}"
    # Kept two ticks, so a beat whose clock lags by up to a tick still finds the claim.
    claimed = redis_store.run(lambda r: bool(r.set(key, "1", nx=True, ex=max(int(3 * every), 10))))
    # None: Redis is unreachable, and so is the broker; send as a lone beat would.
    return claimed is not False


def claimed_ticks(name: str) -> list[int]:
    """The ticks of ``name`` claimed and still remembered (tests and diagnosis)."""
    keys = redis_store.run(lambda r: list(r.scan_iter(match=f"{PREFIX}{name}:*", count=1000))) or []
    return sorted(int(key.rsplit(b":", 1)[1]) for key in keys)


class OncePerTickScheduler(PersistentScheduler):
    """Beat's own scheduler, with each run claimed first (CELERY_BEAT_SCHEDULER)."""

    def apply_entry(self, entry: ScheduleEntry, producer=None) -> None:
        if claim(entry.name, tick_seconds(entry)):
            super().apply_entry(entry, producer=producer)
        else:
            log.info("Not sending %s: another beat sent it this tick", entry.name)
