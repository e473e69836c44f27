"""An Exchange Web Services double: an HTTPS server speaking SOAP, with its own room calendars.

It answers what exchangelib sends for the sync (no autodiscover: the client is given the
endpoint): GetFolder for a mailbox's calendar, FindItem (a restriction on our create key,
or a CalendarView that expands recurring meetings into their occurrences),
SyncFolderItems with a sync state (a recurring meeting reported as its master),
GetItem, CreateItem (events, and the AcceptItem/TentativelyAcceptItem/DeclineItem
answers), UpdateItem, DeleteItem, GetRoomLists and GetRooms. The mailbox is the one named
in the ExchangeImpersonation header, or in the folder id for delegate access; requests
need the service account's Basic credentials, or with ``negotiate_keytab`` set a Kerberos
ticket (``Authorization: Negotiate``, SPNEGO) that python-gssapi's acceptor verifies
against that keytab, answering with its own token so the client can authenticate us back,
or with ``ntlm`` set the NTLM handshake (negotiate, challenge, authenticate) that
pyspnego's acceptor checks against the accounts in the file named by NTLM_USER_FILE
(lines ``DOMAIN:user:password``) and against this server's certificate (the channel
binding requests-ntlm sends). As on IIS, NTLM signs in the TCP connection: the handshake
runs once per connection, and later requests on it need no Authorization header.

The calendar state and what a test calls to "book in Outlook" are the Graph double's
(GraphDouble): the same events, ``book``/``book_series``/``change``/``remove``, the
answers and the faults, so one test drives either back end. Only the wire differs:
``throttle`` answers ErrorServerBusy with a BackOffMilliseconds, an expired sync state
is ErrorInvalidSyncStateData, a forbidden mailbox ErrorImpersonateUserDenied.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from .graph_double import GraphDouble, parse

USERNAME = "svc-rfr"
PASSWORD = "ews-passw0rd"
S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
PROPERTY_SET = "6f1c5d0e-3b7a-4c52-9a64-72a9d7f3e0b1"
ANSWER_NAMES = {
    "AcceptItem": "accept",
    "TentativelyAcceptItem": "tentativelyAccept",
    "DeclineItem": "decline",
}


def _t(name: str) -> str:
    return f"{{{T}}}{name}"


def _m(name: str) -> str:
    return f"{{{M}}}{name}"


def _ews_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_ews(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class Fault(Exception):
    def __init__(self, code: str, text: str = ""):
        super().__init__(code)
        self.code, self.text = code, text or code


class EwsDouble(GraphDouble):
    """The Graph double's calendars behind an EWS (SOAP) endpoint."""

    def __init__(self, cert: str, key: str):
        super().__init__(cert, key)
        self.sync_seq = itertools.count(1)
        self.room_lists: dict[str, list[tuple[str, str]]] = {}  # list address -> [(name, address)]
        self.room_list_names: dict[str, str] = {}
        self.soap: list[str] = []  # the operations called, in order
        self.series_of: dict[str, str] = {}  # occurrence id -> its master's id
        self.impersonated: list[str] = []  # the ExchangeImpersonation mailbox of each request ("" without)
        self.streams: dict[str, str] = {}  # streaming subscription id -> its mailbox
        self.streaming = 0  # GetStreamingEvents connections open now
        self.stream_seconds = 60.0  # a connection closes after this (Exchange: ConnectionTimeout minutes)
        self.negotiate_keytab = ""  # a keytab with HTTP/<host>: then Kerberos (Negotiate) only, no Basic
        self.kerberos_clients: list[str] = []  # the principal each Negotiate request proved to be
        # RFC 5929 tls-server-end-point: what requests-ntlm binds its NTLM answer to
        certificate = ssl.PEM_cert_to_DER_cert(Path(cert).read_text())
        self.channel_binding = b"tls-server-end-point:" + hashlib.sha256(certificate).digest()
        self.ntlm = False  # then NTLM only (the accounts are in the file named by NTLM_USER_FILE)
        self.ntlm_clients: list[str] = []  # DOMAIN\\user of each connection an NTLM handshake signed in

    def _new_event(self, mailbox: str, body: dict) -> dict:
        event = super()._new_event(mailbox, body)
        if event.get("seriesMasterId"):
            self.series_of[event["id"]] = event["seriesMasterId"]
        return event

    def start(self) -> None:
        double = self

        class Handler(_Handler):
            owner = double

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.server.socket = self.context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.base}/EWS/Exchange.asmx"

    def add_room(
        self, email: str, name: str, *, capacity: int | None = None, room_list: str = "Haus A"
    ) -> None:
        """A room mailbox in a room list (EWS lists no capacities: ``capacity`` is not told)."""
        address = f"{room_list.lower().replace(' ', '-')}@firma.de"
        self.room_lists.setdefault(address, []).append((name, email))
        self.room_list_names[address] = room_list

    def drop_streams(self) -> None:
        """Exchange forgets every streaming subscription (a restart, a mailbox move): open
        connections get ErrorSubscriptionNotFound and close."""
        with self.lock:
            self.streams.clear()

    def expire_sync_state(self, mailbox: str) -> None:
        self.expire_delta_links(mailbox)

    def mailbox_of(self, item_id: str) -> str | None:
        for mailbox, events in self.calendars.items():
            if item_id in events or any(e.get("seriesMasterId") == item_id for e in events.values()):
                return mailbox
        for mailbox, seen in self.log.items():
            if any(event_id == item_id for _seq, event_id in seen):
                return mailbox
        return None


