"""Shapes of the API's requests and answers (the OpenAPI document is built from them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError


def _iso_text(value):
    # pydantic would also take a number as Unix time; the API speaks ISO 8601 only.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("datetime_parsing", "ISO 8601 text expected")
    return value


IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


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


class BookingIn(Strict):
    room: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    start: IsoDatetime
    end: IsoDatetime
    private: bool = False
    attendees: list[str] = Field(default_factory=list, max_length=200)


class BookingPatch(Strict):
    room: int | None = Field(default=None, ge=1)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    start: IsoDatetime | None = None
    end: IsoDatetime | None = None
    private: bool | None = None
    attendees: list[str] | None = Field(default=None, max_length=200)


class SeriesIn(BookingIn):
    rrule: str = Field(min_length=1, max_length=500, examples=["FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"])
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
    scope: str = Field(
        max_length=20, description='"all": every date not yet started; "following": from_booking and later'
    )
    from_booking: int | None = Field(default=None, ge=1)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    start_time: str | None = Field(default=None, max_length=8, examples=["09:30"])
    end_time: str | None = Field(default=None, max_length=8, examples=["10:30"])
    room: int | None = Field(default=None, ge=1)
    private: bool | None = None
    attendees: list[str] | None = Field(default=None, max_length=200)


class SeriesEditOut(Schema):
    series: SeriesRef
    updated: list[BookingOut]
    split_from: SeriesRef | None = Field(description="the series keeping the earlier dates after a split")


class RepeatIn(Strict):
    rrule: str = Field(min_length=1, max_length=500, examples=["FREQ=WEEKLY;UNTIL=20270630"])
    skip_conflicts: bool = False
