"""What the app keeps of the Exchange side: per room, its sync state; per booking, its event."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, Room


class RoomSync(models.Model):
    """One room's sync: its mode, where the incremental read left off, and how it went."""

    class Mode(models.TextChoices):
        BOTH = "both", _("synced both ways")
        PUBLISH = "publish", _("publish only")
        OFF = "off", _("off")

    room = models.OneToOneField(Room, models.CASCADE, related_name="exchange_sync", verbose_name=_("room"))
    mode = models.CharField(_("sync mode"), max_length=10, choices=Mode.choices, default=Mode.BOTH)
    # Graph: the delta link; EWS: the SyncFolderItems state. Empty: the next read is full.
    sync_state = models.TextField(_("sync state"), blank=True)
    last_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_full_at = models.DateTimeField(_("last full reconcile"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_repairs = models.JSONField(_("last reconcile repairs"), default=dict, blank=True)
    # The oldest commit not yet at Exchange when it was last measured (seconds).
    lag_seconds = models.FloatField(_("lag (seconds)"), null=True, blank=True)
    # Graph change notifications (RFR_GRAPH_NOTIFICATION_URL): the subscription on the
    # room's events, renewed before it expires; a notification only triggers a delta read.
    subscription_id = models.CharField(_("notification subscription"), max_length=200, blank=True)
    subscription_expires_at = models.DateTimeField(_("subscription expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("Exchange sync of a room")
        verbose_name_plural = _("Exchange sync of rooms")

    def __str__(self) -> str:
        return f"{self.room} ({self.get_mode_display()})"


class EventLink(models.Model):
    """A booking and its event in the room's Exchange calendar.

    ``origin`` tells whose it is: ours are pushed (``pushed_version`` is the booking
    version Exchange shows), theirs came from Outlook and are mirrored. A change read
    back whose remote id is linked to one of ours is our own echo and is not applied.
    """

    class Origin(models.TextChoices):
        OURS = "ours", _("booked here")
        THEIRS = "theirs", _("booked in Outlook")

    booking = models.OneToOneField(
        Booking, models.PROTECT, related_name="exchange_link", verbose_name=_("booking")
    )
    room = models.ForeignKey(Room, models.CASCADE, related_name="exchange_links", verbose_name=_("room"))
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    remote_id = models.CharField(_("remote id"), max_length=500, blank=True, db_index=True)
    change_key = models.CharField(_("change key"), max_length=500, blank=True)
    pushed_version = models.PositiveIntegerField(_("version at Exchange"), default=0)
    # The Outlook organizer when no user of ours has their address.
    organizer_name = models.CharField(_("organizer name"), max_length=200, blank=True)
    organizer_email = models.CharField(_("organizer e-mail"), max_length=254, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    failed_permanently = models.BooleanField(_("failed permanently"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Exchange event link")
        verbose_name_plural = _("Exchange event links")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "remote_id"],
                condition=~models.Q(remote_id=""),
                name="exchange_link_remote_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_id} ↔ {self.remote_id[:20]}"


class Declined(models.Model):
    """An Outlook meeting the room declined: remembered so the next read does not book it."""

    room = models.ForeignKey(Room, models.CASCADE, related_name="exchange_declined", verbose_name=_("room"))
    remote_id = models.CharField(_("remote id"), max_length=500)
    change_key = models.CharField(_("change key"), max_length=500, blank=True)
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("declined Outlook meeting")
        verbose_name_plural = _("declined Outlook meetings")
        constraints = [models.UniqueConstraint(fields=["room", "remote_id"], name="exchange_declined_unique")]

    def __str__(self) -> str:
        return self.remote_id[:20]
