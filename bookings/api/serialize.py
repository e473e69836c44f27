"""Domain objects to JSON-ready dicts (also what idempotent retries get back)."""

from __future__ import annotations

from ..models import Booking
from ..selectors.privacy import visible_title


def booking_dict(booking: Booking, viewer) -> dict:
    title = visible_title(
        booking.title,
        private=booking.private,
        organizer_id=booking.organizer_id,
        viewer=viewer,
        booked_by_id=booking.booked_by_id,
    )
    return {
        "id": booking.pk,
        "room": booking.room_id,
        "title": title,
        "start": booking.span.lower.isoformat(),
        "end": booking.span.upper.isoformat(),
        "status": booking.status,
        "organizer": booking.organizer.username if title is not None else None,
        "private": booking.private,
        "series": booking.series_id,
        "version": booking.version,
    }


def occurrence_dict(occurrence: tuple, viewer) -> dict:
    start, end, conflicts = occurrence
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "conflicts": [booking_dict(b, viewer) for b in conflicts],
    }


def room_dict(room) -> dict:
    floor = room.floor
    building = floor.building
    site = building.site
    return {
        "id": room.pk,
        "name": room.name,
        "capacity": room.capacity,
        "bookable": room.bookable,
        "equipment": [e.code for e in room.equipment.all()],
        "parts": sorted(link.part_id for link in room.part_links.all()),
        "floor": {"id": floor.pk, "name": floor.name},
        "building": {"id": building.pk, "name": building.name},
        "site": {"id": site.pk, "name": site.name, "time_zone": site.time_zone},
    }
