"""The outbox: changes announced to the world, delivered at least once, idempotently.

A service writes OutboxMessage rows in the transaction of the change; after commit a
Celery task is kicked, and a periodic sweep catches whatever the kick missed (Redis
down, worker restarted). Each channel's sink gets the message id, so a sink that is
called twice for one message can tell.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from raumfuerraum import logs

from .models import OutboxMessage

log = logging.getLogger("rfr.outbox")

MAX_BACKOFF = timedelta(hours=1)

# The Celery task that delivers given messages (bookings.tasks.deliver_outbox).
DELIVER_TASK = "bookings.tasks.deliver_outbox"


class DeliveryError(Exception):
    """A sink could not deliver; ``permanent`` means a retry cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def log_sink(message: OutboxMessage) -> None:
    """Delivers to the log; real sinks (displays, Exchange, mail) come with their apps."""
    log.info("outbox %s #%s %s", message.topic, message.pk, message.payload)


def enqueue(*, topic: str, payload: dict) -> list[OutboxMessage]:
    """Write one message per channel that takes the topic; must run inside the change's transaction."""
    now = timezone.now()
    if (request := logs.request_id.get()) is not None:
        # The request that caused it, so a worker's log line can be tied to it.
        payload = {**payload, "request_id": request}
    messages = OutboxMessage.objects.bulk_create(
        OutboxMessage(channel=channel, topic=topic, payload=payload, available_at=now)
        for channel in settings.RFR_OUTBOX_CHANNELS
        if takes(channel, topic)
    )
    ids = [m.pk for m in messages]
    transaction.on_commit(lambda: kick(ids))
    return messages


def takes(channel: str, topic: str) -> bool:
    """Whether a channel takes a topic: RFR_OUTBOX_TOPICS lists prefixes; unlisted take all.

    A message row per channel and topic is a worker's round trip each: a channel that
    ignores most topics (provider mail) would otherwise slow every other channel down.
    """
    prefixes = settings.RFR_OUTBOX_TOPICS.get(channel)
    return prefixes is None or topic.startswith(tuple(prefixes))


def kick(ids: list[int]) -> None:
    """Ask a worker to deliver now; if the broker is away the sweep does it later."""
    try:
        # By name: the tasks module imports the services, which enqueue here.
        current_app.send_task(DELIVER_TASK, args=[ids], retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure only delays delivery
        log.warning("outbox kick failed (%s); the sweep will deliver %s", exc, ids)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver(message_id: int) -> bool:
    """Deliver one message if it is due and nobody else holds it; True if delivered."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                pk=message_id,
                delivered_at__isnull=True,
                given_up_at__isnull=True,
                # A redelivered kick must not cut a retry's backoff short.
                available_at__lte=timezone.now(),
            )
            .first()
        )
        if message is None:
            return False
        sink_path = settings.RFR_OUTBOX_CHANNELS.get(message.channel)
        now = timezone.now()
        message.attempts += 1
        with logs.bound(message.payload.get("request_id")):
            return _deliver(message, sink_path, now)


def _deliver(message: OutboxMessage, sink_path: str | None, now) -> bool:
    """Call the channel's sink; record the delivery, a retry or giving up."""
    try:
        if sink_path is None:
            raise DeliveryError(f"no sink configured for channel {message.channel!r}", permanent=True)
        # A savepoint, so a sink's failed query cannot take this message's record with it.
        with transaction.atomic():
            import_string(sink_path)(message)
    except Exception as exc:  # noqa: BLE001 - see below
        # An unforeseen error counts as temporary: one broken sink must neither stall
        # the sweep behind its message nor fail without a trace.
        error = exc if isinstance(exc, DeliveryError) else DeliveryError(f"{type(exc).__name__}: {exc}")
        message.last_error = str(error)[:2000]
        if error.permanent:
            message.given_up_at = now
            log.error("outbox #%s given up: %s", message.pk, error)
        else:
            message.available_at = now + backoff(message.attempts)
            log.warning("outbox #%s retry at %s: %s", message.pk, message.available_at, error)
        message.save(update_fields=["attempts", "last_error", "given_up_at", "available_at"])
        return False
    message.delivered_at = now
    message.last_error = ""
    message.save(update_fields=["attempts", "delivered_at", "last_error"])
    return True


def due_ids(limit: int = 500) -> list[int]:
    return list(
        OutboxMessage.objects.filter(
            delivered_at__isnull=True, given_up_at__isnull=True, available_at__lte=timezone.now()
        )
        .order_by("available_at")
        .values_list("pk", flat=True)[:limit]
    )
