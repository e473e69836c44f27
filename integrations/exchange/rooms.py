"""Rooms from Exchange: room mailboxes (Graph /places, EWS GetRoomLists/GetRooms) become or update our rooms.

A room is matched by its mailbox address, never by name, so an import run twice (or by
two admins at once: an advisory lock, and the plan made again inside it) changes nothing
the second time. ``plan`` is the preview and writes nothing; ``apply`` writes it.

A room we do not have yet is created on the floor the admin names, with Exchange's
capacity; EWS does not know capacities, so such a room is created with capacity 1 and
not bookable until an admin has looked at it. A room of the same name on that floor
without a mailbox is not touched (the admin gives it its mailbox by hand).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

from bookings.models import Floor, Room

from ..base import RemoteRoom

IMPORT_LOCK = 7316


@dataclass
class Step:
    """What the import does with one Exchange room."""

    remote: RemoteRoom
    action: str  # "create", "update", "unchanged", "skip"
    room: Room | None = None
    changes: dict[str, tuple] = field(default_factory=dict)  # field -> (ours, Exchange's)
    note: str = ""

    @property
    def label(self) -> str:
        return {
            "create": _("new"),
            "update": _("update"),
            "unchanged": _("unchanged"),
            "skip": _("skipped"),
        }[self.action]


def plan(remote: list[RemoteRoom], *, floor: Floor | None) -> list[Step]:
    """The preview: one step per Exchange room, in name order. Writes nothing."""
    ours: dict[str, Room] = {}
    for room in Room.objects.exclude(exchange_mailbox="").order_by("pk"):
        ours.setdefault(room.exchange_mailbox.lower(), room)
    steps = []
    taken = {(f, n.lower()) for f, n in Room.objects.values_list("floor_id", "name")}
    for item in sorted(remote, key=lambda r: (r.name.lower(), r.email)):
        room = ours.get(item.email)
        if room is not None:
            changes = {}
            note = ""
            if item.name and item.name != room.name:
                if (room.floor_id, item.name.lower()) in taken and item.name.lower() != room.name.lower():
                    note = _("another room on its floor has the name %s: name kept") % item.name
                else:
                    changes["name"] = (room.name, item.name)
                    taken.add((room.floor_id, item.name.lower()))
            if item.capacity and item.capacity != room.capacity:
                changes["capacity"] = (room.capacity, item.capacity)
            steps.append(Step(item, "update" if changes else "unchanged", room, changes, note))
        elif floor is None:
            steps.append(Step(item, "skip", note=_("new room: choose a floor to create it")))
        elif (floor.pk, item.name.lower()) in taken:
            note = _("a room of this name is on the floor already: give it the mailbox by hand")
            steps.append(Step(item, "skip", note=note))
        else:
            taken.add((floor.pk, item.name.lower()))
            note = "" if item.capacity else _("capacity unknown: created with 1, not bookable until checked")
            steps.append(Step(item, "create", note=note))
    return steps


def apply(remote: list[RemoteRoom], *, floor: Floor | None) -> list[Step]:
    """Write the plan; returns it (each created room on its step)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        steps = plan(remote, floor=floor)  # again, under the lock: what another import did counts
        for step in steps:
            if step.action == "create":
                step.room = Room.objects.create(
                    floor=floor,
                    name=step.remote.name[:100],
                    capacity=step.remote.capacity or 1,
                    bookable=bool(step.remote.capacity),
                    exchange_mailbox=step.remote.email,
                )
            elif step.action == "update":
                for name, (_ours, theirs) in step.changes.items():
                    setattr(step.room, name, theirs)
                step.room.save(update_fields=list(step.changes))
    return steps


def describe(step: Step) -> str:
    """One line for the command and the admin's messages."""
    line = f"{step.label}: {step.remote.name} <{step.remote.email}>"
    if step.remote.room_list:
        line += f" [{step.remote.room_list}]"
    if step.changes:
        line += " – " + ", ".join(f"{name} {old} → {new}" for name, (old, new) in step.changes.items())
    if step.action == "create" and step.remote.capacity:
        line += " – " + _("capacity %d") % step.remote.capacity
    if step.note:
        line += f" ({step.note})"
    return line
