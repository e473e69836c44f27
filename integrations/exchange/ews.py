"""The Calendar Protocol (integrations/base.py) over EWS, for Exchange Server on premises.

exchangelib speaks the SOAP; no autodiscover: the endpoint is RFR_EWS_URL. The service
account opens each room mailbox by ApplicationImpersonation or as a delegate
(RFR_EWS_ACCESS). ErrorServerBusy is waited out for the back-off the server asks for
(bounded); an unreachable server fails at once and the outbox or the next cycle retries.
Sign-in is NTLM, Basic, or Kerberos (Negotiate/SPNEGO through requests-gssapi): the
service account's ticket comes from the ticket cache (KRB5CCNAME), or MIT Kerberos gets
and renews it itself from RFR_EWS_KEYTAB, which is handed over as KRB5_CLIENT_KTNAME.

Inbound reads SyncFolderItems from a stored sync state. A recurring meeting arrives
there as its master only, so a changed master is expanded through a calendar view into
its occurrences (each a booking row); the occurrence ids seen per series are kept in the
state, so an occurrence deleted in Outlook comes out as removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import requests
from django.utils.translation import gettext as _
from exchangelib import (
    BASIC,
    DELEGATE,
    GSSAPI,
    IMPERSONATION,
    NTLM,
    Account,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    FaultTolerance,
)
from exchangelib import errors as ews_errors
from exchangelib.items import SEND_TO_NONE
from exchangelib.protocol import BaseProtocol, Protocol
from exchangelib.version import EXCHANGE_2016, Version

from ..base import IntegrationError, ItemGone, Meeting, RemoteRoom, SyncStateExpired
from .conf import ExchangeSettings

PROPERTY_SET = "6f1c5d0e-3b7a-4c52-9a64-72a9d7f3e0b1"  # the same named property as on Graph
# Longer back-offs fail now (the outbox or the next cycle retries); exchangelib's own first
# wait after a refused connection is 10 s, so an unreachable server fails at once.
MAX_WAIT = 9.0
CONNECTIONS = 4  # exchangelib's session pool for the sync (per endpoint and credentials)
STREAM_EVENTS = ["CreatedEvent", "ModifiedEvent", "DeletedEvent", "MovedEvent"]
ANSWERS = {"accept": "accept", "tentative": "tentatively_accept", "decline": "decline"}
FIELDS = (
    "id",
    "changekey",
    "subject",
    "start",
    "end",
    "organizer",
    "is_cancelled",
    "sensitivity",
    "type",
    "uid",
    "rfr_booking",
    "rfr_key",
)


class BookingRef(ExtendedProperty):
    """``booking-42:v3`` on the events we write (our echo, the reconcile)."""

    property_set_id = PROPERTY_SET
    property_name = "rfrBooking"
    property_type = "String"


class CreateKey(ExtendedProperty):
    """The outbox's key of the create: a retried create finds the event it made."""

    property_set_id = PROPERTY_SET
    property_name = "rfrKey"
    property_type = "String"


for _name, _cls in (("rfr_booking", BookingRef), ("rfr_key", CreateKey)):
    if _name not in {f.name for f in CalendarItem.FIELDS}:
        CalendarItem.register(_name, _cls)


class _TrustingAdapter(requests.adapters.HTTPAdapter):
    """Verifies against RFR_EXCHANGE_CA_FILE on every request: exchangelib's session does
    not pass ``verify``, so REQUESTS_CA_BUNDLE from the environment would win."""

    ca: str | bool = True

    def send(self, request, **kwargs):  # type: ignore[override]
        kwargs["verify"] = self.ca
        return super().send(request, **kwargs)


BaseProtocol.HTTP_ADAPTER_CLS = _TrustingAdapter


class _Patience(FaultTolerance):
    """Waits out ErrorServerBusy up to MAX_WAIT, but takes a 401 as what it is on premises:
    wrong credentials. (exchangelib retries it as throttling; retrying a wrong password
    would lock the service account out of the domain.)"""

    def raise_response_errors(self, response):
        if response.status_code == 401:
            raise ews_errors.UnauthorizedError(f"Invalid credentials for {response.url}")
        return super().raise_response_errors(response)


