"""Bookings, series and the append-only audit log.

The database holds the guarantees: no two active bookings of a room overlap, counting
each booking's setup and cleanup buffers (two exclusion constraints); the services
explain a refusal to the user.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .audit import AuditEvent
from .places import Room, validate_time_zone


class Series(models.Model):
    """A recurring booking: an RFC 5545 RRULE in the site's local time.

    Each occurrence is a Booking row, so the exclusion constraint guards every one.
    """

    room = models.ForeignKey(Room, models.PROTECT, related_name="series", verbose_name=_("room"))
    title = models.CharField(_("title"), max_length=200)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="organized_series", verbose_name=_("organizer")
    )
    # The delegate who booked the series for the organizer; null when they booked it themselves.
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="series_made_for_others",
        verbose_name=_("booked by"),
        db_index=False,
    )
    rrule = models.CharField(_("recurrence rule"), max_length=500)
    # The first occurrence as wall-clock time in the site's zone: 09:00 stays 09:00.
    local_start = models.DateTimeField(_("first start (local)"))
    duration = models.DurationField(_("duration"))
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    private = models.BooleanField(_("private"), default=False)
    attendees = ArrayField(
        models.CharField(max_length=254), default=list, blank=True, verbose_name=_("attendees")
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return f"{self.title} ({self.rrule})"


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        CONFIRMED = "confirmed", _("confirmed")
        CANCELLED = "cancelled", _("cancelled")
        REJECTED = "rejected", _("rejected")
        RELEASED = "released", _("released")

    class Source(models.TextChoices):
        WEB = "web", _("web")
        API = "api", _("API")
        DISPLAY = "display", _("door display")
        EXCHANGE = "exchange", _("Exchange")
        IMPORT = "import", _("import")

    # Bookings in these states hold their slot; the constraint ignores the others.
    ACTIVE = (Status.PENDING, Status.CONFIRMED)

    room = models.ForeignKey(Room, models.PROTECT, related_name="bookings", verbose_name=_("room"))
    span = DateTimeRangeField(_("time span"))
    title = models.CharField(_("title"), max_length=200)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="organized_bookings",
        verbose_name=_("organizer"),
    )
    attendees = ArrayField(
        models.CharField(max_length=254), default=list, blank=True, verbose_name=_("attendees")
    )
    # Whether the attendees get iCalendar invitations (and updates, cancellations) by mail.
    invite_attendees = models.BooleanField(_("send invitations"), default=False, db_default=False)
    # A delegate who booked for the organizer (the principal); null when they booked themselves.
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings_made_for_others",
        verbose_name=_("booked by"),
        # Indexed below (partial, built concurrently): "My bookings" lists what one made for others.
        db_index=False,
    )
    private = models.BooleanField(_("private"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    series = models.ForeignKey(
        Series, models.PROTECT, null=True, blank=True, related_name="occurrences", verbose_name=_("series")
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Rises with every change: calendar SEQUENCE numbers and If-Match use it.
    version = models.PositiveIntegerField(_("version"), default=1)
    # Setup and cleanup time from the room's policy when booked. A trigger keeps
    # blocked_span = span widened by them, and a second constraint guards it.
    buffer_before = models.DurationField(_("setup buffer"), default=timedelta(0), db_default=timedelta(0))
    buffer_after = models.DurationField(_("cleanup buffer"), default=timedelta(0), db_default=timedelta(0))
    blocked_span = DateTimeRangeField(_("blocked time span"), null=True, blank=True, editable=False)
    # Set when the room requires check-in: without one by then, the booking is released.
    check_in_deadline = models.DateTimeField(_("check-in deadline"), null=True, blank=True)
    # A pending booking nobody approved by then expires.
    decision_due_at = models.DateTimeField(_("decision due at"), null=True, blank=True)
    # An occurrence changed on its own keeps its changes when the series is edited.
    series_exception = models.BooleanField(_("changed on its own"), default=False, db_default=False)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["span"]
        constraints = [
            # The guarantee: two active bookings of one room never overlap, whatever
            # the code above does. Half-open spans make back-to-back bookings fine.
            ExclusionConstraint(
                name="booking_no_overlap",
                expressions=[("room", RangeOperators.EQUAL), ("span", RangeOperators.OVERLAPS)],
                condition=Q(status__in=["pending", "confirmed"]),
            ),
            # The same over the span widened by setup and cleanup buffers: a room's
            # buffers are kept whatever the code above does.
            ExclusionConstraint(
                name="booking_no_overlap_buffered",
                expressions=[("room", RangeOperators.EQUAL), ("blocked_span", RangeOperators.OVERLAPS)],
                condition=Q(status__in=["pending", "confirmed"]),
            ),
            models.CheckConstraint(
                condition=Q(span__isempty=False, span__lower_inf=False, span__upper_inf=False),
                name="booking_span_bounded",
            ),
        ]
        indexes = [
            models.Index(fields=["organizer", "status"], name="booking_organizer_status"),
            # "My bookings" lists the bookings a person attends (by user name or mail address).
            GinIndex(fields=["attendees"], name="booking_attendees"),
            models.Index(
                fields=["booked_by", "status"],
                name="booking_booked_by_status",
                condition=Q(booked_by__isnull=False),
            ),
            # Span searches across rooms (day plan, free-room search): the constraint's
            # index leads with the room, so those scan most of it (docs/performance.md).
            GistIndex(
                fields=["span"],
                include=["room"],
                name="booking_active_span",
                condition=Q(status__in=["pending", "confirmed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.room}, {self.span.lower:%Y-%m-%d %H:%M})"

    @property
    def start(self):
        return self.span.lower

    @property
    def end(self):
        return self.span.upper

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def holds_past_deadline(self, now) -> bool:
        """Still holds its slot though a deadline has passed: a request nobody decided in
        time, or a booking nobody checked in to. The periodic jobs free such slots within a
        minute; an action that needs the slot frees it at once (services.deadlines)."""
        if self.status == self.Status.PENDING:
            return self.decision_due_at is not None and self.decision_due_at <= now
        return (
            self.status == self.Status.CONFIRMED
            and self.check_in_deadline is not None
            and self.check_in_deadline <= now
            and self.checked_in_at is None
        )


class BookingEvent(AuditEvent):
    """Append-only audit log: who changed what, when. A trigger refuses edits."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        CANCELLED = "cancelled", _("cancelled")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        RELEASED = "released", _("released")
        CHECKED_IN = "checked_in", _("checked in")
        EXPIRED = "expired", _("expired")

    booking = models.ForeignKey(Booking, models.PROTECT, related_name="events", verbose_name=_("booking"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.booking_id} {self.at:%Y-%m-%d %H:%M}"
