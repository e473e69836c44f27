"""Time freed in a room: ask a worker to promote its waiting list (services.waiting)."""

from __future__ import annotations

import logging

from celery import current_app  # type: ignore[import-untyped]
from django.db import transaction

from ..models import WaitingEntry

log = logging.getLogger("rfr.waiting")

# The Celery task that promotes a room's waiting list (bookings.tasks.promote_waiting_list).
PROMOTE_TASK = "bookings.tasks.promote_waiting_list"


def slot_freed(room_id: int) -> None:
    """After commit, ask a worker to promote the room's line, if anyone waits at all.

    Called for every change that can free time (cancel, release, rejection, a move or a
    shorter booking); the beat job catches whatever a lost kick missed.
    """
    if WaitingEntry.objects.filter(status=WaitingEntry.Status.WAITING).exists():
        transaction.on_commit(lambda: kick(room_id))


def kick(room_id: int) -> None:
    try:
        # By name: the tasks module imports the services, which call this.
        current_app.send_task(PROMOTE_TASK, args=[room_id], retry=False)
    except Exception as exc:  # noqa: BLE001 - a lost kick only waits for the beat job
        log.warning("waiting-list kick failed (%s); the beat job promotes room %s", exc, room_id)
