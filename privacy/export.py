"""One person's data (Art. 15 GDPR), streamed as JSON or as a zip of CSV files.

Each section is a query read through a server-side cursor in chunks (``iterator``), and
each format writes as it reads, so a person with a hundred thousand bookings costs the
server one chunk of memory, and the number of queries does not grow with the rows.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from bookings.models import ApiToken, Booking, BookingEvent, CalendarFeed, Delegation, Series
from orders.models import DayListLook, Order
from visitors.models import Visitor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FORMAT = "raumfuerraum-personal-data/1"
CHUNK = 500
# The streams hand the web server pieces of about this size.
FLUSH_AT = 64 * 1024


@dataclass(frozen=True)
class Section:
    name: str
    # (column, lookup) pairs; the lookup is what values_list reads.
    columns: tuple[tuple[str, str], ...]
    query: Callable[[User], QuerySet]

    def rows(self, user: User) -> Iterator[tuple]:
        lookups = [lookup for _column, lookup in self.columns]
        return self.query(user).values_list(*lookups).iterator(chunk_size=CHUNK)

    @property
    def header(self) -> list[str]:
        return [column for column, _lookup in self.columns]


def _bookings(user: User) -> QuerySet:
    return Booking.objects.filter(Q(organizer=user) | Q(booked_by=user)).order_by("span", "pk")


def _attended(user: User) -> QuerySet:
    # Attendees are free text, usually e-mail addresses; someone without one is in none.
    if not user.email:
        return Booking.objects.none()
    return (
        Booking.objects.filter(attendees__contains=[user.email])
        .exclude(Q(organizer=user) | Q(booked_by=user))
        .order_by("span", "pk")
    )


SECTIONS = (
    Section(
        "person",
        (
            ("username", "username"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("email", "email"),
            ("active", "is_active"),
            ("date_joined", "date_joined"),
            ("last_login", "last_login"),
        ),
        lambda user: get_user_model().objects.filter(pk=user.pk),
    ),
    Section(
        "bookings",
        (
            ("id", "pk"),
            ("room", "room__name"),
            ("start", "span__startswith"),
            ("end", "span__endswith"),
            ("title", "title"),
            ("attendees", "attendees"),
            ("private", "private"),
            ("status", "status"),
            ("source", "source"),
            ("organizer", "organizer__username"),
            ("booked_by", "booked_by__username"),
            ("series", "series_id"),
            ("checked_in_at", "checked_in_at"),
            ("cancelled_at", "cancelled_at"),
            ("created_at", "created_at"),
        ),
        _bookings,
    ),
    Section(
        "attended_bookings",
        (
            ("id", "pk"),
            ("room", "room__name"),
            ("start", "span__startswith"),
            ("end", "span__endswith"),
            ("status", "status"),
            ("organizer", "organizer__username"),
        ),
        _attended,
    ),
    Section(
        "series",
        (
            ("id", "pk"),
            ("room", "room__name"),
            ("title", "title"),
            ("rrule", "rrule"),
            ("first_start_local", "local_start"),
            ("duration", "duration"),
            ("time_zone", "time_zone"),
            ("private", "private"),
            ("attendees", "attendees"),
            ("cancelled_at", "cancelled_at"),
            ("created_at", "created_at"),
        ),
        lambda user: Series.objects.filter(organizer=user).order_by("pk"),
    ),
    Section(
        "orders",
        (
            ("id", "pk"),
            ("booking", "booking_id"),
            ("item", "item__name"),
            ("quantity", "quantity"),
            ("price", "price"),
            ("amount", "amount"),
            ("currency", "currency"),
            ("deliver_at", "deliver_at"),
            ("note", "note"),
            ("cost_centre", "cost_centre__code"),
            ("status", "status"),
            ("ordered_by", "ordered_by__username"),
            ("created_at", "created_at"),
            ("cancelled_at", "cancelled_at"),
        ),
        lambda user: Order.objects.filter(Q(ordered_by=user) | Q(booking__organizer=user)).order_by("pk"),
    ),
    Section(
        "visitors",
        (
            ("visit", "visit_id"),
            ("building", "visit__building__name"),
            ("start", "visit__start"),
            ("end", "visit__end"),
            ("booking", "visit__booking_id"),
            ("name", "name"),
            ("company", "company"),
            ("email", "email"),
            ("phone", "phone"),
            ("licence_plate", "licence_plate"),
            ("notes", "notes"),
            ("status", "status"),
            ("arrived_at", "arrived_at"),
            ("left_at", "left_at"),
            ("anonymised_at", "anonymised_at"),
        ),
        lambda user: Visitor.objects.filter(visit__host=user).order_by("visit__start", "pk"),
    ),
    Section(
        "calendar_subscriptions",
        (
            ("prefix", "prefix"),
            ("room", "room__name"),
            ("created_at", "created_at"),
            ("last_used_at", "last_used_at"),
            ("revoked_at", "revoked_at"),
        ),
        lambda user: CalendarFeed.objects.filter(user=user).order_by("pk"),
    ),
    Section(
        "api_tokens",
        (
            ("prefix", "prefix"),
            ("name", "name"),
            ("created_at", "created_at"),
            ("last_used_at", "last_used_at"),
            ("revoked_at", "revoked_at"),
        ),
        lambda user: ApiToken.objects.filter(user=user).order_by("pk"),
    ),
    Section(
        "delegations",
        (
            ("for_whom", "principal__username"),
            ("delegate", "delegate__username"),
            ("group", "group__name"),
            ("created_at", "created_at"),
        ),
        lambda user: Delegation.objects.filter(Q(principal=user) | Q(delegate=user)).order_by("pk"),
    ),
    Section(
        "sign_in_failures",
        (
            ("at", "attempt_time"),
            ("address", "ip_address"),
            ("browser", "user_agent"),
            ("locked_out", "locked_out"),
        ),
        lambda user: AccessFailureLog.objects.filter(username=user.get_username()).order_by("pk"),
    ),
    Section(
        "sign_in_lockouts",
        (
            ("at", "attempt_time"),
            ("address", "ip_address"),
            ("browser", "user_agent"),
            ("failures", "failures_since_start"),
        ),
        lambda user: AccessAttempt.objects.filter(username=user.get_username()).order_by("pk"),
    ),
    Section(
        "day_list_looks",
        (("provider", "provider__name"), ("last_look", "seen_at")),
        lambda user: DayListLook.objects.filter(user=user).order_by("pk"),
    ),
    Section(
        "booking_changes_made",
        (("booking", "booking_id"), ("kind", "kind"), ("at", "at")),
        lambda user: BookingEvent.objects.filter(actor=user).order_by("at", "pk"),
    ),
)


def plain(value):
    """A value as JSON has it: times ISO 8601 with offset, money as a decimal string."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds() // 60)  # minutes
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def json_stream(user: User, *, now: datetime, sections: Iterable[Section] = SECTIONS) -> Iterator[bytes]:
    """The person's data as one JSON object, written piece by piece."""
    buffer = [json.dumps({"format": FORMAT, "exported_at": now.isoformat()})[:-1]]
    size = 0
    for section in sections:
        buffer.append(f", {json.dumps(section.name)}: [")
        header = section.header
        first = True
        for row in section.rows(user):
            piece = ("" if first else ", ") + json.dumps(
                dict(zip(header, map(plain, row), strict=True)), ensure_ascii=False
            )
            first = False
            buffer.append(piece)
            size += len(piece)
            if size >= FLUSH_AT:
                yield "".join(buffer).encode()
                buffer, size = [], 0
        buffer.append("]")
    buffer.append("}\n")
    yield "".join(buffer).encode()


class _Pipe(io.RawIOBase):
    """A write-only stream that hands on what was written: zipfile writes, we yield."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def zip_stream(user: User, *, now: datetime, sections: Iterable[Section] = SECTIONS) -> Iterator[bytes]:
    """A zip with one CSV file per section (UTF-8 with BOM, so Excel reads umlauts)."""
    pipe = _Pipe()
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            info = zipfile.ZipInfo(f"{section.name}.csv", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with (
                archive.open(info, mode="w") as member,
                io.TextIOWrapper(member, encoding="utf-8-sig", newline="") as text,
            ):
                writer = csv.writer(text)
                writer.writerow(section.header)
                for row in section.rows(user):
                    writer.writerow([_cell(v) for v in row])
                    if len(pipe.chunks) > 16:
                        yield pipe.take()
            yield pipe.take()
    yield pipe.take()
