"""Bookings and series: create (idempotently), read, change, cancel."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query
from pydantic import WithJsonSchema

from .. import services
from ..errors import InvalidBooking
from ..models import Booking, Room, Series
from ..selectors.bookings import user_bookings
from ..services.idempotency import MAX_KEY_LENGTH, request_hash, run_once
from . import api
from .schemas import (
    BookingIn,
    BookingOut,
    BookingPatch,
    ConflictOut,
    Error,
    Id,
    IsoDatetime,
    Offset,
    RepeatIn,
    SeriesCancelOut,
    SeriesConflictOut,
    SeriesEditOut,
    SeriesIn,
    SeriesOut,
    SeriesPatch,
    Text,
)
from .serialize import booking_dict, occurrence_dict

MAX_PAGE = 500
# The headers' limits are documented here and enforced by the service and the view, which
# name them in their own words ("1 to 255 characters").
IdempotencyKey = Annotated[
    Annotated[
        str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"})
    ]
    | None,
    Header(
        alias="Idempotency-Key",
        description="any text that names this write; a retry with the same key gets the first answer",
    ),
]
IfMatch = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "pattern": r'^(W/)?"?[0-9]{1,18}"?$'})] | None,
    Header(alias="If-Match", description="the version you read (BookingOut.version)"),
]


def _room(room_id: int) -> Room:
    room = Room.objects.select_related("floor__building__site").filter(pk=room_id).first()
    if room is None:
        raise InvalidBooking(_("There is no room with this id."), field="room")
    return room


def _principal(username: str):
    principal = get_user_model().objects.filter(username=username).first()
    if principal is None:
        raise InvalidBooking(_("There is no person with this user name."), field="on_behalf_of")
    return principal


def _idempotent(request, key: str | None, payload: dict, action) -> JsonResponse:
    """Run the write once per Idempotency-Key; a retry gets the first answer back."""
    if key is None:
        status, body = action()
        return JsonResponse(body, status=status)
    fingerprint = request_hash(request.method, request.path, payload)
    outcome = run_once(user=request.auth, key=key, fingerprint=fingerprint, action=action)
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@api.post(
    "/bookings", response={201: BookingOut, 403: Error, 409: ConflictOut, 422: Error}, tags=["bookings"]
)
def create_booking(request, payload: BookingIn, idempotency_key: IdempotencyKey = None):
    """Book a room. Send an Idempotency-Key so a retry never books twice."""
    user = request.auth

    def action():
        booking = services.create_booking(
            room=_room(payload.room),
            organizer=_principal(payload.on_behalf_of) if payload.on_behalf_of else user,
            actor=user,
            title=payload.title,
            start=payload.start,
            end=payload.end,
            private=payload.private,
            attendees=payload.attendees,
            invite_attendees=payload.invite_attendees,
            source=Booking.Source.API,
        )
        return 201, booking_dict(booking, user)

    return _idempotent(request, idempotency_key, payload.model_dump(mode="json"), action)


@api.get("/bookings", response=list[BookingOut], tags=["bookings"])
def my_bookings(
    request,
    from_: IsoDatetime | None = Query(None, alias="from"),
    status: list[Text(max_length=20)] = Query([]),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: Offset = Query(0),
):
    """The caller's bookings and those they booked for others, by start; by default those not yet ended."""
    qs = user_bookings(user=request.auth, upcoming_from=from_ or timezone.now())
    if status:
        qs = qs.filter(status__in=status)
    return JsonResponse([booking_dict(b, request.auth) for b in qs[offset : offset + limit]], safe=False)


def _booking(booking_id: Id) -> Booking:
    return get_object_or_404(Booking.objects.select_related("organizer", "room"), pk=booking_id)


@api.get("/bookings/{booking_id}", response={200: BookingOut, 404: Error}, tags=["bookings"])
def get_booking(request, booking_id: Id):
    return JsonResponse(booking_dict(_booking(booking_id), request.auth))


@api.patch(
    "/bookings/{booking_id}",
    response={200: BookingOut, 403: Error, 404: Error, 409: ConflictOut, 412: Error, 422: Error},
    tags=["bookings"],
)
def update_booking(request, booking_id: Id, payload: BookingPatch, if_match: IfMatch = None):
    """Move, resize or rename. If-Match: the version you read, to refuse lost updates."""
    booking = _booking(booking_id)
    expected = None
    if if_match is not None:
        try:
            expected = int(if_match.strip().strip('"').removeprefix("W/").strip('"'))
        except ValueError:
            raise InvalidBooking(
                _("If-Match must be the booking's version number."), field="If-Match"
            ) from None
    changes = payload.model_dump(exclude_unset=True)
    if any(v is None for v in changes.values()):
        field = next(k for k, v in changes.items() if v is None)
        raise InvalidBooking(_("This field cannot be null."), field=field)
    if "room" in changes:
        changes["room"] = _room(changes["room"])
    booking = services.update_booking(
        booking=booking, actor=request.auth, expected_version=expected, **changes
    )
    return JsonResponse(booking_dict(booking, request.auth))


