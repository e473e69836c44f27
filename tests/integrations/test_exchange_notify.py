"""Graph change notifications: subscriptions made and renewed by the beat cycle, the
validation handshake, clientState, and a notification that triggers a delta read.

The Graph double calls the app's webhook over HTTP (the live server) as Graph does: the
handshake when a subscription is made, then the notifications. The sync a notification
queues runs in the web process here (Celery eager), against the double.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from integrations.exchange.models import RoomSync
from integrations.exchange.notify import client_state
from integrations.exchange.tasks import sync_exchange_task
from raumfuerraum.celery import app as celery_app

from .exchange_fixtures import MAILBOX, later

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/exchange/graph/notify"


@pytest.fixture
def notified(graph, spree, live_server, settings, monkeypatch):
    """The Graph back end with RFR_GRAPH_NOTIFICATION_URL pointing at the live server."""
    settings.RFR_EXCHANGE = replace(settings.RFR_EXCHANGE, graph_notification_url=f"{live_server.url}{PATH}")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return graph


def test_it_answers_the_validation_handshake_with_the_token_as_plain_text(client):
    answer = client.post(f"{PATH}?validationToken=Validation%3A+abc+%3Cb%3E")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert answer.content.decode() == "Validation: abc <b>"


def test_it_subscribes_each_room_after_the_handshake_and_reads_on_notification(notified, spree):
    assert sync_exchange_task() == {"failed": 0}
    [sub] = notified.subscriptions.values()
    # the app echoed Graph's token (for the change and the lifecycle notifications)
    assert notified.validated == [sub["notificationUrl"]] * 2
    assert sub["resource"] == f"users/{MAILBOX}/events"
    assert sub["clientState"] == client_state(MAILBOX)
    state = RoomSync.objects.get(room=spree)
    assert state.subscription_id == sub["id"]

    start = later()
    notified.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert not Booking.objects.filter(room=spree).exists()  # polling has not come round yet
    assert notified.deliver_notifications() == [202]
    assert Booking.objects.filter(room=spree, title="Vertrieb", source="exchange").count() == 1


def test_it_drops_a_notification_with_a_wrong_client_state(notified, spree):
    sync_exchange_task()
    [sub] = notified.subscriptions.values()
    sub["clientState"] = "forged"  # someone who knows the URL and a subscription id, not the secret
    start = later()
    notified.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    before = len(notified.requests)
    assert notified.deliver_notifications() == [202]
    assert len(notified.requests) == before  # no read was triggered
    assert not Booking.objects.filter(room=spree).exists()


def test_it_refuses_a_body_that_is_not_a_notification(client):
    answer = client.post(PATH, data="{not json", content_type="application/json")
    assert answer.status_code == 400


def test_it_renews_a_subscription_before_it_expires_and_replaces_a_lost_one(notified, spree):
    sync_exchange_task()
    state = RoomSync.objects.get(room=spree)
    first = state.subscription_id
    RoomSync.objects.filter(pk=state.pk).update(subscription_expires_at=timezone.now() + timedelta(hours=3))
    sync_exchange_task()
    state.refresh_from_db()
    assert state.subscription_id == first
    assert state.subscription_expires_at > timezone.now() + timedelta(days=1)
    assert notified.subscriptions[first]["expirationDateTime"] != ""
    assert ("PATCH", f"/v1.0/subscriptions/{first}") in notified.requests

    del notified.subscriptions[first]  # Graph dropped it (expired while we were away)
    RoomSync.objects.filter(pk=state.pk).update(subscription_expires_at=timezone.now() + timedelta(hours=3))
    sync_exchange_task()
    state.refresh_from_db()
    assert state.subscription_id != first
    assert list(notified.subscriptions) == [state.subscription_id]


def test_it_keeps_polling_only_without_a_notification_url(graph, spree):
    sync_exchange_task()
    assert graph.subscriptions == {}
    assert RoomSync.objects.get(room=spree).subscription_id == ""


# --- lifecycle notifications (lifecycleNotificationUrl: the same webhook) ---


def test_the_subscription_asks_for_lifecycle_notifications_at_the_same_url(notified, spree):
    sync_exchange_task()
    [sub] = notified.subscriptions.values()
    assert sub["lifecycleNotificationUrl"] == sub["notificationUrl"]
    assert notified.validated == [sub["notificationUrl"]] * 2  # Graph checks both endpoints


def test_a_removed_subscription_is_made_anew_and_what_it_missed_is_read(notified, spree):
    sync_exchange_task()
    first = RoomSync.objects.get(room=spree).subscription_id
    start = later()
    notified.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert notified.lifecycle(first, "subscriptionRemoved") == 202
    state = RoomSync.objects.get(room=spree)
    assert state.subscription_id not in ("", first)
    assert list(notified.subscriptions) == [state.subscription_id]
    assert state.last_full_at is not None  # a full sync: delta read and reconcile
    assert Booking.objects.filter(room=spree, title="Vertrieb", source="exchange").count() == 1


def test_missed_notifications_lead_to_a_delta_read(notified, spree):
    sync_exchange_task()
    sub_id = RoomSync.objects.get(room=spree).subscription_id
    start = later()
    notified.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert notified.lifecycle(sub_id, "missed") == 202  # the change notification never comes
    assert notified.deliver_notifications() == []
    assert Booking.objects.filter(room=spree, title="Vertrieb", source="exchange").count() == 1
    assert RoomSync.objects.get(room=spree).subscription_id == sub_id  # the subscription stands


def test_reauthorization_required_renews_and_notifications_flow_again(notified, spree):
    sync_exchange_task()
    sub_id = RoomSync.objects.get(room=spree).subscription_id
    RoomSync.objects.filter(room=spree).update(subscription_expires_at=timezone.now() + timedelta(hours=1))
    notified.subscriptions[sub_id]["needsReauthorization"] = True
    start = later()
    notified.book(MAILBOX, "Vertrieb", start, start + timedelta(hours=1))
    assert notified.deliver_notifications() == []  # held back until reauthorized
    notified.subscriptions[sub_id].pop("needsReauthorization")
    assert notified.lifecycle(sub_id, "reauthorizationRequired") == 202
    assert ("PATCH", f"/v1.0/subscriptions/{sub_id}") in notified.requests
    assert "needsReauthorization" not in notified.subscriptions[sub_id]
    state = RoomSync.objects.get(room=spree)
    assert state.subscription_id == sub_id
    assert state.subscription_expires_at > timezone.now() + timedelta(days=1)
    notified.book(MAILBOX, "Einkauf", start + timedelta(hours=2), start + timedelta(hours=3))
    assert notified.deliver_notifications() == [202]
    assert set(Booking.objects.filter(room=spree).values_list("title", flat=True)) == {"Vertrieb", "Einkauf"}


def test_a_lifecycle_notification_with_a_wrong_client_state_is_dropped(notified, spree):
    sync_exchange_task()
    sub_id = RoomSync.objects.get(room=spree).subscription_id
    notified.subscriptions[sub_id]["clientState"] = "forged"
    before = len(notified.requests)
    assert notified.lifecycle(sub_id, "subscriptionRemoved") == 202
    assert len(notified.requests) == before  # nothing read, nothing subscribed
    assert RoomSync.objects.get(room=spree).subscription_id == sub_id


def test_a_subscription_made_before_lifecycle_notifications_is_replaced(notified, spree):
    sync_exchange_task()
    old = RoomSync.objects.get(room=spree).subscription_id
    notified.subscriptions[old].pop("lifecycleNotificationUrl")  # made by the previous release
    RoomSync.objects.filter(room=spree).update(subscription_expires_at=timezone.now() + timedelta(hours=3))
    sync_exchange_task()
    state = RoomSync.objects.get(room=spree)
    assert state.subscription_id != old
    assert list(notified.subscriptions) == [state.subscription_id]  # the old one was deleted
    assert notified.subscriptions[state.subscription_id]["lifecycleNotificationUrl"]
