"""Graph change notifications: the rooms' subscriptions (the webhook is webhook.py).

Polling stays the default (on-premises customers often cannot be reached from Microsoft);
with RFR_GRAPH_NOTIFICATION_URL set, each synced room has a subscription on its events,
made and renewed by the beat cycle. Graph checks the URL when a subscription is made
(``?validationToken=``, echoed as text/plain within 10 s), and every notification carries
the subscription's ``clientState``: an HMAC of the mailbox under SECRET_KEY, so it needs no
storage and a forged notification is dropped. A notification answers 202 at once and
queues the room's sync (a delta read); it is never trusted for content.

Lifecycle notifications come to the same URL (``lifecycleNotificationUrl``; Graph checks
it with the same handshake) and carry the same clientState. ``on_lifecycle`` acts on them:
``reauthorizationRequired`` renews the subscription (a renewal reauthorizes it; made anew
if Graph no longer has it), ``subscriptionRemoved`` makes a new one and runs a full sync
(delta read and reconcile: what changed meanwhile was never notified), ``missed`` runs a
delta read. A subscription made before lifecycle notifications cannot be given the URL
(Graph refuses it on a renewal), so the beat cycle replaces such a one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..base import IntegrationError
from .models import RoomSync
from .sync import sync_room

log = logging.getLogger("rfr.exchange")
# Events allow at most 4,230 minutes; two days, renewed when less than one is left.
LIFETIME = timedelta(days=2)
RENEW_BEFORE = timedelta(days=1)


def client_state(mailbox: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"rfr-graph-notify:{mailbox.lower()}".encode(), hashlib.sha256).hexdigest()


def keep_subscriptions(cal, rooms) -> dict[str, int]:
    """Make, renew or drop each room's subscription; what was done (errors on the room)."""
    done = {"subscribed": 0, "renewed": 0, "unsubscribed": 0, "failed": 0}
    url = settings.RFR_EXCHANGE.graph_notification_url
    now = timezone.now()
    for room in rooms:
        state = RoomSync.objects.filter(room=room).first()
        wanted = bool(url) and (state is None or state.mode != RoomSync.Mode.OFF)
        if not wanted and (state is None or not state.subscription_id):
            continue  # polling only: nothing to read or write for this room
        fresh = state is not None and state.subscription_expires_at is not None
        if wanted and fresh and state.subscription_id and state.subscription_expires_at - now > RENEW_BEFORE:
            continue  # subscribed, and not due for renewal yet
        if state is None:
            state = RoomSync.objects.create(room=room)
        try:
            if not wanted:
                cal.unsubscribe(state.subscription_id)
                state.subscription_id, state.subscription_expires_at = "", None
                done["unsubscribed"] += 1
            else:
                if _renew_or_subscribe(cal, room, state, url=url, now=now):
                    done["renewed"] += 1
                else:
                    done["subscribed"] += 1
        except IntegrationError as exc:
            done["failed"] += 1
            state.last_error = str(exc)[:2000]
            log.warning("exchange: subscription for %s failed: %s", room, exc)
        state.save()
    return done


def _renew_or_subscribe(cal, room, state: RoomSync, *, url: str, now) -> bool:
    """Renew the room's subscription (True), or make a new one (False) when Graph no longer
    has it or it has no lifecycleNotificationUrl yet. Sets the state's id and expiry."""
    if state.subscription_id:
        try:
            renewed = cal.renew(state.subscription_id, expires=now + LIFETIME)
        except IntegrationError as exc:
            if not exc.permanent:
                raise
            # Expired or removed at Microsoft (404 ResourceNotFound): a new one below.
        else:
            if renewed.get("lifecycleNotificationUrl"):
                state.subscription_expires_at = now + LIFETIME
                return True
            cal.unsubscribe(state.subscription_id)  # made before lifecycle notifications
    state.subscription_id = cal.subscribe(
        room.exchange_mailbox,
        url=url,
        client_state=client_state(room.exchange_mailbox),
        expires=now + LIFETIME,
    )
    state.subscription_expires_at = now + LIFETIME
    return False


LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")


def on_lifecycle(cal, room, event: str) -> str:
    """Act on one lifecycle notification for the room; what was done, in a word."""
    url = settings.RFR_EXCHANGE.graph_notification_url
    state, _new = RoomSync.objects.get_or_create(room=room)
    done = "read"
    if event in ("reauthorizationRequired", "subscriptionRemoved") and url:
        if event == "subscriptionRemoved":
            state.subscription_id = ""  # Graph has deleted it: renewing would only 404
        try:
            done = (
                "renewed"
                if _renew_or_subscribe(cal, room, state, url=url, now=timezone.now())
                else "subscribed"
            )
        except IntegrationError as exc:
            state.last_error = str(exc)[:2000]
            log.warning("exchange: lifecycle %s for %s failed: %s", event, room, exc)
            done = "failed"
        state.save()
    if event == "reauthorizationRequired":
        return done
    # Removed or missed: changes were not notified. A delta read finds them; after a
    # removal the reconcile also repairs what happened while nobody listened.
    report = sync_room(cal, room, full=event == "subscriptionRemoved")
    return done if event == "subscriptionRemoved" else ("failed" if report.error else "read")
