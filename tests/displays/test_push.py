"""Push: a real HTTP receiver on loopback checks the signature and the content of each push."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from bookings.models import OutboxMessage
from bookings.services import create_booking
from displays import push
from displays.models import Display
from tests import factories
from tests.conftest import free_port
from tests.displays.conftest import deliver_outbox


class Receiver:
    """A display's push endpoint: records each request and answers with ``status``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # Header names are case-insensitive; keep them lower-case for look-ups.
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append({"headers": headers, "body": body, "path": self.path})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rfr-push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verified(self, secret: str) -> list[dict]:
        """The bodies whose signature checks out, computed here with nothing but hmac."""
        good = []
        for request in self.requests:
            timestamp = request["headers"]["x-rfr-timestamp"]
            expected = hmac.new(
                secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
            ).hexdigest()
            signature = request["headers"]["x-rfr-signature"]
            if (
                hmac.compare_digest(f"sha256={expected}", signature)
                and abs(time.time() - int(timestamp)) < 300
            ):
                good.append(json.loads(request["body"]))
        return good


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def pushed_door(make_display, room, receiver):
    display, _raw = make_display(room, push_url=receiver.url, privacy="titles")
    return display


def book(room, user, title="Planung"):
    start = timezone.now() + timedelta(minutes=30)
    return create_booking(room=room, organizer=user, title=title, start=start, end=start + timedelta(hours=1))


def push_messages():
    return OutboxMessage.objects.filter(channel="display_push")


@pytest.mark.django_db
def test_it_pushes_the_new_status_signed(pushed_door, receiver, alice):
    booking = book(pushed_door.room, alice)

    deliver_outbox()

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/rfr-push"
    assert request["headers"]["content-type"] == "application/json; charset=utf-8"
    assert request["headers"]["x-rfr-event"] == "booking.created"
    [body] = receiver.verified(pushed_door.push_secret)
    assert body["room"]["id"] == pushed_door.room_id
    assert [b["id"] for b in body["bookings"]] == [booking.pk]
    assert body["bookings"][0]["title"] == "Planung"
    assert push_messages().get().delivered_at is not None
    pushed_door.refresh_from_db()
    assert pushed_door.last_push_at is not None and pushed_door.last_push_error == ""


@pytest.mark.django_db
def test_a_receiver_with_another_secret_rejects_the_push(pushed_door, receiver, alice):
    book(pushed_door.room, alice)
    deliver_outbox()

    assert receiver.requests
    assert receiver.verified("not-the-secret") == []


@pytest.mark.django_db
def test_it_pushes_only_to_displays_of_the_changed_room(pushed_door, receiver, alice):
    book(factories.room(), alice)
    deliver_outbox()

    assert receiver.requests == []


@pytest.mark.django_db
def test_it_never_pushes_a_private_title(pushed_door, receiver, alice):
    start = timezone.now() + timedelta(minutes=30)
    create_booking(
        room=pushed_door.room,
        organizer=alice,
        title="Geheim",
        start=start,
        end=start + timedelta(hours=1),
        private=True,
    )
    deliver_outbox()

    assert b"Geheim" not in receiver.requests[0]["body"]


@pytest.mark.django_db
def test_it_retries_with_backoff_when_the_receiver_fails(pushed_door, receiver, alice):
    receiver.status = 503
    book(pushed_door.room, alice)

    deliver_outbox()

    message = push_messages().get()
    assert message.delivered_at is None and message.given_up_at is None
    assert message.attempts == 1 and "503" in message.last_error
    assert message.available_at > timezone.now() + timedelta(seconds=10)
    assert f"display #{pushed_door.pk}" in message.last_error

    receiver.status = 200
    push_messages().update(available_at=timezone.now())
    deliver_outbox()

    message.refresh_from_db()
    assert message.delivered_at is not None and message.attempts == 2
    assert len(receiver.verified(pushed_door.push_secret)) == 2
    pushed_door.refresh_from_db()
    assert pushed_door.last_push_at is not None and pushed_door.last_push_error == ""


@pytest.mark.django_db
def test_it_retries_when_the_receiver_is_unreachable(make_display, room, alice):
    _display, _raw = make_display(room, push_url=f"http://127.0.0.1:{free_port()}/push")
    book(room, alice)

    deliver_outbox()

    message = push_messages().get()
    assert message.delivered_at is None and message.given_up_at is None and message.last_error


@pytest.mark.django_db
def test_it_gives_up_when_the_receiver_refuses_for_good(pushed_door, receiver, alice):
    receiver.status = 410
    book(pushed_door.room, alice)

    deliver_outbox()

    message = push_messages().get()
    assert message.given_up_at is not None and "410" in message.last_error


@pytest.mark.django_db
def test_on_retry_it_skips_displays_that_already_took_the_push(make_display, room, receiver, alice):
    _good, _ = make_display(room, push_url=receiver.url)
    failing, _ = make_display(room, push_url=f"http://127.0.0.1:{free_port()}/push")
    book(room, alice)
    deliver_outbox()
    assert len(receiver.requests) == 1

    Display.objects.filter(pk=failing.pk).update(push_url=receiver.url.replace("rfr-push", "second"))
    push_messages().update(available_at=timezone.now())
    deliver_outbox()

    assert [r["path"] for r in receiver.requests] == ["/rfr-push", "/second"]
    assert push_messages().get().delivered_at is not None


def test_verify_enforces_the_replay_window():
    body = b'{"state":"free"}'
    now = time.time()
    fresh = int(now)
    old = int(now) - push.REPLAY_WINDOW - 1

    assert push.verify("s3cret", str(fresh), body, push.sign("s3cret", fresh, body), now=now)
    assert not push.verify("s3cret", str(old), body, push.sign("s3cret", old, body), now=now)
    assert not push.verify("s3cret", str(fresh), body + b" ", push.sign("s3cret", fresh, body), now=now)
    assert not push.verify("other", str(fresh), body, push.sign("s3cret", fresh, body), now=now)
    assert not push.verify("s3cret", "soon", body, push.sign("s3cret", fresh, body), now=now)
