"""Small factories for places and bookings; every argument has a sensible default."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from django.utils import timezone

from bookings.models import Booking, Building, Equipment, Floor, Room, Site
from bookings.spans import make_span

_seq = itertools.count(1)


def site(name: str | None = None, time_zone: str = "Europe/Berlin") -> Site:
    return Site.objects.create(name=name or f"Site {next(_seq)}", time_zone=time_zone)


def building(site_obj: Site | None = None, name: str | None = None) -> Building:
    return Building.objects.create(site=site_obj or site(), name=name or f"Building {next(_seq)}")


def floor(building_obj: Building | None = None, name: str | None = None) -> Floor:
    return Floor.objects.create(building=building_obj or building(), name=name or f"Floor {next(_seq)}")


def equipment(code: str, name: str | None = None) -> Equipment:
    return Equipment.objects.get_or_create(code=code, defaults={"name": name or code, "name_en": code})[0]


def room(
    floor_obj: Floor | None = None,
    name: str | None = None,
    capacity: int = 8,
    equipment_codes: tuple[str, ...] = (),
    **extra,
) -> Room:
    obj = Room.objects.create(
        floor=floor_obj or floor(), name=name or f"Room {next(_seq)}", capacity=capacity, **extra
    )
    if equipment_codes:
        obj.equipment.set([equipment(c) for c in equipment_codes])
    return obj


def tomorrow_at(hour: int, minute: int = 0, tz=None) -> datetime:
    """Tomorrow's wall-clock time in a zone (default: the server's)."""
    tz = tz or timezone.get_current_timezone()
    day = (timezone.now().astimezone(tz) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def booking(room_obj: Room, organizer, start: datetime, minutes: int = 60, **extra) -> Booking:
    """A booking written directly (for setting the scene, not for testing the services)."""
    return Booking.objects.create(
        room=room_obj,
        organizer=organizer,
        title=extra.pop("title", "Meeting"),
        span=make_span(start, start + timedelta(minutes=minutes)),
        **extra,
    )


def days_ahead(days: int = 2, tz=None) -> date:
    """The local date ``days`` from today; two days ahead stays in the future past midnight."""
    tz = tz or timezone.get_current_timezone()
    return (timezone.now().astimezone(tz) + timedelta(days=days)).date()


def on(day: date, hour: int, minute: int = 0, tz=None) -> datetime:
    """Wall-clock time on a day in a zone (default: the server's); 09:00 exists on DST days too."""
    tz = tz or timezone.get_current_timezone()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def user(username: str | None = None, **extra):
    """A plain staff member who may book."""
    from django.contrib.auth.models import User

    name = username or f"user{next(_seq)}"
    return User.objects.create_user(name, f"{name}@example.com", "pw-" + name, **extra)
