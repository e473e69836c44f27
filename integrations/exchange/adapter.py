"""The Calendar Protocol (integrations/base.py) over Microsoft Graph, and the choice of back end."""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.conf import settings

from ..base import Calendar, EventDraft, ItemGone, Meeting, RemoteRoom
from .conf import ExchangeSettings
from .graph import PROPERTY_ID, GraphClient, graph_time, utc

ANSWERS = {"accept": "accept", "tentative": "tentativelyAccept", "decline": "decline"}


def _meeting(item: dict) -> Meeting:
    if "@removed" in item:
        return Meeting(remote_id=item["id"], removed=True)
    organizer = (item.get("organizer") or {}).get("emailAddress") or {}
    ref = next(
        (
            p.get("value", "")
            for p in item.get("singleValueExtendedProperties", [])
            if p.get("id") == PROPERTY_ID
        ),
        "",
    )
    return Meeting(
        remote_id=item["id"],
        change_key=item.get("changeKey", ""),
        subject=item.get("subject") or "",
        start=utc(item.get("start")),
        end=utc(item.get("end")),
        organizer_email=(organizer.get("address") or "").lower(),
        organizer_name=organizer.get("name") or "",
        cancelled=bool(item.get("isCancelled")),
        private=item.get("sensitivity") in {"private", "confidential"},
        booking_ref=ref,
    )


class GraphCalendar:
    def __init__(self, conf: ExchangeSettings):
        self.client = GraphClient(conf)

    def _body(self, draft: EventDraft) -> dict:
        return {
            "subject": draft.subject,
            "body": {"contentType": "text", "content": draft.body},
            "start": graph_time(draft.start),
            "end": graph_time(draft.end),
            "showAs": "tentative" if draft.tentative else "busy",
            "sensitivity": "private" if draft.private else "normal",
            "organizer": {"emailAddress": {"name": draft.organizer_name, "address": draft.organizer_email}},
            "singleValueExtendedProperties": [{"id": PROPERTY_ID, "value": draft.booking_ref}],
        }

    def create(self, mailbox: str, draft: EventDraft, *, key: str) -> tuple[str, str]:
        # transactionId: Exchange answers a retried create with the event it already made.
        body = {**self._body(draft), "transactionId": key}
        item = self.client.call("POST", self.client.url(mailbox, "calendar/events"), json=body)
        return item["id"], item.get("changeKey", "")

    def update(self, mailbox: str, remote_id: str, draft: EventDraft) -> str:
        item = self.client.call(
            "PATCH", self.client.url(mailbox, f"events/{remote_id}"), json=self._body(draft)
        )
        return item.get("changeKey", "")

    def delete(self, mailbox: str, remote_id: str) -> None:
        # Deleted in Outlook already: what we wanted.
        with contextlib.suppress(ItemGone):
            self.client.call("DELETE", self.client.url(mailbox, f"events/{remote_id}"))

    def changes(
        self, mailbox: str, *, state: str, start: datetime, end: datetime
    ) -> tuple[list[Meeting], str]:
        if state:
            url, params = state, None
        else:
            url = self.client.url(mailbox, "calendarView/delta")
            params = {
                "startDateTime": graph_time(start)["dateTime"] + "Z",
                "endDateTime": graph_time(end)["dateTime"] + "Z",
            }
        found: list[Meeting] = []
        while True:
            page = self.client.call("GET", url, params=params)
            found.extend(_meeting(item) for item in page.get("value", []))
            if "@odata.nextLink" in page:
                url, params = page["@odata.nextLink"], None
                continue
            return found, page.get("@odata.deltaLink", "")

    def meetings(self, mailbox: str, *, start: datetime, end: datetime) -> list[Meeting]:
        url = self.client.url(mailbox, "calendarView")
        params: dict | None = {
            "startDateTime": graph_time(start)["dateTime"] + "Z",
            "endDateTime": graph_time(end)["dateTime"] + "Z",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{PROPERTY_ID}')",
            "$top": "100",
        }
        found: list[Meeting] = []
        while True:
            page = self.client.call("GET", url, params=params)
            found.extend(_meeting(item) for item in page.get("value", []))
            if "@odata.nextLink" not in page:
                return found
            url, params = page["@odata.nextLink"], None

    def respond(self, mailbox: str, remote_id: str, *, answer: str, comment: str) -> None:
        self.client.call(
            "POST",
            self.client.url(mailbox, f"events/{remote_id}/{ANSWERS[answer]}"),
            json={"comment": comment, "sendResponse": True},
        )

    # --- change notifications (Graph only) ---
    def subscribe(self, mailbox: str, *, url: str, client_state: str, expires: datetime) -> str:
        """A subscription on the room's events; Graph first checks ``url`` (validation handshake)."""
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": url,
            # Lifecycle notifications (removed, reauthorization required, missed) to the same URL.
            "lifecycleNotificationUrl": url,
            "resource": f"users/{mailbox}/events",
            "expirationDateTime": graph_time(expires)["dateTime"] + "Z",
            "clientState": client_state,
        }
        return self.client.call("POST", f"{self.client.conf.graph_api_url}/subscriptions", json=body)["id"]

    def renew(self, subscription_id: str, *, expires: datetime) -> dict:
        """Push the expiry out (this also reauthorizes it); the subscription as Graph has it
        now. ItemGone when Graph no longer has the subscription."""
        return self.client.call(
            "PATCH",
            f"{self.client.conf.graph_api_url}/subscriptions/{subscription_id}",
            json={"expirationDateTime": graph_time(expires)["dateTime"] + "Z"},
        )

    def unsubscribe(self, subscription_id: str) -> None:
        with contextlib.suppress(ItemGone):
            self.client.call("DELETE", f"{self.client.conf.graph_api_url}/subscriptions/{subscription_id}")

    def rooms(self) -> list[RemoteRoom]:
        """GET /places/microsoft.graph.room (Place.Read.All), every page."""
        url: str = f"{self.client.conf.graph_api_url}/places/microsoft.graph.room"
        params: dict | None = {"$top": "100"}
        found: dict[str, RemoteRoom] = {}
        while True:
            page = self.client.call("GET", url, params=params)
            for place in page.get("value", []):
                email = (place.get("emailAddress") or "").strip().lower()
                if email and email not in found:
                    found[email] = RemoteRoom(
                        email=email,
                        name=(place.get("displayName") or email).strip(),
                        capacity=place.get("capacity") or None,
                        room_list=place.get("building") or "",
                    )
            if "@odata.nextLink" not in page:
                return list(found.values())
            url, params = page["@odata.nextLink"], None


_made: dict[ExchangeSettings, Calendar] = {}


def calendar() -> Calendar | None:
    """The configured back end, or None when the sync is off.

    One per configuration and process: it keeps its token and its connections.
    """
    conf = getattr(settings, "RFR_EXCHANGE", None)
    if conf is None:
        return None
    if conf not in _made:
        _made.clear()
        if conf.backend == "ews":
            from .ews import EwsCalendar  # exchangelib loads only where EWS is used

            _made[conf] = EwsCalendar(conf)
        else:
            _made[conf] = GraphCalendar(conf)
    return _made[conf]
