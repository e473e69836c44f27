"""The booking domain: places, rooms, bookings, series, the audit log and the outbox.

Invariants live in the database (the exclusion constraint, unique idempotency keys,
check constraints); services explain them to the user.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value})


class Site(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Building(models.Model):
    site = models.ForeignKey(Site, models.PROTECT, related_name="buildings", verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="building_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"


class Floor(models.Model):
    building = models.ForeignKey(Building, models.PROTECT, related_name="floors", verbose_name=_("building"))
    name = models.CharField(_("name"), max_length=100)
    level = models.SmallIntegerField(_("level"), default=0)

    class Meta:
        verbose_name = _("floor")
        verbose_name_plural = _("floors")
        ordering = ["building__name", "level"]
        constraints = [models.UniqueConstraint(fields=["building", "name"], name="floor_unique_name")]

    def __str__(self) -> str:
        return f"{self.building.name}, {self.name}"


class Equipment(models.Model):
    code = models.SlugField(
        _("code"), max_length=50, unique=True, help_text=_("Used in the API, e.g. ?equipment=projector")
    )
    name = models.CharField(_("name (German)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def localized_name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name


class Room(models.Model):
    floor = models.ForeignKey(Floor, models.PROTECT, related_name="rooms", verbose_name=_("floor"))
    name = models.CharField(_("name"), max_length=100)
    capacity = models.PositiveIntegerField(_("capacity"))
    equipment = models.ManyToManyField(
        Equipment, blank=True, related_name="rooms", verbose_name=_("equipment")
    )
    bookable = models.BooleanField(_("bookable"), default=True)
    description = models.TextField(_("description"), blank=True)
    photo = models.ImageField(_("photo"), blank=True, upload_to="rooms/")
    exchange_mailbox = models.EmailField(_("Exchange mailbox"), blank=True)
    sap_id = models.CharField(_("SAP id"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["floor", "name"], name="room_unique_name"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Series(models.Model):
    """A recurring booking: an RFC 5545 RRULE in the site's local time.

    Each occurrence is a Booking row, so the exclusion constraint guards every one.
    """

    room = models.ForeignKey(Room, models.PROTECT, related_name="series", verbose_name=_("room"))
    title = models.CharField(_("title"), max_length=200)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="organized_series", verbose_name=_("organizer")
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
            models.CheckConstraint(
                condition=Q(span__isempty=False, span__lower_inf=False, span__upper_inf=False),
                name="booking_span_bounded",
            ),
        ]
        indexes = [
            models.Index(fields=["organizer", "status"], name="booking_organizer_status"),
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


class BookingEvent(models.Model):
    """Append-only audit log: who changed what, when. A trigger refuses edits."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        CANCELLED = "cancelled", _("cancelled")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        RELEASED = "released", _("released")
        CHECKED_IN = "checked_in", _("checked in")

    booking = models.ForeignKey(Booking, models.PROTECT, related_name="events", verbose_name=_("booking"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    at = models.DateTimeField(_("at"))
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.booking_id} {self.at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """A change to announce, written in the same transaction as the change itself."""

    channel = models.CharField(_("channel"), max_length=50)
    topic = models.CharField(_("topic"), max_length=50)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    available_at = models.DateTimeField(_("next attempt at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    given_up_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at"],
                name="outbox_due",
                condition=Q(delivered_at__isnull=True, given_up_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.channel} #{self.pk}"


class ApiToken(models.Model):
    """A bearer token for the API; only its sha256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class IdempotencyKey(models.Model):
    """The first answer to a write that carried an Idempotency-Key, kept for its retries.

    Claimed and filled in the same transaction as the write it answers, so a key
    exists exactly when its write committed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
