"""Rules facility management sets: policies per site, building or room, and blockings.

A policy field left empty inherits from the next wider place (room → building → site),
and where no place sets it, the rule does not apply. bookings/rules/ resolves and
applies them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import DateTimeRangeField
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .places import Building, Room, Site

# Exactly one of site, building, room.
ONE_PLACE = (
    Q(site__isnull=False, building__isnull=True, room__isnull=True)
    | Q(site__isnull=True, building__isnull=False, room__isnull=True)
    | Q(site__isnull=True, building__isnull=True, room__isnull=False)
)


# The places a policy or a blocking can be set on, nearest to a room first: where two
# of them set the same rule for a room, the nearer one wins.
PLACE_LEVELS = ("room", "building", "site")
# How a booking reaches each level.
BOOKING_PLACE = {
    "room": "room_id",
    "building": "room__floor__building_id",
    "site": "room__floor__building__site_id",
}


def place_chain(room: Room) -> tuple[tuple[str, int], ...]:
    """The places the room belongs to, nearest first, as (level, id); reads its floor and building."""
    building = room.floor.building
    return (("room", room.pk), ("building", building.pk), ("site", building.site_id))


class PlaceScoped(models.Model):
    site = models.ForeignKey(
        Site, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("site")
    )
    building = models.ForeignKey(
        Building, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("building")
    )
    room = models.ForeignKey(
        Room, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("room")
    )

    class Meta:
        abstract = True

    @property
    def place(self):
        return self.room or self.building or self.site

    @property
    def place_key(self) -> tuple[str, int]:
        """(level, id) of the one place this row is set on, as place_chain names it."""
        return next((level, pk) for level in PLACE_LEVELS if (pk := getattr(self, f"{level}_id")))

    def bookings_here(self) -> Q:
        """A filter on Booking: the bookings of the rooms in this place."""
        level, pk = self.place_key
        return Q(**{BOOKING_PLACE[level]: pk})


class Policy(PlaceScoped):
    """Booking rules for one site, building or room; empty fields inherit."""

    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"),
        null=True,
        blank=True,
        help_text=_("How long before the start a booking must be made."),
    )
    max_advance_days = models.PositiveIntegerField(_("maximum advance (days)"), null=True, blank=True)
    max_duration_minutes = models.PositiveIntegerField(_("maximum duration (minutes)"), null=True, blank=True)
    buffer_before_minutes = models.PositiveIntegerField(_("setup buffer (minutes)"), null=True, blank=True)
    buffer_after_minutes = models.PositiveIntegerField(_("cleanup buffer (minutes)"), null=True, blank=True)
    cancel_cutoff_minutes = models.PositiveIntegerField(
        _("cancellation cut-off (minutes)"),
        null=True,
        blank=True,
        help_text=_("Bookings can be cancelled until this long before their start."),
    )
    series_allowed = models.BooleanField(_("series allowed"), null=True, blank=True)
    requires_approval = models.BooleanField(_("requires approval"), null=True, blank=True)
    approval_timeout_hours = models.PositiveIntegerField(
        _("approval time limit (hours)"),
        null=True,
        blank=True,
        help_text=_("A request nobody answers within this time expires."),
    )
    requires_check_in = models.BooleanField(_("requires check-in"), null=True, blank=True)
    check_in_grace_minutes = models.PositiveIntegerField(
        _("check-in window after the start (minutes)"),
        null=True,
        blank=True,
        help_text=_("Without a check-in by then, the booking is released."),
    )
    max_bookings_per_day = models.PositiveIntegerField(
        _("bookings per person and day"), null=True, blank=True
    )
    max_bookings_per_week = models.PositiveIntegerField(
        _("bookings per person and week"), null=True, blank=True
    )
    max_hours_per_day = models.DecimalField(
        _("hours per person and day"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    max_hours_per_week = models.DecimalField(
        _("hours per person and week"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    waiting_offer_minutes = models.PositiveIntegerField(
        _("waiting list: offer a freed slot for (minutes)"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: the first in line is booked at once. Otherwise the freed slot is held for them this "
            "long; unless they accept it in time, it goes to the next in line."
        ),
    )
    bookers = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        verbose_name=_("who may book"),
        help_text=_("Empty: as the wider place says; nowhere set: everyone. Others see the room read-only."),
    )
    overriders = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        verbose_name=_("who may override the rules"),
    )
    managers = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        verbose_name=_("room managers"),
        help_text=_("They approve requests and are told about changes."),
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policies")
        constraints = [
            models.CheckConstraint(condition=ONE_PLACE, name="policy_one_place"),
            models.UniqueConstraint(fields=["site"], name="policy_unique_site"),
            models.UniqueConstraint(fields=["building"], name="policy_unique_building"),
            models.UniqueConstraint(fields=["room"], name="policy_unique_room"),
        ]

    def __str__(self) -> str:
        return str(_("Policy for %(place)s") % {"place": self.place})


class PolicyHours(models.Model):
    """A stretch of a weekday in which the room can be booked (local time of the site)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 1, _("Monday")
        TUESDAY = 2, _("Tuesday")
        WEDNESDAY = 3, _("Wednesday")
        THURSDAY = 4, _("Thursday")
        FRIDAY = 5, _("Friday")
        SATURDAY = 6, _("Saturday")
        SUNDAY = 7, _("Sunday")

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="hours", verbose_name=_("policy"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("from"))
    closes = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("bookable hours")
        verbose_name_plural = _("bookable hours (empty: as the wider place says; nowhere set: always)")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Blocking(PlaceScoped):
    """A closure (holiday, renovation): nobody books here then, except the allowed groups."""

    span = DateTimeRangeField(_("time span"))
    reason = models.CharField(_("reason"), max_length=200)
    allowed_groups = models.ManyToManyField(
        Group, blank=True, related_name="+", verbose_name=_("groups still allowed to book")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("blocking")
        verbose_name_plural = _("blockings")
        ordering = ["span"]
        constraints = [
            models.CheckConstraint(condition=ONE_PLACE, name="blocking_one_place"),
            models.CheckConstraint(
                condition=Q(span__isempty=False, span__lower_inf=False, span__upper_inf=False),
                name="blocking_span_bounded",
            ),
        ]
        indexes = [GistIndex(fields=["span"], name="blocking_span", condition=Q(cancelled_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.reason} ({self.place})"
