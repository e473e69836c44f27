"""Graph change notifications: the rooms' subscriptions (the webhook is webhook.py).

Polling stays the default (on-premises customers often cannot be reached from Microsoft);
with RFR_GRAPH_NOTIFICATION_URL set, each synced room has a subscription on its events,
made and renewed by the beat cycle. Graph checks the URL when a subscription is made
(``?validationToken=``, echoed as text/plain within 10 s), and every notification carries
the subscription's ``clientState``: an HMAC of the mailbox under SECRET_KEY, so it needs no
storage and a forged notification is dropped. A notification answers 202 at once and
queues the room's sync (a delta read); it is never trusted for content.
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
                renewed = False
                if state.subscription_id:
                    try:
                        cal.renew(state.subscription_id, expires=now + LIFETIME)
                        renewed = True
                        done["renewed"] += 1
                    except IntegrationError as exc:
                        if not exc.permanent:
                            raise
                        # Expired or removed at Microsoft (404 ResourceNotFound): a new one.
                if not renewed:
                    state.subscription_id = cal.subscribe(
                        room.exchange_mailbox,
                        url=url,
                        client_state=client_state(room.exchange_mailbox),
                        expires=now + LIFETIME,
                    )
                    done["subscribed"] += 1
                state.subscription_expires_at = now + LIFETIME
        except IntegrationError as exc:
            done["failed"] += 1
            state.last_error = str(exc)[:2000]
            log.warning("exchange: subscription for %s failed: %s", room, exc)
        state.save()
    return done