def _error(exc: Exception, *, kerberos: bool = False) -> IntegrationError:
    if kerberos and isinstance(exc, ews_errors.UnauthorizedError):
        return _kerberos_refused()
    if isinstance(exc, ews_errors.ErrorItemNotFound):
        return ItemGone(_("The event is gone from the calendar."), permanent=True)
    if isinstance(exc, ews_errors.ErrorInvalidSyncStateData):
        return SyncStateExpired(_("The sync state expired; reading everything again."))
    if isinstance(exc, ews_errors.UnauthorizedError):
        return IntegrationError(
            _("Exchange refused the service account's user name or password."), permanent=True
        )
    if isinstance(
        exc,
        ews_errors.ErrorAccessDenied
        | ews_errors.ErrorImpersonateUserDenied
        | ews_errors.ErrorImpersonationDenied,
    ):
        return IntegrationError(_("The service account may not open this mailbox."), permanent=True)
    if isinstance(exc, ews_errors.ErrorNonExistentMailbox | ews_errors.ErrorMailboxStoreUnavailable):
        return IntegrationError(_("The mailbox was not found."), permanent=True)
    if isinstance(exc, ews_errors.ErrorServerBusy | ews_errors.RateLimitError):
        return IntegrationError(_("Exchange is busy; retrying later."))
    if isinstance(
        exc, ews_errors.ErrorTimeoutExpired | ews_errors.TransportError | requests.RequestException
    ):
        return IntegrationError(_("Exchange is not reachable: %s") % type(exc).__name__)
    if isinstance(exc, ews_errors.ResponseMessageError):
        return IntegrationError(_("Exchange refused the change: %s") % exc, permanent=True)
    return IntegrationError(_("Exchange answered: %s") % exc)


def _kerberos_refused() -> IntegrationError:
    """A 401 under Kerberos: requests-gssapi hands the 401 back when it has no ticket to
    offer, so ask GSSAPI whether the service account has one, for the admin's sake."""
    import gssapi

    try:
        gssapi.Credentials(usage="initiate")
    except gssapi.exceptions.GSSError as exc:
        why = exc.gen_message()
    else:
        why = _("Exchange did not accept the ticket (is HTTP/<server> in its keytab?)")
    return IntegrationError(_("Kerberos sign-in failed: %s") % why, permanent=True)


def _utc(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):  # an all-day event: EWSDate
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromtimestamp(value.timestamp(), tz=UTC)


def _meeting(item: CalendarItem, *, remote_id: str = "") -> Meeting:
    organizer = item.organizer
    return Meeting(
        remote_id=remote_id or item.id,
        change_key=item.changekey or "",
        subject=item.subject or "",
        start=_utc(item.start),
        end=_utc(item.end),
        organizer_email=((organizer.email_address if organizer else "") or "").lower(),
        organizer_name=(organizer.name if organizer else "") or "",
        cancelled=bool(item.is_cancelled),
        private=item.sensitivity in {"Private", "Confidential"},
        booking_ref=item.rfr_booking or "",
    )


