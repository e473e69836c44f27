"""The waiting list: a person queues for a taken room and time, and gets it when it frees up."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .bookings import Booking
from .places import Room


class WaitingEntry(models.Model):
    """One person waiting for ``room`` over ``span``; first come, first served (``created_at``).

    When the slot frees up, the first entry whose booking the rules allow is booked by
    ``services.waiting.promote_waiting`` through ``create_booking``, so the exclusion
    constraint decides between it and anyone booking the freed slot directly. Where the
    room's policy says so (``waiting_offer_minutes``), that booking is an offer held for a
    while: accepted, it stays; not accepted in time, it is cancelled for the next in line.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        # The freed slot is held for the person (a booking in their name) until offer_until.
        OFFERED = "offered", _("offered")
        BOOKED = "booked", _("booked")
        REFUSED = "refused", _("no longer allowed")
        EXPIRED = "expired", _("expired")
        WITHDRAWN = "withdrawn", _("withdrawn")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="waiting_entries", verbose_name=_("person")
    )
    room = models.ForeignKey(Room, models.PROTECT, related_name="waiting_entries", verbose_name=_("room"))
    span = DateTimeRangeField(_("time span"))
    title = models.CharField(_("title"), max_length=200)
    # Any bookable room of the same building with at least the room's seats and equipment will do.
    any_room = models.BooleanField(_("any room like this in the building"), default=False, db_default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    booking = models.ForeignKey(
        Booking, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("booking")
    )
    # Why the entry left the line (the rule that no longer allows the booking, say).
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # An offer (see Status.OFFERED) not accepted by then goes to the next in line.
    offer_until = models.DateTimeField(_("offer open until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting list")
        indexes = [
            models.Index(
                fields=["room", "created_at"], name="waiting_room_queue", condition=Q(status="waiting")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(span__isempty=False, span__lower_inf=False, span__upper_inf=False),
                name="waiting_span_bounded",
            ),
            # One place in the line per person, room and time.
            models.UniqueConstraint(
                fields=["person", "room", "span"], name="waiting_once", condition=Q(status="waiting")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.room} ({self.span.lower:%Y-%m-%d %H:%M})"

    @property
    def start(self):
        return self.span.lower

    @property
    def end(self):
        return self.span.upper
