"""Helpers the test files share: moments in Berlin, a frozen clock, a page's text, a bearer
token, the API's error contract, the rows a refused request must not add, and series.

Plain functions (and one fixture factory); the personas and places are fixtures in
tests/conftest.py, the API's day, ``at`` and valid body in tests/bookings/conftest.py.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingEvent, IdempotencyKey, OutboxMessage, Series
from bookings.services.tokens import issue_token

BERLIN = ZoneInfo("Europe/Berlin")


# --- time -----------------------------------------------------------------------------------


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    """Wall-clock time on a day in a zone (Berlin unless told)."""
    return datetime.combine(day, time(hour, minute), tz)


def on_the_day_of(moment: datetime) -> Callable[..., datetime]:
    """``at(hour, minute=0, days=0, tz=None)``: wall-clock times on ``moment``'s day.

    In ``moment``'s own zone unless ``tz`` names another (the same instant's day there);
    ``days`` moves to a later day at the same wall-clock time.
    """

    def at_hour(hour: int, minute: int = 0, days: int = 0, tz: ZoneInfo | None = None) -> datetime:
        base = moment.astimezone(tz) if tz else moment
        return base.replace(hour=hour, minute=minute) + timedelta(days=days)

    return at_hour


def frozen_at(moment: datetime, *, autouse: bool = False):
    """A fixture that stops the clock at ``moment`` and yields the time-machine traveller.

    Bind it to the fixture's name in the test module: ``frozen = frozen_at(NOW)``.
    """

    @pytest.fixture(autouse=autouse)
    def frozen():
        with time_machine.travel(moment, tick=False) as traveller:
            yield traveller

    return frozen


# --- requests and pages ---------------------------------------------------------------------


def text(response) -> str:
    """The page as a user reads it (German unless the test asked for English)."""
    return response.content.decode()


def bearer(user, name: str = "test") -> dict:
    """Headers with a fresh API token of ``user``."""
    _token, raw = issue_token(user=user, name=name)
    return {"Authorization": f"Bearer {raw}"}


def post_booking(client, room, day, start="09:00", end="10:00", title="Planung", key=None, **extra):
    """Send the booking form (/book/) as the dialog does, with a fresh form key unless given."""
    data = {
        "key": key or uuid.uuid4().hex,
        "room": room.pk,
        "date": day.isoformat(),
        "start": start,
        "end": end,
        "title": title,
        **extra,
    }
    return client.post("/book/", data)


# --- the API's error contract --------------------------------------------------------------

# The example the API's German messages give for a time with a zone offset.
EXAMPLE = "2026-05-04T09:00:00+02:00"


def send(client, headers, payload, *, key: str | None = "bad-1", raw: bool = False):
    """POST /api/v1/bookings with an Idempotency-Key (unless None); ``raw`` sends the payload as is."""
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    content = payload if raw else json.dumps(payload)
    return client.post("/api/v1/bookings", content, content_type="application/json", headers=headers)


def field_of(response) -> str | None:
    """The field a 422 names: its own, or its first error's."""
    data = response.json()
    if "field" in data:
        return data["field"]
    return data["errors"][0]["field"]


def assert_clean_error(response, status: int) -> dict:
    """The status, a JSON body with a detail, and nothing a user should not see."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert isinstance(data["detail"], str) and data["detail"]
    body = response.content.decode()
    assert "Traceback" not in body
    assert 'File "' not in body
    assert "psycopg" not in body.lower()
    return data


# --- what a refusal must not write ----------------------------------------------------------


def written() -> tuple[int, int, int]:
    """Rows a refused request must not add: bookings, audit events, outbox messages."""
    return Booking.objects.count(), BookingEvent.objects.count(), OutboxMessage.objects.count()


def written_with_keys() -> dict:
    """Rows a refused API request must not add, idempotency keys included."""
    return {
        "bookings": Booking.objects.count(),
        "events": BookingEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "keys": IdempotencyKey.objects.count(),
    }


def snapshot() -> tuple:
    """Everything a refused series edit must leave as it was."""
    return (
        [
            (b.pk, b.span, b.room_id, b.title, b.version, b.status, b.series_id)
            for b in Booking.objects.order_by("pk")
        ],
        [(s.pk, s.rrule, s.title, s.local_start) for s in Series.objects.order_by("pk")],
        BookingEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


# --- series ---------------------------------------------------------------------------------

# The series-edit tests stop the clock on a fixed winter day before their series: the clock
# changes of 2027 (28 March, 31 October) then lie ahead of it, whatever day the suite runs.
# Their series start on the Monday after.
BEFORE_THE_SERIES = datetime(2027, 1, 4, 8, 0, tzinfo=BERLIN)
MONDAY = date(2027, 1, 11)


def make_series(room, organizer, start, rrule, minutes=60, **extra):
    """A "Jour fixe" series through the service; its SeriesResult."""
    return services.create_series(
        room=room,
        organizer=organizer,
        title="Jour fixe",
        start=start,
        end=start + timedelta(minutes=minutes),
        rrule=rrule,
        **extra,
    )


def dates_of(series: Series, status=Booking.ACTIVE) -> list[Booking]:
    """The series' bookings in one of the statuses, in time order."""
    return list(Booking.objects.filter(series=series, status__in=status).order_by("span"))


def local_times(booking: Booking) -> tuple[str, str]:
    """Start and end of a booking on a Berlin clock, "HH:MM"."""
    return f"{booking.start.astimezone(BERLIN):%H:%M}", f"{booking.end.astimezone(BERLIN):%H:%M}"


def outbox_payloads(topic: str) -> list[dict]:
    """The payloads of one outbox topic (one message per channel: the first channel's)."""
    channel = OutboxMessage.objects.order_by("pk").values_list("channel", flat=True).first()
    return [m.payload for m in OutboxMessage.objects.filter(topic=topic, channel=channel).order_by("pk")]


def patch_series(client, headers, series, body):
    """PATCH /api/v1/series/{id} with a JSON body."""
    return client.patch(f"/api/v1/series/{series.pk}", body, content_type="application/json", headers=headers)


# --- races through real gunicorn ----------------------------------------------------------


def send_together(base: str, method: str, calls: list[tuple[str, dict, dict]]) -> list[httpx.Response]:
    """Send every (path, headers, body) at once; returns the responses in the order of ``calls``."""
    return send_all(base, [(method, *call) for call in calls])


def send_all(base: str, calls: list[tuple[str, str, dict, dict | None]]) -> list[httpx.Response]:
    """Send every (method, path, headers, body) at once; the responses in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)

    def client(i: int, method: str, path: str, headers: dict, body: dict | None) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            try:
                # Connect (keep-alive) before the barrier so only the request is left to race.
                http.get("/healthz").raise_for_status()
            finally:
                barrier.wait(timeout=30)
            responses[i] = http.request(method, path, headers=headers, json=body)

    threads = [threading.Thread(target=client, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in responses), "a client got no answer"
    return responses


def booking_channels() -> list[str]:
    """The outbox channels that take booking and series topics (RFR_OUTBOX_TOPICS), sorted."""
    from django.conf import settings

    from bookings import outbox

    return sorted(c for c in settings.RFR_OUTBOX_CHANNELS if outbox.takes(c, "booking.created"))
