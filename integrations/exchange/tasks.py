"""Scheduled Exchange sync (Celery beat: RFR_EXCHANGE_SYNC_SECONDS, full reconcile daily)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from bookings.models import Room

from .adapter import calendar
from .models import RoomSync
from .notify import keep_subscriptions, on_lifecycle
from .sync import sync_room

log = logging.getLogger("rfr.exchange")


def rooms(room_id: int | None = None):
    found = Room.objects.exclude(exchange_mailbox="").order_by("pk")
    return found.filter(pk=room_id) if room_id is not None else found


def _due_for_full(room: Room) -> bool:
    state = RoomSync.objects.filter(room=room).first()
    hours = settings.RFR_EXCHANGE.reconcile_hours
    return (
        state is None
        or state.last_full_at is None
        or (timezone.now() - state.last_full_at).total_seconds() > hours * 3600
    )


@shared_task(acks_late=True, ignore_result=True)
def sync_exchange_task(room_id: int | None = None, full: bool = False) -> dict | None:
    """One cycle over every room; a room due for its reconcile gets a full one."""
    cal = calendar()
    if cal is None:
        return None
    failed = 0
    if room_id is None and settings.RFR_EXCHANGE.backend == "graph":
        keep_subscriptions(cal, rooms())
    for room in rooms(room_id):
        report = sync_room(cal, room, full=full or _due_for_full(room))
        if report.error:
            failed += 1
            log.warning("exchange sync of %s failed: %s", room, report.error)
    return {"failed": failed}


@shared_task(acks_late=True, ignore_result=True)
def graph_lifecycle_task(room_id: int, event: str) -> str | None:
    """A Graph lifecycle notification for the room (notify.on_lifecycle)."""
    cal = calendar()
    room = rooms(room_id).first()
    if cal is None or room is None:
        return None
    done = on_lifecycle(cal, room, event)
    log.info("exchange: lifecycle %s for %s: %s", event, room, done)
    return done
