"""Microsoft Graph's webhook: the validation handshake, and notifications that queue a delta read.

Lifecycle notifications (``lifecycleEvent``) come here too and queue notify.on_lifecycle.
See notify.py for the subscriptions and the clientState.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import RoomSync
from .notify import LIFECYCLE_EVENTS, client_state
from .tasks import graph_lifecycle_task, sync_exchange_task

log = logging.getLogger("rfr.exchange")


@csrf_exempt
@require_POST
def graph_notification(request: HttpRequest) -> HttpResponse:
    """Graph's webhook: the validation handshake, or notifications that queue a delta read."""
    token = request.GET.get("validationToken")
    if token is not None:
        return HttpResponse(token, content_type="text/plain; charset=utf-8")
    try:
        notes = json.loads(request.body or b"{}").get("value", [])
        if not isinstance(notes, list):
            raise ValueError
    except (ValueError, AttributeError):
        return HttpResponseBadRequest("not a Graph notification", content_type="text/plain")
    due: set[int] = set()
    lifecycle: list[tuple[int, str]] = []
    for note in notes:
        if not isinstance(note, dict) or not note.get("subscriptionId"):
            continue
        state = RoomSync.objects.select_related("room").filter(subscription_id=note["subscriptionId"]).first()
        if state is None or not hmac.compare_digest(
            str(note.get("clientState", "")), client_state(state.room.exchange_mailbox)
        ):
            log.warning("exchange: dropped a notification with an unknown subscription or clientState")
            continue
        event = note.get("lifecycleEvent")
        if event is None:
            due.add(state.room_id)
        elif event in LIFECYCLE_EVENTS and (state.room_id, event) not in lifecycle:
            lifecycle.append((state.room_id, event))
        else:
            log.warning("exchange: ignored the lifecycle notification %r", event)
    for room_id, event in lifecycle:
        due.discard(room_id)  # its lifecycle task reads the room's changes itself
        graph_lifecycle_task.delay(room_id, event)
    for room_id in sorted(due):
        sync_exchange_task.delay(room_id)
    return HttpResponse(status=202)
