"""Outbox sinks: how the displays hear that a room's bookings changed.

``bump_room_version`` (channel ``displays``) raises the room's status version in Redis,
which turns the ETag of every display of the room stale at its next poll.
``push_room_status`` (channel ``display_push``) POSTs the new status to the displays of
the room that have a push URL. Both raise DeliveryError so the outbox retries them with
backoff; both are safe to run twice.
"""

from __future__ import annotations

from django.utils import timezone

from bookings.combinations import spread
from bookings.models import BookingEvent, OutboxMessage
from bookings.outbox import DeliveryError

from . import cache, push
from .models import Display


def rooms_of(message: OutboxMessage) -> set[int]:
    """Every room whose day the message may have changed."""
    payload = message.payload
    rooms = {payload["room"]} if payload.get("room") else set()
    rooms |= {b["room"] for b in payload.get("bookings", []) if b.get("room")}
    if message.topic == "booking.updated" and payload.get("id"):
        # A move names only the new room in the payload; the old room changed as well.
        for changes in BookingEvent.objects.filter(
            booking_id=payload["id"], changes__has_key="room"
        ).values_list("changes", flat=True):
            rooms.update(r for r in changes["room"] if r)
    # A combined room's booking changes the day of its parts, and a part's its combinations.
    return spread(rooms) if rooms else rooms


def bump_room_version(message: OutboxMessage) -> None:
    """Raise the status version of the message's rooms in Redis; DeliveryError if unreachable."""
    if not cache.bump_room_versions(rooms_of(message)):
        # Displays meanwhile read PostgreSQL; the retry makes Redis right once it is back.
        raise DeliveryError("Redis is unreachable; room versions not bumped")


def _pushed_key(message: OutboxMessage) -> str:
    return f"{cache.PREFIX}pushed:{message.pk}"


def push_room_status(message: OutboxMessage) -> None:
    """Push the new status to each display of the rooms; DeliveryError if any push failed.

    The outbox runs a sink in a savepoint that a DeliveryError rolls back, so which
    displays already took this message is kept in Redis: a retry pushes only to the
    others (without Redis, to all again, which a receiver takes as the same status).
    """
    displays = list(
        Display.objects.filter(room_id__in=rooms_of(message), revoked_at__isnull=True)
        .exclude(push_url="")
        .select_related("room__floor__building__site")
    )
    key = _pushed_key(message)
    done = {int(i) for i in cache.run(lambda r: r.smembers(key), default=set()) or set()}
    failures: list[str] = []
    permanent = True
    for display in displays:
        if display.pk in done:
            continue
        try:
            push.push(display, topic=message.topic)
        except DeliveryError as exc:
            failures.append(f"display #{display.pk}: {exc}")
            permanent = permanent and exc.permanent
            continue
        done.add(display.pk)
        cache.run(lambda r, pk=display.pk: r.pipeline().sadd(key, pk).expire(key, 3 * 86400).execute())
    if failures:
        raise DeliveryError("; ".join(failures)[:2000], permanent=permanent)
    Display.objects.filter(pk__in=done).update(last_push_at=timezone.now(), last_push_error="")
    cache.run(lambda r: r.delete(key))
