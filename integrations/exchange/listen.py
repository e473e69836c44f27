"""EWS streaming notifications: a change in a room's calendar queues its sync at once.

Polling (the beat's SyncFolderItems cycle) stays what the sync relies on; a listener only
makes an Outlook meeting arrive within a second or two instead of at the next cycle. Each
room has a streaming subscription on its calendar and one open GetStreamingEvents
connection, made anew when Exchange closes it at its timeout. When Exchange drops the
subscription (a restart, a mailbox move, an expired subscription) or is away, the listener
waits ``retry`` seconds, while the beat goes on polling, and subscribes again.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from ..base import IntegrationError
from .adapter import calendar
from .tasks import rooms, sync_exchange_task

log = logging.getLogger("rfr.exchange")
RETRY_SECONDS = 30.0


def listen(room_id: int, *, stop: threading.Event, minutes: int = 30, retry: float = RETRY_SECONDS) -> None:
    """Keep the room's stream open until ``stop`` is set; each batch of changes queues its sync."""
    try:
        while not stop.is_set():
            cal = calendar()
            room = rooms(room_id).first()
            if cal is None or room is None or not hasattr(cal, "stream"):
                return  # the sync is off, the room has no mailbox, or the back end is Graph
            try:
                batches = cal.stream(
                    room.exchange_mailbox,
                    minutes=minutes,
                    on_change=lambda: sync_exchange_task.delay(room_id),
                )
                log.info("exchange: stream of %s closed after %s batches; reopening", room, batches)
            except IntegrationError as exc:
                log.warning("exchange: stream of %s lost (%s); polling until it is back", room, exc)
                stop.wait(retry)
    finally:
        connection.close()


def start(room_ids: list[int], *, stop: threading.Event, minutes: int = 30, retry: float = RETRY_SECONDS):
    """A listener thread per room (daemon threads; ``stop`` ends them); the threads."""
    cal = calendar()
    if cal is not None and hasattr(cal, "reserve_streams"):
        cal.reserve_streams(len(room_ids))
    threads = [
        threading.Thread(
            target=listen,
            args=(room_id,),
            kwargs={"stop": stop, "minutes": minutes, "retry": retry},
            name=f"listen-{room_id}",
            daemon=True,
        )
        for room_id in room_ids
    ]
    for thread in threads:
        thread.start()
    return threads
