"""One meeting in several rooms: a video meeting between sites, a workshop with break-out rooms.

Each room is an ordinary single-room booking (the exclusion constraints, the service path
and the room's own rules apply to each); the meeting only ties them together, so they are
booked, moved and cancelled as one (services.meetings) while a single room can still be
given back on its own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .bookings import Booking


class Meeting(models.Model):
    class Approval(models.TextChoices):
        # Where one room needs a manager's approval: the other rooms wait for the decision
        # (all rooms or none), or are booked at once and stay whatever the manager decides.
        WAIT = "wait", _("the other rooms wait for the decision")
        GO_AHEAD = "go_ahead", _("the other rooms are booked at once")

    title = models.CharField(_("title"), max_length=200)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="organized_meetings",
        verbose_name=_("organizer"),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings_made_for_others",
        verbose_name=_("booked by"),
    )
    approval = models.CharField(
        _("when a room needs approval"), max_length=10, choices=Approval.choices, default=Approval.WAIT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting in several rooms")
        verbose_name_plural = _("meetings in several rooms")

    def __str__(self) -> str:
        return self.title


class MeetingRoom(models.Model):
    """One room of a meeting: its booking. A booking belongs to at most one meeting."""

    meeting = models.ForeignKey(Meeting, models.PROTECT, related_name="rooms", verbose_name=_("meeting"))
    booking = models.OneToOneField(
        Booking, models.PROTECT, related_name="meeting_room", verbose_name=_("booking")
    )
    # Pending only because another room of the meeting waits for a manager (Approval.WAIT);
    # confirmed or cancelled with that decision, and never in a manager's queue itself.
    waits = models.BooleanField(_("waits for another room's approval"), default=False, db_default=False)

    class Meta:
        verbose_name = _("room of a meeting")
        verbose_name_plural = _("rooms of the meeting")

    def __str__(self) -> str:
        return f"{self.meeting} · {self.booking.room}"