@api.delete(
    "/bookings/{booking_id}",
    response={200: BookingOut, 403: Error, 404: Error, 422: Error},
    tags=["bookings"],
)
def cancel_booking(request, booking_id: Id):
    """Cancel; the booking stays on record with status cancelled. Repeating it is harmless."""
    booking = services.cancel_booking(booking=_booking(booking_id), actor=request.auth)
    return JsonResponse(booking_dict(booking, request.auth))


@api.delete(
    "/series/{series_id}",
    response={200: SeriesCancelOut, 403: Error, 404: Error},
    tags=["series"],
)
def cancel_series(request, series_id: Id):
    """Cancel every upcoming date of a series; dates past their cancellation cut-off stay, and are listed.

    403 with the reason when the cut-off keeps every remaining date (then nothing changes).
    """
    series = get_object_or_404(Series, pk=series_id)
    result = services.cancel_series(series=series, actor=request.auth)
    return JsonResponse(
        {
            "series": _series_ref(series),
            "cancelled": [booking_dict(b, request.auth) for b in result.cancelled],
            "kept": [
                {"booking": booking_dict(b, request.auth), "reason": reason.as_dict()}
                for b, reason in result.kept
            ],
        }
    )


@api.post(
    "/series", response={201: SeriesOut, 403: Error, 409: SeriesConflictOut, 422: Error}, tags=["series"]
)
def create_series(request, payload: SeriesIn, idempotency_key: IdempotencyKey = None):
    """Book a recurring slot (RRULE in the site's local time); all or nothing unless skip_conflicts.

    ``on_behalf_of`` books the series for someone else, as for a single booking.
    """
    user = request.auth

    def action():
        result = services.create_series(
            room=_room(payload.room),
            organizer=_principal(payload.on_behalf_of) if payload.on_behalf_of else user,
            actor=user,
            title=payload.title,
            start=payload.start,
            end=payload.end,
            rrule=payload.rrule,
            skip_conflicts=payload.skip_conflicts,
            private=payload.private,
            attendees=payload.attendees,
            invite_attendees=payload.invite_attendees,
            source=Booking.Source.API,
        )
        series = result.series
        return 201, {
            "series": {"id": series.pk, "rrule": series.rrule, "time_zone": series.time_zone},
            "created": [booking_dict(b, user) for b in result.created],
            "skipped": [occurrence_dict(o, user) for o in result.skipped],
        }

    return _idempotent(request, idempotency_key, payload.model_dump(mode="json"), action)


# --- editing a series, and a booking that becomes one ---------------------------------


def _wall_clock(value: str | None, field: str):
    """'HH:MM' as a time of day in the site's zone."""
    if value is None:
        return None
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is not None or len(value) != 5:
        raise InvalidBooking(_("Give the time as HH:MM, e.g. 09:30."), field=field)
    return parsed


def _series_ref(series) -> dict:
    return {"id": series.pk, "rrule": series.rrule, "time_zone": series.time_zone}


@api.patch(
    "/series/{series_id}",
    response={200: SeriesEditOut, 403: Error, 404: Error, 409: SeriesConflictOut, 412: Error, 422: Error},
    tags=["series"],
)
def update_series(request, series_id: Id, payload: SeriesPatch):
    """Change every upcoming date ("all") or one date and the later ones ("following", splits the series).

    Times are wall-clock times (HH:MM) in the site's zone; dates changed on their own keep
    their time and room.
    """
    series = get_object_or_404(Series, pk=series_id)
    changes = payload.model_dump(exclude_unset=True)
    nulls = [k for k, v in changes.items() if v is None]
    if nulls:
        raise InvalidBooking(_("This field cannot be null."), field=nulls[0])
    changes.pop("scope")
    if "from_booking" in changes:
        changes["from_booking"] = Booking.objects.filter(pk=changes["from_booking"], series=series).first()
        if changes["from_booking"] is None:
            raise InvalidBooking(_("This booking is not a date of the series."), field="from_booking")
    for name in ("start_time", "end_time"):
        if name in changes:
            changes[name] = _wall_clock(changes[name], name)
    if "room" in changes:
        changes["room"] = _room(changes["room"])
    result = services.update_series(series=series, actor=request.auth, scope=payload.scope, **changes)
    return JsonResponse(
        {
            "series": _series_ref(result.series),
            "updated": [booking_dict(b, request.auth) for b in result.updated],
            "split_from": _series_ref(result.split_from) if result.split_from else None,
        }
    )


@api.post(
    "/bookings/{booking_id}/series",
    response={201: SeriesOut, 403: Error, 404: Error, 409: SeriesConflictOut, 422: Error},
    tags=["series"],
)
def convert_to_series(request, booking_id: Id, payload: RepeatIn):
    """Make a single booking the first date of a series; all or nothing unless skip_conflicts."""
    result = services.convert_to_series(
        booking=_booking(booking_id),
        actor=request.auth,
        rrule=payload.rrule,
        skip_conflicts=payload.skip_conflicts,
    )
    return JsonResponse(
        {
            "series": _series_ref(result.series),
            "created": [booking_dict(b, request.auth) for b in result.created],
            "skipped": [occurrence_dict(o, request.auth) for o in result.skipped],
        },
        status=201,
    )