class EwsCalendar:
    """Speaks EWS through exchangelib; raises IntegrationError (permanent for access, mailbox, payload)."""

    def __init__(self, conf: ExchangeSettings):
        _TrustingAdapter.ca = conf.verify
        self.conf = conf
        if conf.ews_keytab:
            # MIT Kerberos signs the service account in from this keytab whenever the ticket
            # cache has no valid ticket, and renews it before it runs out.
            os.environ["KRB5_CLIENT_KTNAME"] = conf.ews_keytab
        self.config = Configuration(
            service_endpoint=conf.ews_url,
            # Kerberos: the ticket is the credential (exchangelib takes none with GSSAPI).
            credentials=(
                None if conf.ews_auth == "kerberos" else Credentials(conf.ews_username, conf.ews_password)
            ),
            auth_type={"basic": BASIC, "kerberos": GSSAPI}.get(conf.ews_auth, NTLM),
            # A fixed version: no probing requests, no autodiscover.
            version=Version(build=EXCHANGE_2016),
            retry_policy=_Patience(max_wait=MAX_WAIT),
            max_connections=CONNECTIONS,
        )
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self._reads: dict[str, threading.Lock] = {}

    def _lock_of(self, mailbox: str) -> threading.Lock:
        with self._lock:
            return self._reads.setdefault(mailbox.lower(), threading.Lock())

    def account(self, mailbox: str) -> Account:
        key = mailbox.lower()
        with self._lock:
            if key not in self._accounts:
                self._accounts[key] = Account(
                    primary_smtp_address=key,
                    config=self.config,
                    autodiscover=False,
                    access_type=IMPERSONATION if self.conf.ews_access == "impersonation" else DELEGATE,
                    default_timezone=EWSTimeZone("UTC"),
                    locale="de_DE",
                )
            return self._accounts[key]

    def _call(self, work):
        try:
            return work()
        except IntegrationError:
            raise
        except (ews_errors.EWSError, requests.RequestException) as exc:
            raise _error(exc, kerberos=self.conf.ews_auth == "kerberos") from exc

    def _folder(self, mailbox: str):
        return self.account(mailbox).calendar

    def _fill(self, item: CalendarItem, draft) -> None:
        item.subject = draft.subject
        item.body = draft.body
        item.start = EWSDateTime.from_datetime(draft.start.astimezone(UTC))
        item.end = EWSDateTime.from_datetime(draft.end.astimezone(UTC))
        item.sensitivity = "Private" if draft.private else "Normal"
        item.legacy_free_busy_status = "Tentative" if draft.tentative else "Busy"
        item.rfr_booking = draft.booking_ref

    def create(self, mailbox: str, draft, *, key: str) -> tuple[str, str]:
        def work():
            folder = self._folder(mailbox)
            # EWS has no transactionId: the key on the event finds a create that got through.
            done = list(folder.filter(rfr_key=key).only("id", "changekey"))
            if done:
                return done[0].id, done[0].changekey or ""
            item = CalendarItem(account=self.account(mailbox), folder=folder, rfr_key=key)
            self._fill(item, draft)
            item.save(send_meeting_invitations=SEND_TO_NONE)
            return item.id, item.changekey or ""

        return self._call(work)

    def _get(self, mailbox: str, remote_id: str) -> CalendarItem:
        [item] = list(self.account(mailbox).fetch(ids=[(remote_id, None)]))
        if isinstance(item, Exception):
            raise _error(item)
        return item

    def update(self, mailbox: str, remote_id: str, draft) -> str:
        def work():
            item = self._get(mailbox, remote_id)
            self._fill(item, draft)
            item.save(
                update_fields=[
                    "subject",
                    "body",
                    "start",
                    "end",
                    "sensitivity",
                    "legacy_free_busy_status",
                    "rfr_booking",
                ],
                send_meeting_invitations=SEND_TO_NONE,
            )
            return item.changekey or ""

        return self._call(work)

    def delete(self, mailbox: str, remote_id: str) -> None:
        def work():
            try:
                item = self._get(mailbox, remote_id)
            except ItemGone:
                return  # deleted in Outlook already: what we wanted
            item.delete(send_meeting_cancellations=SEND_TO_NONE)

        self._call(work)

    # --- inbound ---
    def changes(
        self, mailbox: str, *, state: str, start: datetime, end: datetime
    ) -> tuple[list[Meeting], str]:
        def work():
            saved = json.loads(state) if state else {}
            series: dict[str, list[str]] = saved.get("series", {}) if state else {}
            folder = self._folder(mailbox)
            found: list[Meeting] = []
            masters: dict[str, str] = {}  # master id -> uid, changed
            gone_masters: list[str] = []
            # The folder object is the account's and remembers the last state: set it, never inherit it.
            folder.item_sync_state = saved.get("sync") or None
            for change, item in folder.sync_items(only_fields=FIELDS):
                if change == "read_flag_change":
                    continue
                if change == "delete":
                    if item.id in series:
                        gone_masters.append(item.id)
                    else:
                        found.append(Meeting(remote_id=item.id, removed=True))
                    continue
                if item.type == "RecurringMaster":
                    masters[item.id] = item.uid
                    continue
                if _in_window(item, start, end):
                    found.append(_meeting(item))
            for master_id in gone_masters:
                found.extend(Meeting(remote_id=rid, removed=True) for rid in series.pop(master_id, []))
            if masters:
                by_uid: dict[str, list[CalendarItem]] = {}
                for occurrence in self._view(mailbox, start, end):
                    if occurrence.type in ("Occurrence", "Exception"):
                        by_uid.setdefault(occurrence.uid, []).append(occurrence)
                for master_id, uid in masters.items():
                    now = by_uid.get(uid, [])
                    ids = [o.id for o in now]
                    found.extend(_meeting(o) for o in now)
                    found.extend(
                        Meeting(remote_id=rid, removed=True)
                        for rid in series.get(master_id, [])
                        if rid not in ids
                    )
                    series[master_id] = ids
            return found, json.dumps({"sync": folder.item_sync_state, "series": series})

        with self._lock_of(mailbox):
            return self._call(work)

    def _view(self, mailbox: str, start: datetime, end: datetime) -> list[CalendarItem]:
        folder = self._folder(mailbox)
        view = folder.view(
            start=EWSDateTime.from_datetime(start.astimezone(UTC)),
            end=EWSDateTime.from_datetime(end.astimezone(UTC)),
        )
        return list(view.only(*FIELDS))

    def meetings(self, mailbox: str, *, start: datetime, end: datetime) -> list[Meeting]:
        return self._call(lambda: [_meeting(item) for item in self._view(mailbox, start, end)])

    def respond(self, mailbox: str, remote_id: str, *, answer: str, comment: str) -> None:
        def work():
            item = self._get(mailbox, remote_id)
            getattr(item, ANSWERS[answer])(body=comment or None)

        self._call(work)

    # --- streaming notifications (EWS only) ---
    def reserve_streams(self, count: int) -> None:
        """Each open stream holds one of exchangelib's pooled connections for its whole
        timeout: grow the pool by ``count``, so the streams and the sync never wait for one."""
        Protocol(config=self.config).max_connections = CONNECTIONS + count

    def stream(self, mailbox: str, *, minutes: int, on_change: Callable[[], None]) -> int:
        """Listen to the room's calendar for up to ``minutes`` (a streaming subscription, then
        GetStreamingEvents on one open connection); ``on_change()`` for each batch of changes.
        The number of batches when Exchange closed the connection at its timeout; an
        IntegrationError when it dropped the subscription or went away (polling goes on)."""

        def work():
            folder = self._folder(mailbox)
            subscription = folder.subscribe_to_streaming(event_types=STREAM_EVENTS)
            batches = 0
            try:
                for note in folder.get_streaming_events(subscription, connection_timeout=minutes):
                    if note.events:
                        batches += 1
                        on_change()
            finally:
                with contextlib.suppress(ews_errors.EWSError, requests.RequestException):
                    folder.unsubscribe(subscription)  # gone already when Exchange dropped it
            return batches

        return self._call(work)

    def rooms(self) -> list[RemoteRoom]:
        """GetRoomLists, then GetRooms for each list (a room in two lists counts once)."""

        def work():
            protocol = Protocol(config=self.config)
            found: dict[str, RemoteRoom] = {}
            for room_list in protocol.get_roomlists():
                for room in protocol.get_rooms(room_list.email_address):
                    email = (room.email_address or "").strip().lower()
                    if email and email not in found:
                        found[email] = RemoteRoom(
                            email=email, name=(room.name or email).strip(), room_list=room_list.name or ""
                        )
            return list(found.values())

        return self._call(work)


def _in_window(item: CalendarItem, start: datetime, end: datetime) -> bool:
    first, last = _utc(item.start), _utc(item.end)
    return first is None or last is None or (last > start and first < end)