class _Handler(BaseHTTPRequestHandler):
    owner: EwsDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: str, headers: dict | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _envelope(self, body: str) -> str:
        return (
            f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{S}" xmlns:m="{M}" xmlns:t="{T}">'
            '<s:Header><h:ServerVersionInfo xmlns:h="' + T + '" MajorVersion="15" MinorVersion="1" '
            'MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11"/></s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>"
        )

    def _fault(self, code: str, text: str, extra: str = "") -> None:
        body = (
            f"<s:Fault><faultcode>a:{code}</faultcode><faultstring>{escape(text)}</faultstring><detail>"
            '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
            f'{code}</e:ResponseCode><e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/'
            f'2006/errors">{escape(text)}</e:Message>{extra}</detail></s:Fault>'
        )
        self._send(500, self._envelope(body))

    def do_POST(self) -> None:
        double = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if self.path.lower() != "/ews/exchange.asmx":
            return self._send(404, "")
        proof: dict[str, str] = {}
        if double.negotiate_keytab:
            answer = self._negotiate(self.headers.get("Authorization", ""))
            if answer is None:
                return self._send(401, "", {"WWW-Authenticate": "Negotiate"})
            if answer:
                proof["WWW-Authenticate"] = f"Negotiate {answer}"
        elif double.ntlm:
            challenge = self._ntlm(self.headers.get("Authorization", ""))
            if challenge is not None:
                return self._send(401, "", {"WWW-Authenticate": challenge})
        elif self.headers.get("Authorization") != expected:
            return self._send(401, "", {"WWW-Authenticate": 'Basic realm="mail"'})
        root = ET.fromstring(raw)  # noqa: S314 - a test server reading our own client's requests
        header = root.find(f"{{{S}}}Header")
        body = root.find(f"{{{S}}}Body")
        [operation] = list(body)
        name = operation.tag.split("}")[1]
        double.soap.append(name)
        double.requests.append(("POST", name))
        if double.throttled:
            double.throttled -= 1
            millis = int(float(double.retry_after) * 1000)
            return self._fault(
                "ErrorServerBusy",
                "The server cannot service this request right now. Try again later.",
                f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{millis}</t:Value>'
                "</t:MessageXml>",
            )
        acting = ""
        if header is not None:
            smtp = header.find(
                f"{_t('ExchangeImpersonation')}/{_t('ConnectingSID')}/{_t('PrimarySmtpAddress')}"
            )
            acting = (smtp.text or "").lower() if smtp is not None else ""
        double.impersonated.append(acting)
        if name == "GetStreamingEvents":  # holds the connection open: not under the lock
            return self._stream(operation, proof)
        try:
            with double.lock:
                answer = getattr(self, f"op_{name}")(operation, acting)
        except Fault as fault:
            return self._fault(fault.code, fault.text)
        except AttributeError:
            return self._fault("ErrorInvalidRequest", f"{name} is not spoken by this double")
        if name in ("GetRoomLists", "GetRooms"):  # these answer without ResponseMessages
            return self._send(200, self._envelope(answer), proof)
        messages = f"<m:ResponseMessages>{answer}</m:ResponseMessages>"
        self._send(200, self._envelope(f"<m:{name}Response>{messages}</m:{name}Response>"), proof)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, op, proof: dict) -> None:
        """GetStreamingEvents: one SOAP envelope per batch of changes on the open connection
        (chunked), ConnectionStatus OK; Closed at the end of the timeout. A subscription Exchange
        no longer has ends the stream with ErrorSubscriptionNotFound."""
        double = self.owner
        ids = [e.text for e in op.find(_m("SubscriptionIds"))]
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        for header, value in proof.items():
            self.send_header(header, value)
        self.end_headers()

        def message(inner: str, status: str, *, error: str = "") -> bytes:
            head = (
                f'<m:GetStreamingEventsResponseMessage ResponseClass="Error"><m:MessageText>{error}'
                f"</m:MessageText><m:ResponseCode>{error}</m:ResponseCode>"
                "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
                if error
                else '<m:GetStreamingEventsResponseMessage ResponseClass="Success">'
                "<m:ResponseCode>NoError</m:ResponseCode>"
            )
            body = (
                f"<m:GetStreamingEventsResponse><m:ResponseMessages>{head}{inner}"
                f"<m:ConnectionStatus>{status}</m:ConnectionStatus></m:GetStreamingEventsResponseMessage>"
                "</m:ResponseMessages></m:GetStreamingEventsResponse>"
            )
            return self._envelope(body).encode()

        with double.lock:
            double.streaming += 1
            seen = {sid: len(double.log.get(double.streams.get(sid, ""), [])) for sid in ids}
        deadline = time.monotonic() + double.stream_seconds
        try:
            while time.monotonic() < deadline:
                notes = ""
                with double.lock:
                    gone = [sid for sid in ids if sid not in double.streams]
                    if not gone:
                        for sid in ids:
                            log = double.log[double.streams[sid]]
                            events = "".join(
                                f"<t:ModifiedEvent><t:Watermark>w{seq}</t:Watermark>"
                                f"<t:TimeStamp>{_ews_time(datetime.now(UTC))}</t:TimeStamp>"
                                f'<t:ItemId Id="{escape(event_id)}" ChangeKey="x"/>'
                                f'<t:ParentFolderId Id="calendar" ChangeKey="x"/></t:ModifiedEvent>'
                                for seq, event_id in log[seen[sid] :]
                            )
                            seen[sid] = len(log)
                            if events:
                                notes += (
                                    f"<m:Notification><t:SubscriptionId>{sid}</t:SubscriptionId>"
                                    f"<t:PreviousWatermark>w0</t:PreviousWatermark>"
                                    f"<t:MoreEvents>false</t:MoreEvents>{events}</m:Notification>"
                                )
                if gone:
                    self._chunk(message("", "Closed", error="ErrorSubscriptionNotFound"))
                    break
                if notes:
                    self._chunk(message(f"<m:Notifications>{notes}</m:Notifications>", "OK"))
                time.sleep(0.05)
            else:
                self._chunk(message("", "Closed"))
            self._chunk(b"")
        except OSError:
            pass  # the client went away
        finally:
            with double.lock:
                double.streaming -= 1

    def op_Subscribe(self, op, acting: str) -> str:
        request = op.find(_m("StreamingSubscriptionRequest"))
        if request is None:
            raise Fault("ErrorInvalidSubscriptionRequest", "only streaming subscriptions are spoken here")
        folder = request.find(_t("FolderIds"))[0]
        if folder.tag == _t("FolderId"):
            mailbox = self._mailbox(acting or folder.get("Id").split("-", 1)[1])
        else:
            mailbox = self._mailbox(acting, folder)
        sid = f"stream-{next(self.owner.ids)}"
        self.owner.streams[sid] = mailbox
        return self._ok("Subscribe", f"<m:SubscriptionId>{sid}</m:SubscriptionId>")

    def op_Unsubscribe(self, op, acting: str) -> str:
        sid = op.find(_m("SubscriptionId")).text
        if self.owner.streams.pop(sid, None) is None:
            return self._err("Unsubscribe", "ErrorSubscriptionNotFound", "The subscription was not found.")
        return self._ok("Unsubscribe")

    def _negotiate(self, header: str) -> str | None:
        """The acceptor's answer token (base64) for a valid SPNEGO token, None for none or a bad one."""
        import gssapi

        scheme, _, token = header.partition(" ")
        if scheme.lower() != "negotiate" or not token.strip():
            return None
        try:
            creds = gssapi.Credentials(usage="accept", store={"keytab": self.owner.negotiate_keytab})
            context = gssapi.SecurityContext(creds=creds, usage="accept")
            answer = context.step(base64.b64decode(token.strip()))
            if not context.complete:  # (this re-raises a failed step's error)
                return None  # Kerberos in SPNEGO is one round trip; anything more is refused here
        except (gssapi.exceptions.GSSError, ValueError):
            return None
        with self.owner.lock:
            self.owner.kerberos_clients.append(str(context.initiator_name))
        return base64.b64encode(answer).decode() if answer else ""

    def _ntlm(self, header: str) -> str | None:
        """None once this connection is signed in, else the WWW-Authenticate of the 401 to send:
        ``NTLM <challenge>`` after a negotiate message, a bare ``NTLM`` for anything else."""
        import spnego
        from spnego.channel_bindings import GssChannelBindings

        scheme, _, token = header.partition(" ")
        if scheme.lower() != "ntlm" or not token.strip():
            return None if getattr(self, "ntlm_user", "") else "NTLM"
        pending = getattr(self, "ntlm_pending", None)
        self.ntlm_user, self.ntlm_pending = "", None  # a new handshake signs the connection out
        try:
            if pending is None:  # leg 1: the client's negotiate message
                binding = GssChannelBindings(application_data=self.owner.channel_binding)
                context = spnego.server(protocol="ntlm", channel_bindings=binding)
                challenge = context.step(base64.b64decode(token.strip()))
                self.ntlm_pending = context
                return f"NTLM {base64.b64encode(challenge).decode()}"
            pending.step(base64.b64decode(token.strip()))  # leg 3: raises for a wrong password
        except (spnego.exceptions.SpnegoError, ValueError):
            return "NTLM"
        if not pending.complete:
            return "NTLM"
        self.ntlm_user = pending.client_principal
        with self.owner.lock:
            self.owner.ntlm_clients.append(self.ntlm_user)
        return None

    # --- helpers ---
    def _mailbox(self, acting: str, element=None) -> str:
        double = self.owner
        mailbox = acting
        if element is not None:
            found = element.find(f".//{_t('Mailbox')}/{_t('EmailAddress')}")
            if found is not None and found.text:
                mailbox = found.text.lower()
        if not mailbox:
            raise Fault("ErrorMissingEmailAddress", "no mailbox named")
        if mailbox in double.forbidden:
            raise Fault("ErrorImpersonateUserDenied", "The account does not have permission to impersonate")
        if mailbox not in double.calendars:
            raise Fault("ErrorNonExistentMailbox", f"No mailbox with such guid: {mailbox}")
        return mailbox

    @staticmethod
    def _ok(op: str, inner: str = "") -> str:
        return (
            f'<m:{op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f"{inner}</m:{op}ResponseMessage>"
        )

    @staticmethod
    def _err(op: str, code: str, text: str = "", extra: str = "") -> str:
        return (
            f'<m:{op}ResponseMessage ResponseClass="Error">'
            f"<m:MessageText>{escape(text or code)}</m:MessageText>"
            f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
            f"{extra}</m:{op}ResponseMessage>"
        )

    def _item_xml(self, event: dict, *, tag: str = "CalendarItem") -> str:
        organizer = (event.get("organizer") or {}).get("emailAddress") or {}
        ref = next((p["value"] for p in event.get("singleValueExtendedProperties", [])), "")
        kind = {
            "singleInstance": "Single",
            "occurrence": "Occurrence",
            "exception": "Exception",
            "seriesMaster": "RecurringMaster",
        }[event.get("type", "singleInstance")]
        props = ""
        for prop, value in (("rfrBooking", ref), ("rfrKey", event.get("transactionId") or "")):
            if value:
                props += (
                    f'<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="{PROPERTY_SET}" '
                    f'PropertyName="{prop}" PropertyType="String"/><t:Value>{escape(value)}</t:Value>'
                    "</t:ExtendedProperty>"
                )
        sensitivity = {"private": "Private", "confidential": "Confidential"}.get(
            event.get("sensitivity"), "Normal"
        )
        return (
            f'<t:{tag}><t:ItemId Id="{event["id"]}" ChangeKey="{event["changeKey"]}"/>'
            f"<t:Subject>{escape(event.get('subject') or '')}</t:Subject>"
            f"<t:Sensitivity>{sensitivity}</t:Sensitivity>{props}"
            f"<t:UID>{escape(event.get('seriesMasterId') or event['id'])}</t:UID>"
            f"<t:Start>{_ews_time(parse(event['start']))}</t:Start>"
            f"<t:End>{_ews_time(parse(event['end']))}</t:End>"
            f"<t:IsCancelled>{'true' if event.get('isCancelled') else 'false'}</t:IsCancelled>"
            f"<t:LegacyFreeBusyStatus>{'Tentative' if event.get('showAs') == 'tentative' else 'Busy'}"
            f"</t:LegacyFreeBusyStatus><t:CalendarItemType>{kind}</t:CalendarItemType>"
            f"<t:Organizer><t:Mailbox><t:Name>{escape(organizer.get('name') or '')}</t:Name>"
            f"<t:EmailAddress>{escape(organizer.get('address') or '')}</t:EmailAddress>"
            f"<t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:Organizer></t:{tag}>"
        )

    def _master(self, mailbox: str, master_id: str) -> dict | None:
        """A recurring master as EWS shows it: the series' first occurrence's time."""
        occurrences = [
            e for e in self.owner.calendars[mailbox].values() if e.get("seriesMasterId") == master_id
        ]
        if not occurrences:
            return None
        first = min(occurrences, key=lambda e: e["start"]["dateTime"])
        return {
            **first,
            "id": master_id,
            "type": "seriesMaster",
            "seriesMasterId": master_id,
            "changeKey": "m" + "".join(sorted(e["changeKey"] for e in occurrences))[-20:],
        }

    def _find(self, acting: str, item_id: str) -> tuple[str, dict]:
        double = self.owner
        mailbox = double.mailbox_of(item_id)
        if mailbox is None:
            raise Fault("ErrorItemNotFound", "The specified object was not found in the store.")
        self._mailbox(acting or mailbox)
        if acting and acting != mailbox:
            raise Fault("ErrorAccessDenied", "Access is denied.")
        event = double.calendars[mailbox].get(item_id) or self._master(mailbox, item_id)
        if event is None:
            raise Fault("ErrorItemNotFound", "The specified object was not found in the store.")
        return mailbox, event

    # --- operations ---
    def op_GetFolder(self, op, acting: str) -> str:
        out = ""
        for folder in op.find(_m("FolderIds")):
            mailbox = self._mailbox(acting, folder)
            name = folder.get("Id", "calendar")
            out += self._ok(
                "GetFolder",
                "<m:Folders><t:CalendarFolder>"
                f'<t:FolderId Id="{name}-{escape(mailbox)}" ChangeKey="AgAAAA=="/>'
                f"<t:DisplayName>{'Kalender' if name == 'calendar' else name}</t:DisplayName>"
                "<t:FolderClass>IPF.Appointment</t:FolderClass><t:TotalCount>0</t:TotalCount>"
                "<t:ChildFolderCount>0</t:ChildFolderCount></t:CalendarFolder></m:Folders>",
            )
        return out

    def _folder_mailbox(self, op, acting: str, tag: str) -> str:
        ids = op.find(_m(tag))
        folder = ids[0]
        if folder.tag == _t("FolderId"):
            return self._mailbox(acting or folder.get("Id").split("-", 1)[1])
        return self._mailbox(acting, folder)

    def op_FindItem(self, op, acting: str) -> str:
        double = self.owner
        mailbox = self._folder_mailbox(op, acting, "ParentFolderIds")
        events = list(double.calendars[mailbox].values())
        view = op.find(_m("CalendarView"))
        if view is not None:
            start, end = _from_ews(view.get("StartDate")), _from_ews(view.get("EndDate"))
            found = [e for e in events if parse(e["end"]) > start and parse(e["start"]) < end]
        else:
            # The only restriction the sync sends: our create key equal to a value.
            value = op.find(f".//{_t('Constant')}")
            uri = op.find(f".//{_t('ExtendedFieldURI')}")
            if value is None or uri is None or uri.get("PropertyName") != "rfrKey":
                raise Fault("ErrorUnsupportedQueryFilter", "only a restriction on rfrKey is spoken here")
            found = [e for e in events if e.get("transactionId") == value.get("Value")]
        found.sort(key=lambda e: e["start"]["dateTime"])
        items = "".join(self._item_xml(e) for e in found)
        return self._ok(
            "FindItem",
            f'<m:RootFolder TotalItemsInView="{len(found)}" IncludesLastItemInRange="true">'
            f"<t:Items>{items}</t:Items></m:RootFolder>",
        )

    def op_GetItem(self, op, acting: str) -> str:
        out = ""
        for ref in op.find(_m("ItemIds")):
            try:
                _mailbox, event = self._find(acting, ref.get("Id"))
            except Fault as fault:
                if fault.code != "ErrorItemNotFound":
                    raise
                out += self._err("GetItem", fault.code, fault.text)
                continue
            out += self._ok("GetItem", f"<m:Items>{self._item_xml(event)}</m:Items>")
        return out

    def op_SyncFolderItems(self, op, acting: str) -> str:
        double = self.owner
        mailbox = self._folder_mailbox(op, acting, "SyncFolderId")
        state = op.find(_m("SyncState"))
        now = next(double.seq)
        changes = ""
        if state is None or not state.text:
            seen: list[str] = []
            for event in double.calendars[mailbox].values():
                key = event.get("seriesMasterId") or event["id"]
                if key not in seen:
                    seen.append(key)
            for key in seen:
                event = double.calendars[mailbox].get(key) or self._master(mailbox, key)
                changes += f"<t:Create>{self._item_xml(event)}</t:Create>"
        else:
            since = int(base64.b64decode(state.text).decode().split(":")[1])
            if since < double.oldest_token[mailbox]:
                return self._err(
                    "SyncFolderItems",
                    "ErrorInvalidSyncStateData",
                    "Synchronization state data is corrupt or otherwise invalid.",
                    # Exchange sends these empty in the error too (exchangelib reads them first).
                    "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>",
                )
            touched: list[str] = []
            for seq, event_id in double.log[mailbox]:
                if since < seq < now and event_id not in touched:
                    touched.append(event_id)
            keys: list[str] = []
            for event_id in touched:
                event = double.calendars[mailbox].get(event_id)
                master = event.get("seriesMasterId") if event else double.series_of.get(event_id)
                key = master or event_id
                if key not in keys:
                    keys.append(key)
            for key in keys:
                event = double.calendars[mailbox].get(key) or self._master(mailbox, key)
                if event is None:
                    changes += f'<t:Delete><t:ItemId Id="{key}" ChangeKey="x"/></t:Delete>'
                else:
                    changes += f"<t:Update>{self._item_xml(event)}</t:Update>"
        token = base64.b64encode(f"{mailbox}:{now}".encode()).decode()
        inner = (
            f"<m:SyncState>{token}</m:SyncState><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>"
            f"<m:Changes>{changes}</m:Changes>"
        )
        return self._ok("SyncFolderItems", inner)

    def _fields(self, element) -> dict:
        """A CalendarItem element (CreateItem) as Graph-shaped event fields."""
        body: dict = {}
        for child in element:
            name = child.tag.split("}")[1]
            if name == "Subject":
                body["subject"] = child.text or ""
            elif name in ("Start", "End"):
                body[name.lower()] = {
                    "dateTime": _from_ews(child.text).strftime("%Y-%m-%dT%H:%M:%S"),
                    "timeZone": "UTC",
                }
            elif name == "Sensitivity":
                body["sensitivity"] = (child.text or "Normal").lower()
            elif name == "LegacyFreeBusyStatus":
                body["showAs"] = (child.text or "Busy").lower()
            elif name == "Body":
                body["body"] = {"contentType": "text", "content": child.text or ""}
            elif name == "ExtendedProperty":
                uri, value = child.find(_t("ExtendedFieldURI")), child.find(_t("Value"))
                if uri.get("PropertyName") == "rfrBooking":
                    body["singleValueExtendedProperties"] = [
                        {"id": f"String {{{PROPERTY_SET}}} Name rfrBooking", "value": value.text or ""}
                    ]
                elif uri.get("PropertyName") == "rfrKey":
                    body["transactionId"] = value.text or ""
        return body

    def op_CreateItem(self, op, acting: str) -> str:
        double = self.owner
        out = ""
        for element in op.find(_m("Items")):
            name = element.tag.split("}")[1]
            if name in ANSWER_NAMES:
                ref = element.find(_t("ReferenceItemId")).get("Id")
                mailbox, event = self._find(acting, ref)
                text = element.find(_t("Body"))
                double.responses.append(
                    {
                        "id": event["id"],
                        "answer": ANSWER_NAMES[name],
                        "comment": (text.text or "") if text is not None else "",
                        "subject": event["subject"],
                    }
                )
                event["responseStatus"] = {"response": ANSWER_NAMES[name]}
                if name == "DeclineItem":
                    double.remove(mailbox, event["id"])
                out += self._ok("CreateItem", "<m:Items/>")
                continue
            folder = op.find(_m("SavedItemFolderId"))
            mailbox = self._mailbox(acting, folder)
            fields = self._fields(element)
            fields.setdefault("organizer", {"emailAddress": {"name": mailbox, "address": mailbox}})
            event = double._new_event(mailbox, fields)
            out += self._ok("CreateItem", f"<m:Items>{self._item_xml(event)}</m:Items>")
        return out

    def op_UpdateItem(self, op, acting: str) -> str:
        double = self.owner
        out = ""
        for change in op.find(_m("ItemChanges")):
            mailbox, event = self._find(acting, change.find(_t("ItemId")).get("Id"))
            for update in change.find(_t("Updates")):
                item = update.find(_t("CalendarItem"))
                if item is not None:
                    for name, value in self._fields(item).items():
                        event[name] = value
            event["changeKey"] = f"ck{next(double.ids)}"
            double._touch(mailbox, event["id"])
            out += self._ok("UpdateItem", f"<m:Items>{self._item_xml(event)}</m:Items>")
        return out

    def op_DeleteItem(self, op, acting: str) -> str:
        double = self.owner
        out = ""
        for ref in op.find(_m("ItemIds")):
            try:
                mailbox, event = self._find(acting, ref.get("Id"))
            except Fault as fault:
                if fault.code != "ErrorItemNotFound":
                    raise
                out += self._err("DeleteItem", fault.code, fault.text)
                continue
            double.remove(mailbox, event["id"])
            out += self._ok("DeleteItem")
        return out

    def op_GetRoomLists(self, op, acting: str) -> str:
        lists = "".join(
            f"<t:Address><t:Name>{escape(self.owner.room_list_names.get(address, address))}</t:Name>"
            f"<t:EmailAddress>{escape(address)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>PublicDL</t:MailboxType>"
            "</t:Address>"
            for address in self.owner.room_lists
        )
        return (
            '<m:GetRoomListsResponse ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f"<m:RoomLists>{lists}</m:RoomLists></m:GetRoomListsResponse>"
        )

    def op_GetRooms(self, op, acting: str) -> str:
        address = op.find(f"{_m('RoomList')}/{_t('EmailAddress')}").text
        rooms = "".join(
            f"<t:Room><t:Id><t:Name>{escape(name)}</t:Name><t:EmailAddress>{escape(mail)}</t:EmailAddress>"
            "<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Id></t:Room>"
            for name, mail in self.owner.room_lists.get(address, [])
        )
        return (
            '<m:GetRoomsResponse ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f"<m:Rooms>{rooms}</m:Rooms></m:GetRoomsResponse>"
        )
