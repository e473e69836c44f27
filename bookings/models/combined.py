"""Combinable rooms: a divisible hall is the combination of its parts ("Saal 1+2").

The guarantee lives in the database, as for single rooms: each active booking holds the
physical parts of its room in ``BookingHold`` (a trigger keeps the rows in step with the
booking on every write, whatever the code above does), and an exclusion constraint lets
no two holds of one part overlap. So a part and its combination are never booked at once.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .bookings import Booking
from .places import Room


class RoomPart(models.Model):
    """One physical part of a combined room; a combined room is never itself a part."""

    combined = models.ForeignKey(
        Room, models.CASCADE, related_name="part_links", verbose_name=_("combined room")
    )
    part = models.ForeignKey(Room, models.PROTECT, related_name="combination_links", verbose_name=_("part"))

    class Meta:
        verbose_name = _("part of a combined room")
        verbose_name_plural = _("parts (for a combined room: the rooms it joins)")
        constraints = [
            models.UniqueConstraint(fields=["combined", "part"], name="roompart_unique"),
            models.CheckConstraint(condition=~Q(combined=F("part")), name="roompart_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.part} ⊂ {self.combined}"


class BookingHold(models.Model):
    """A physical room held by an active booking, over its span widened by its buffers.

    Written only by the database trigger ``booking_holds`` (migration): rows exist while
    the booking is active and vanish when it is cancelled, rejected or released.
    """

    booking = models.ForeignKey(Booking, models.CASCADE, related_name="holds", verbose_name=_("booking"))
    room = models.ForeignKey(Room, models.PROTECT, related_name="holds", verbose_name=_("room"))
    blocked_span = DateTimeRangeField(_("blocked time span"))

    class Meta:
        verbose_name = _("held room")
        verbose_name_plural = _("held rooms")
        constraints = [
            # Two active bookings sharing any physical part never overlap.
            ExclusionConstraint(
                name="booking_hold_no_overlap",
                expressions=[("room", RangeOperators.EQUAL), ("blocked_span", RangeOperators.OVERLAPS)],
            ),
        ]
        # Which rooms are held at some time, across rooms (the free-room search): the
        # constraint's index leads with the room.
        indexes = [GistIndex(fields=["blocked_span"], include=["room"], name="bookinghold_span")]

    def __str__(self) -> str:
        return f"{self.room} ({self.booking_id})"
