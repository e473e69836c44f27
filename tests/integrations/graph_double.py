"""A Microsoft Graph double: an HTTPS server with its own room calendars.

It speaks what the sync uses of Graph, on the wire: the OpenID configuration and the
client-credentials token endpoint that msal calls, and under /v1.0/users/{mailbox}/
the events (create with transactionId, change, delete), calendarView, calendarView/delta
with @removed and a delta link, and the accept/tentativelyAccept/decline answers. A room
declining a meeting drops it from its calendar, as Exchange's resource booking does.

A test "books in Outlook" with ``book``/``book_series`` and reads the calendar back
with ``events``; ``throttle``, ``expire_delta_links``, ``stop``/``start`` and
``forbid`` make the faults.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

TENANT = "contoso-tenant"
CLIENT_ID = "rfr-client"
SECRET = "s3cret-value"


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def stamp(moment: datetime) -> dict:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def parse(value: dict) -> datetime:
    return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)


class GraphDouble:
    def __init__(self, cert: str, key: str):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.lock = threading.RLock()
        self.calendars: dict[str, dict[str, dict]] = {}
        self.log: dict[str, list[tuple[int, str]]] = {}
        self.oldest_token: dict[str, int] = {}
        self.seq = itertools.count(1)
        self.ids = itertools.count(1)
        self.responses: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.forbidden: set[str] = set()
        self.throttled = 0
        self.retry_after = "1"
        self.tokens: set[str] = set()
        self.client_certificate: x509.Certificate | None = None  # the app's registered certificate
        self.port = 0
        self.created_at: dict[str, float] = {}  # event id -> time.time() it was made (the bench's lag)
        self.server: ThreadingHTTPServer | None = None
        self.places: list[dict] = []  # /places/microsoft.graph.room
        self.subscriptions: dict[str, dict] = {}  # id -> the subscription as Graph keeps it
        self.pending: list[tuple[str, str]] = []  # (mailbox, event id) changed since the last delivery
        self.validated: list[str] = []  # the notification URLs that passed the handshake
        self.page_size = 2  # places per page: the client must follow @odata.nextLink

    # --- running ---
    def start(self) -> None:
        double = self

        class Handler(_Handler):
            owner = double

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.server.socket = self.context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Exchange goes away: connections are refused until ``start``."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # --- state ---
    def add_mailbox(self, mailbox: str) -> None:
        with self.lock:
            self.calendars.setdefault(mailbox.lower(), {})
            self.log.setdefault(mailbox.lower(), [])
            self.oldest_token.setdefault(mailbox.lower(), 0)

    def _touch(self, mailbox: str, event_id: str) -> None:
        self.log[mailbox].append((next(self.seq), event_id))
        self.pending.append((mailbox, event_id))

    def _validate(self, url: str) -> bool:
        """Graph's handshake: POST ?validationToken=…, expect it back as text/plain within 10 s."""
        token = f"Validation: Testing client application reachability {next(self.ids)}"
        address = f"{url}?{urlencode({'validationToken': token})}"
        request = urllib.request.Request(address, data=b"", method="POST")  # noqa: S310 - the test's own server
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                ok = answer.status == 200 and answer.headers.get_content_type() == "text/plain"
                return ok and answer.read().decode() == token
        except OSError:
            return False

    def deliver_notifications(self) -> list[int]:
        """Send what changed to the subscribers (as Graph does, a moment later); their HTTP statuses."""
        with self.lock:
            pending, self.pending = self.pending, []
            subscriptions = list(self.subscriptions.values())
        statuses = []
        for sub in subscriptions:
            mailbox = sub["resource"].split("/")[1].lower()
            changed = [event_id for box, event_id in pending if box == mailbox]
            if not changed or sub.get("needsReauthorization"):
                continue  # (Graph holds back the notifications of an unreauthorized one)
            body = {
                "value": [
                    {
                        "subscriptionId": sub["id"],
                        "clientState": sub["clientState"],
                        "changeType": "updated",
                        "resource": f"Users/{mailbox}/Events/{event_id}",
                        "tenantId": TENANT,
                    }
                    for event_id in changed
                ]
            }
            request = urllib.request.Request(  # noqa: S310 - the test's own server
                sub["notificationUrl"],
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                    statuses.append(answer.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        return statuses

    def lifecycle(self, subscription_id: str, event: str) -> int:
        """Send a lifecycle notification (``reauthorizationRequired``, ``subscriptionRemoved``
        or ``missed``) to the subscription's lifecycleNotificationUrl; the HTTP status.
        ``subscriptionRemoved`` deletes the subscription first, ``missed`` forgets the change
        notifications not yet sent, ``reauthorizationRequired`` holds them back until renewed."""
        with self.lock:
            sub = dict(self.subscriptions[subscription_id])
            if event == "subscriptionRemoved":
                del self.subscriptions[subscription_id]
            elif event == "missed":
                mailbox = sub["resource"].split("/")[1].lower()
                self.pending = [(box, event_id) for box, event_id in self.pending if box != mailbox]
            elif event == "reauthorizationRequired":
                self.subscriptions[subscription_id]["needsReauthorization"] = True
        body = {
            "value": [
                {
                    "lifecycleEvent": event,
                    "subscriptionId": sub["id"],
                    "clientState": sub["clientState"],
                    "resource": sub["resource"],
                    "subscriptionExpirationDateTime": sub["expirationDateTime"],
                    "tenantId": TENANT,
                }
            ]
        }
        request = urllib.request.Request(  # noqa: S310 - the test's own server
            sub["lifecycleNotificationUrl"],
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def _new_event(self, mailbox: str, body: dict) -> dict:
        event = {
            "id": f"AAMkAD{next(self.ids):06d}=",
            "changeKey": f"ck{next(self.ids)}",
            "subject": body.get("subject", ""),
            "start": stamp(parse(body["start"])),
            "end": stamp(parse(body["end"])),
            "organizer": body.get("organizer") or {"emailAddress": {"name": mailbox, "address": mailbox}},
            "isCancelled": False,
            "sensitivity": body.get("sensitivity", "normal"),
            "showAs": body.get("showAs", "busy"),
            "type": body.get("type", "singleInstance"),
            "responseStatus": {"response": "none"},
            "transactionId": body.get("transactionId"),
            "singleValueExtendedProperties": body.get("singleValueExtendedProperties", []),
        }
        if body.get("seriesMasterId"):
            event["seriesMasterId"] = body["seriesMasterId"]
        self.calendars[mailbox][event["id"]] = event
        self.created_at[event["id"]] = time.time()
        self._touch(mailbox, event["id"])
        return event

    def book(
        self,
        mailbox: str,
        subject: str,
        start: datetime,
        end: datetime,
        *,
        organizer=("Max Muster", "max@firma.de"),
        private=False,
        **extra,
    ) -> str:
        """Someone sends a meeting from Outlook to the room."""
        with self.lock:
            body = {
                "subject": subject,
                "start": stamp(start),
                "end": stamp(end),
                "organizer": {"emailAddress": {"name": organizer[0], "address": organizer[1]}},
                "sensitivity": "private" if private else "normal",
                **extra,
            }
            return self._new_event(mailbox.lower(), body)["id"]

    def book_series(
        self, mailbox: str, subject: str, start: datetime, minutes: int, days: int, **kw
    ) -> list[str]:
        """A daily recurring meeting: the calendar view shows each occurrence with its series master id."""
        master = f"AAMkMaster{next(self.ids):06d}="
        return [
            self.book(
                mailbox,
                subject,
                start + timedelta(days=i),
                start + timedelta(days=i, minutes=minutes),
                type="occurrence",
                seriesMasterId=master,
                **kw,
            )
            for i in range(days)
        ]

    def change(self, mailbox: str, event_id: str, **fields) -> None:
        """The organizer changes the meeting in Outlook (start/end as datetimes)."""
        with self.lock:
            event = self.calendars[mailbox.lower()][event_id]
            for name, value in fields.items():
                event[name] = stamp(value) if isinstance(value, datetime) else value
            if event.get("type") == "occurrence":
                event["type"] = "exception"
            event["changeKey"] = f"ck{next(self.ids)}"
            self._touch(mailbox.lower(), event_id)

    def remove(self, mailbox: str, event_id: str) -> None:
        """Deleted from the calendar (a cancelled meeting, a deleted occurrence)."""
        with self.lock:
            self.calendars[mailbox.lower()].pop(event_id, None)
            self._touch(mailbox.lower(), event_id)

    def events(self, mailbox: str) -> list[dict]:
        with self.lock:
            return sorted(self.calendars[mailbox.lower()].values(), key=lambda e: e["start"]["dateTime"])

    def add_room(
        self, email: str, name: str, *, capacity: int | None = None, room_list: str = "Haus A"
    ) -> None:
        """A room mailbox the organisation lists (Graph: a place with its building)."""
        self.places.append(
            {
                "id": f"place-{next(self.ids)}",
                "displayName": name,
                "emailAddress": email,
                "capacity": capacity,
                "building": room_list,
            }
        )

    def throttle(self, count: int, retry_after: str = "1") -> None:
        self.throttled, self.retry_after = count, retry_after

    def expire_delta_links(self, mailbox: str) -> None:
        with self.lock:
            self.oldest_token[mailbox.lower()] = next(self.seq)

    def assertion_valid(self, assertion: str) -> bool:
        """A client assertion (JWT) signed with the key of ``client_certificate``, for our client."""
        if self.client_certificate is None:
            return False
        head, claims, signature = assertion.split(".")
        header = json.loads(_b64(head))
        algorithm = header.get("alg")
        key = self.client_certificate.public_key()
        padder = (
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            if algorithm == "PS256"
            else padding.PKCS1v15()
        )
        try:
            key.verify(_b64(signature), f"{head}.{claims}".encode(), padder, hashes.SHA256())
        except InvalidSignature:
            return False
        payload = json.loads(_b64(claims))
        return payload.get("iss") == CLIENT_ID and payload.get("sub") == CLIENT_ID

    def answer(self, event_id: str) -> str:
        found = [r["answer"] for r in self.responses if r["id"] == event_id]
        return found[-1] if found else ""


class _Handler(BaseHTTPRequestHandler):
    owner: GraphDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes: without this, Nagle and delayed ACKs add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str) -> None:
        self._send(status, {"error": {"code": code, "message": code}})

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        return json.loads(raw) if raw else {}

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        double = self.owner
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._body()
        double.requests.append((method, self.path))
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            base = f"{double.base}/{parts[0]}"
            return self._send(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                },
            )
        if parts[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
            signed = "client_assertion" in body and double.assertion_valid(body["client_assertion"])
            good = body.get("client_secret") == SECRET or signed
            if parts[0] != TENANT or body.get("client_id") != CLIENT_ID or not good:
                return self._send(
                    401, {"error": "invalid_client", "error_description": "bad client credentials"}
                )
            token = f"token-{next(double.ids)}"
            double.tokens.add(token)
            return self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        if parts[:2] == ["v1.0", "places"] and parts[2:] == ["microsoft.graph.room"] and method == "GET":
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in double.tokens:
                return self._error(401, "InvalidAuthenticationToken")
            skip = int(query.get("$skip", "0"))
            page = {"value": double.places[skip : skip + double.page_size]}
            if skip + double.page_size < len(double.places):
                page["@odata.nextLink"] = (
                    f"{double.base}/v1.0/places/microsoft.graph.room?$skip={skip + double.page_size}"
                )
            return self._send(200, page)
        if parts[:2] == ["v1.0", "subscriptions"]:
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in double.tokens:
                return self._error(401, "InvalidAuthenticationToken")
            return self._subscriptions(method, parts[2:], body)
        if parts[:2] != ["v1.0", "users"] or len(parts) < 4:
            return self._error(404, "ResourceNotFound")
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in double.tokens:
            return self._error(401, "InvalidAuthenticationToken")
        if double.throttled:
            double.throttled -= 1
            return self._send(
                429, {"error": {"code": "ApplicationThrottled"}}, {"Retry-After": double.retry_after}
            )
        mailbox, rest = parts[2].lower(), parts[3:]
        if mailbox in double.forbidden:
            return self._error(403, "ErrorAccessDenied")
        with double.lock:
            if mailbox not in double.calendars:
                return self._error(404, "ErrorInvalidUser")
            return self._calendar(method, mailbox, rest, query, body)

    def _calendar(self, method: str, mailbox: str, rest: list[str], query: dict, body: dict) -> None:
        double = self.owner
        events = double.calendars[mailbox]
        if rest == ["calendar", "events"] and method == "POST":
            key = body.get("transactionId")
            same = [e for e in events.values() if key and e.get("transactionId") == key]
            return self._send(201, same[0] if same else double._new_event(mailbox, body))
        if rest == ["calendarView", "delta"] and method == "GET":
            return self._delta(mailbox, query)
        if rest == ["calendarView"] and method == "GET":
            start, end = query["startDateTime"][:19], query["endDateTime"][:19]
            found = [
                e
                for e in events.values()
                if e["end"]["dateTime"][:19] > start and e["start"]["dateTime"][:19] < end
            ]
            if "$expand" not in query:
                found = [{k: v for k, v in e.items() if k != "singleValueExtendedProperties"} for e in found]
            return self._send(200, {"value": found})
        if len(rest) >= 2 and rest[0] == "events":
            event = events.get(rest[1])
            if event is None:
                return self._error(404, "ErrorItemNotFound")
            if len(rest) == 3 and method == "POST" and rest[2] in ("accept", "tentativelyAccept", "decline"):
                double.responses.append(
                    {
                        "id": event["id"],
                        "answer": rest[2],
                        "comment": body.get("comment", ""),
                        "subject": event["subject"],
                    }
                )
                event["responseStatus"] = {"response": rest[2]}
                if rest[2] == "decline":
                    double.remove(mailbox, event["id"])
                return self._send(202)
            if method == "PATCH":
                for name in (
                    "subject",
                    "start",
                    "end",
                    "sensitivity",
                    "showAs",
                    "body",
                    "singleValueExtendedProperties",
                ):
                    if name in body:
                        event[name] = stamp(parse(body[name])) if name in ("start", "end") else body[name]
                event["changeKey"] = f"ck{next(double.ids)}"
                double._touch(mailbox, event["id"])
                return self._send(200, event)
            if method == "DELETE":
                double.remove(mailbox, event["id"])
                return self._send(204)
        return self._error(400, "ErrorInvalidRequest")

    def _subscriptions(self, method: str, rest: list[str], body: dict) -> None:
        double = self.owner
        if not rest and method == "POST":
            if not body.get("notificationUrl") or not body.get("clientState") or not body.get("resource"):
                return self._error(400, "InvalidRequest")
            # Both endpoints pass the handshake (outside the lock: it calls the app).
            urls = [body["notificationUrl"]]
            if body.get("lifecycleNotificationUrl"):
                urls.append(body["lifecycleNotificationUrl"])
            if not all(double._validate(url) for url in urls):
                return self._error(400, "ValidationError")
            with double.lock:
                double.validated.extend(urls)
                sub = {**body, "id": f"sub-{next(double.ids)}"}
                double.subscriptions[sub["id"]] = sub
            return self._send(201, sub)
        with double.lock:
            sub = double.subscriptions.get(rest[0]) if rest else None
            if sub is None:
                return self._error(404, "ResourceNotFound")
            if method == "PATCH":
                if "lifecycleNotificationUrl" in body:  # Graph takes it only when a subscription is made
                    return self._error(400, "InvalidRequest")
                sub["expirationDateTime"] = body["expirationDateTime"]
                sub.pop("needsReauthorization", None)  # a renewal reauthorizes
                return self._send(200, sub)
            if method == "DELETE":
                del double.subscriptions[sub["id"]]
                return self._send(204)
        return self._error(400, "InvalidRequest")

    def _delta(self, mailbox: str, query: dict) -> None:
        double = self.owner
        now = next(double.seq)
        token = query.get("$deltatoken")
        if token is None:
            found = [
                {k: v for k, v in e.items() if k != "singleValueExtendedProperties"}
                for e in double.calendars[mailbox].values()
            ]
        else:
            since = int(token)
            if since < double.oldest_token[mailbox]:
                return self._error(410, "SyncStateNotFound")
            changed = []
            for seq, event_id in double.log[mailbox]:
                if since < seq < now and event_id not in changed:
                    changed.append(event_id)
            found = []
            for event_id in changed:
                event = double.calendars[mailbox].get(event_id)
                if event is None:
                    found.append({"id": event_id, "@removed": {"reason": "deleted"}})
                else:
                    found.append({k: v for k, v in event.items() if k != "singleValueExtendedProperties"})
        link = f"{double.base}/v1.0/users/{mailbox}/calendarView/delta?$deltatoken={now}"
        return self._send(200, {"value": found, "@odata.deltaLink": link})
