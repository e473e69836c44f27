"""Domain objects to JSON-ready dicts (also what idempotent retries get back)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from ..models import Booking
from ..selectors import from_epoch_us, visible_title


def booking_dict(booking: Booking, viewer) -> dict:
    title = visible_title(
        booking.title, private=booking.private, organizer_id=booking.organizer_id, viewer=viewer
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
        "floor": {"id": floor.pk, "name": floor.name},
        "building": {"id": building.pk, "name": building.name},
        "site": {"id": site.pk, "name": site.name, "time_zone": site.time_zone},
    }


def room_row_dict(row) -> dict:
    """``room_dict`` for a ``selectors.RoomRow``: the same answer, no model instances."""
    return {
        "id": row.id,
        "name": row.name,
        "capacity": row.capacity,
        "bookable": row.bookable,
        "equipment": row.equipment,
        "floor": {"id": row.floor_id, "name": row.floor_name},
        "building": {"id": row.building_id, "name": row.building_name},
        "site": {"id": row.site_id, "name": row.site_name, "time_zone": row.time_zone},
    }


# Each room's JSON, encoded once per catalogue version: the room list and the free-room
# search are then a join of ready strings (the same bytes JsonResponse would write).
_room_json: tuple[tuple, dict[int, str]] = ((), {})


def room_json(catalogue, row) -> str:
    """One room of ``catalogue`` as JSON text, as ``JsonResponse(room_row_dict(row))`` has it."""
    global _room_json
    key, texts = _room_json
    if key != catalogue.key:
        texts = {}
        _room_json = (catalogue.key, texts)
    text = texts.get(row.id)
    if text is None:
        text = texts[row.id] = json.dumps(room_row_dict(row), cls=DjangoJSONEncoder)
    return text


def rooms_json(catalogue, rows) -> str:
    """A JSON list of rooms of ``catalogue``; byte for byte what JsonResponse would send."""
    return "[" + ", ".join(room_json(catalogue, row) for row in rows) + "]"


def day_plan_dict(day, plans: list, viewer) -> dict:
    """The day plan of ``selectors.day_plan_rows``; others' private titles hidden."""
    sees_private = viewer is not None and viewer.is_staff
    viewer_id = viewer.pk if viewer is not None else None
    # Bookings start and end at a few dozen distinct times a day (the hour, the half
    # hour): format each once instead of twice per booking.
    stamps: dict[int, str] = {}

    def stamp(epoch_us: int) -> str:
        text = stamps.get(epoch_us)
        if text is None:
            text = stamps[epoch_us] = from_epoch_us(epoch_us).isoformat()
        return text

    rooms = []
    for room, bookings in plans:
        rooms.append(
            {
                "id": room.id,
                "name": room.name,
                "capacity": room.capacity,
                "building": room.building_id,
                "busy": [
                    {
                        "id": booking_id,
                        "start": stamp(start),
                        "end": stamp(end),
                        "status": status,
                        # visible_title, inlined: it runs for every booking of the day.
                        "title": title if not private or sees_private or organizer_id == viewer_id else None,
                    }
                    for booking_id, start, end, title, private, status, organizer_id in bookings
                ],
            }
        )
    return {"date": day.isoformat(), "rooms": rooms}
