"""Shapes of the API's requests and answers (the OpenAPI document is built from them)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ..spans import FIRST_DAY, LAST_DAY, day_in_range

# What PostgreSQL stores: ids are bigint; counts and offsets fit an int.
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1

# The typed, bounded parsing every parameter and body field goes through. Each type says
# its limits in the OpenAPI document, so clients and fuzzers know them.

Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
Offset = Annotated[int, Field(ge=0, le=INT_MAX)]

# Text that PostgreSQL can store: no NUL, and (refused by the pattern match too) no lone
# UTF-16 surrogates, which a JSON string may spell but UTF-8 cannot.
PLAIN = r"^[^\x00]*$"


def Text(**limits):  # reads as a type
    return Annotated[str, Field(pattern=PLAIN, **limits)]


# ISO 8601 with an offset, and nothing else: pydantic would also take a number, or a
# numeric string, as Unix time.
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value):
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not ISO_DAY.match(value):
        raise PydanticCustomError("datetime_parsing", "ISO 8601 text expected")
    return value


# The offsets clocks use (UTC-12 to UTC+14); PostgreSQL refuses beyond 15:59 either way.
MAX_OFFSET = timedelta(hours=14)


def _on_the_calendar(value: datetime) -> datetime:
    if abs(value.utcoffset()) > MAX_OFFSET:
        raise PydanticCustomError("offset_out_of_range", "offset beyond 14:00")
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:
        day = value.date()
    if day > LAST_DAY:
        raise PydanticCustomError("datetime_too_late", "too far in the future")
    if not day_in_range(day):
        raise PydanticCustomError("date_out_of_range", "outside the calendar")
    return value


def _iso_day(value):
    if isinstance(value, date) or (isinstance(value, str) and ISO_DAY.fullmatch(value)):
        return value
    raise PydanticCustomError("date_parsing", "ISO 8601 date expected")


def _day_on_the_calendar(value: date) -> date:
    if not day_in_range(value):
        raise PydanticCustomError("date_out_of_range", "outside the calendar")
    return value


IsoDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    AfterValidator(_on_the_calendar),
    Field(
        json_schema_extra={"format": "date-time", "pattern": r"^\d{4}-\d{2}-\d{2}"},
        description=f"ISO 8601 with an offset (at most ±14:00), between {FIRST_DAY} and {LAST_DAY}",
    ),
]
Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    AfterValidator(_day_on_the_calendar),
    Field(description=f"ISO 8601 date between {FIRST_DAY} and {LAST_DAY}"),
]


class Strict(Schema):
    # A misspelt field is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class Error(Schema):
    detail: str
    field: str | None = None


class PlaceRef(Schema):
    id: int
    name: str


class SiteRef(PlaceRef):
    time_zone: str


class RoomOut(Schema):
    id: int
    name: str
    capacity: int
    bookable: bool
    equipment: list[str]
    parts: list[int] = Field(
        description="A combined room's parts (room ids), booked with it; empty for a plain room"
    )
    floor: PlaceRef
    building: PlaceRef
    site: SiteRef


class BookingOut(Schema):
    id: int
    room: int
    title: str | None = Field(description="null when the booking is private and not yours")
    start: AwareDatetime
    end: AwareDatetime
    status: str
    organizer: str | None = Field(description="null when the booking is private and not yours")
    private: bool
    series: int | None
    version: int


class ConflictOut(Schema):
    detail: str
    conflicts: list[BookingOut]


Title = Text(min_length=1, max_length=200)
Attendee = Text(max_length=254)
Rrule = Text(min_length=1, max_length=500)


class BookingIn(Strict):
    room: Id
    title: Title
    start: IsoDatetime
    end: IsoDatetime
    private: bool = False
    attendees: list[Attendee] = Field(default_factory=list, max_length=200)
    invite_attendees: bool = Field(
        default=False,
        description="Mail the attendees (user names or mail addresses) an iCalendar invitation, "
        "and later its updates and cancellation.",
    )
    on_behalf_of: Text(min_length=1, max_length=150) | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Book for someone else (their username): they are the organizer, you are recorded as "
        "the one who booked. Allowed for their delegates, room managers and facility admins; 403 otherwise.",
    )


class BookingPatch(Strict):
    room: Id | None = None
    title: Title | None = None
    start: IsoDatetime | None = None
    end: IsoDatetime | None = None
    private: bool | None = None
    attendees: list[Attendee] | None = Field(default=None, max_length=200)
    invite_attendees: bool | None = None


class SeriesIn(BookingIn):
    rrule: Rrule = Field(examples=["FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"])
    skip_conflicts: bool = False


class SkippedOut(Schema):
    start: AwareDatetime
    end: AwareDatetime
    conflicts: list[BookingOut]


class SeriesRef(Schema):
    id: int
    rrule: str
    time_zone: str


class SeriesOut(Schema):
    series: SeriesRef
    created: list[BookingOut]
    skipped: list[SkippedOut]


class ReasonOut(Schema):
    rule: str
    message: str


class KeptOut(Schema):
    booking: BookingOut
    reason: ReasonOut


class SeriesCancelOut(Schema):
    series: SeriesRef
    cancelled: list[BookingOut]
    kept: list[KeptOut] = Field(description="dates that stay: their room's cancellation cut-off has passed")


class SeriesConflictOut(Schema):
    detail: str
    conflicts: list[BookingOut]
    occurrences: list[SkippedOut]


class BusyOut(Schema):
    id: int
    start: AwareDatetime
    end: AwareDatetime
    status: str
    title: str | None


class RoomDayOut(Schema):
    id: int
    name: str
    capacity: int
    building: int
    busy: list[BusyOut]


class AvailabilityOut(Schema):
    date: date
    rooms: list[RoomDayOut]


class CheckOut(Schema):
    allowed: bool
    reasons: list[ReasonOut]
    needs_approval: bool
    requires_check_in: bool


class SeriesPatch(Strict):
    scope: Text(max_length=20) = Field(
        description='"all": every date not yet started; "following": from_booking and later'
    )
    from_booking: Id | None = None
    title: Title | None = None
    start_time: Text(max_length=8) | None = Field(default=None, examples=["09:30"])
    end_time: Text(max_length=8) | None = Field(default=None, examples=["10:30"])
    room: Id | None = None
    private: bool | None = None
    attendees: list[Attendee] | None = Field(default=None, max_length=200)


class SeriesEditOut(Schema):
    series: SeriesRef
    updated: list[BookingOut]
    split_from: SeriesRef | None = Field(description="the series keeping the earlier dates after a split")


class RepeatIn(Strict):
    rrule: Rrule = Field(examples=["FREQ=WEEKLY;UNTIL=20270630"])
    skip_conflicts: bool = False


# --- one meeting in several rooms ----------------------------------------------------


class MeetingIn(Strict):
    rooms: list[Id] = Field(
        min_length=2, max_length=20, description="the rooms, booked together or not at all"
    )
    title: Title
    start: IsoDatetime
    end: IsoDatetime
    approval: Literal["wait", "go_ahead"] = Field(
        default="wait",
        description='Where a room needs a manager\'s approval: "wait" holds the other rooms until it is '
        'decided (a refusal lets them all go), "go_ahead" books them at once whatever is decided.',
    )
    private: bool = False
    attendees: list[Attendee] = Field(default_factory=list, max_length=200)
    invite_attendees: bool = False
    on_behalf_of: Text(min_length=1, max_length=150) | None = Field(  # type: ignore[valid-type]
        default=None, description="Book for someone else (their username), as for a single booking."
    )


class MeetingPatch(Strict):
    start: IsoDatetime
    end: IsoDatetime


class MeetingRoomOut(Schema):
    room: RoomOut
    waits: bool = Field(description="pending only until another room of the meeting is approved")
    local_start: AwareDatetime = Field(description="the start on the clocks of the room's site")
    local_end: AwareDatetime
    booking: BookingOut


class MeetingOut(Schema):
    id: int
    approval: str
    cancelled: bool
    version: int = Field(description="rises with every change to any room; send it as If-Match")
    rooms: list[MeetingRoomOut]


class MeetingRoomsOut(Schema):
    enough: bool = Field(description="false when fewer rooms than asked for are free")
    rooms: list[RoomOut]
