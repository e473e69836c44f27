"""A room's bookings in a range, and a person's own."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from ..combinations import sharing
from ..models import Booking, Room
from ..spans import make_span

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def bookings_in_range(
    *, room_id: int, start: datetime, end: datetime, include_inactive: bool = False, shared: bool = False
) -> QuerySet[Booking]:
    """The room's bookings meeting [start, end); ``shared``: with those of the rooms sharing
    a part with it (a door display of a part shows its combination's booking)."""
    rooms = sharing(room_id) if shared else {room_id}
    qs = Booking.objects.filter(room_id__in=rooms, span__overlap=make_span(start, end))
    if not include_inactive:
        qs = qs.filter(status__in=Booking.ACTIVE)
    return qs.select_related("organizer").order_by("span")


def user_bookings(*, user: User, upcoming_from: datetime | None = None) -> QuerySet[Booking]:
    """The user's bookings, and those they booked as someone's delegate."""
    qs = Booking.objects.filter(Q(organizer=user) | Q(booked_by=user)).select_related("room", "organizer")
    if upcoming_from is not None:
        qs = qs.filter(span__endswith__gt=upcoming_from)
    return qs.order_by("span")


def my_bookings(
    *, user: User, now: datetime, past_limit: int = 50, upcoming_limit: int = 300
) -> tuple[list[Booking], list[Booking]]:
    """The user's upcoming active bookings and their most recent past or cancelled ones.

    Bookings they made as someone's delegate are theirs to look after too.
    """
    base = Booking.objects.filter(Q(organizer=user) | Q(booked_by=user)).select_related(
        "room__floor__building__site", "series", "organizer", "booked_by"
    )
    upcoming = list(
        base.filter(status__in=Booking.ACTIVE, span__endswith__gt=now).order_by("span")[:upcoming_limit]
    )
    past = list(
        base.filter(Q(span__endswith__lte=now) | ~Q(status__in=Booking.ACTIVE)).order_by("-span")[:past_limit]
    )
    return upcoming, past


WITHDRAWN = (Booking.Status.CANCELLED, Booking.Status.REJECTED)


def my_bookings_list(
    *,
    user: User,
    now: datetime,
    show: str,
    room_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> QuerySet[Booking]:
    """One of My bookings' lists, filtered, as a query to page through.

    ``show``: "upcoming" (active, not yet over; soonest first), "past" (over, not
    withdrawn) or "cancelled" (cancelled or rejected); both latest first. Days are
    the days the bookings start on, in the current time zone.
    """
    qs = Booking.objects.filter(Q(organizer=user) | Q(booked_by=user)).select_related(
        "room__floor__building__site", "series", "organizer", "booked_by"
    )
    if show == "upcoming":
        qs = qs.filter(status__in=Booking.ACTIVE, span__endswith__gt=now).order_by("span", "pk")
    elif show == "past":
        qs = qs.filter(span__endswith__lte=now).exclude(status__in=WITHDRAWN).order_by("-span", "-pk")
    else:
        qs = qs.filter(status__in=WITHDRAWN).order_by("-span", "-pk")
    if room_id is not None:
        qs = qs.filter(room_id=room_id)
    if day_from is not None:
        qs = qs.filter(span__startswith__date__gte=day_from)
    if day_to is not None:
        qs = qs.filter(span__startswith__date__lte=day_to)
    return qs


def rooms_booked_by(user: User) -> list[Room]:
    """The rooms of the user's bookings, for My bookings' room filter (by place)."""
    booked = Booking.objects.filter(Q(organizer=user) | Q(booked_by=user)).values("room_id")
    return list(
        Room.objects.filter(pk__in=booked)
        .select_related(Room.PLACE)
        .order_by("floor__building__site__name", "floor__building__name", "floor__name", "name")
    )


def attending(*, user: User, now: datetime, limit: int = 100) -> list[Booking]:
    """Upcoming active bookings that name the user (user name or mail address) as an attendee."""
    names = [n for n in (user.get_username(), user.email) if n]
    return list(
        Booking.objects.filter(attendees__overlap=names, status__in=Booking.ACTIVE, span__endswith__gt=now)
        .exclude(organizer=user)
        .select_related("room__floor__building__site", "organizer")
        .order_by("span")[:limit]
    )
