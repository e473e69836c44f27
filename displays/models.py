"""Door displays: the panels beside each room, each known by a secret token in its URL.

Only the token's sha256 is stored; the URL with the token is shown once (when the
display is added or its token rotated). The PIN is stored like a password. The push
secret is kept in clear because the server needs it to sign pushes (HMAC), like any
webhook secret.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bookings.models import Room


class Display(models.Model):
    class Language(models.TextChoices):
        GERMAN = "de", _("German")
        ENGLISH = "en", _("English")

    class Privacy(models.TextChoices):
        TITLES = "titles", _("Show titles (never those of private bookings)")
        OCCUPIED = "occupied", _("Show only “occupied”")

    room = models.ForeignKey(Room, models.PROTECT, related_name="displays", verbose_name=_("room"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default="de")
    privacy = models.CharField(_("privacy"), max_length=10, choices=Privacy.choices, default=Privacy.TITLES)
    allow_check_in = models.BooleanField(_("check-in at the door"), default=True)
    allow_book_now = models.BooleanField(_("book now at the door"), default=True)
    pin_hash = models.CharField(
        _("PIN hash"),
        max_length=128,
        blank=True,
        editable=False,
        help_text=_("When set, check-in and book-now ask for the PIN."),
    )
    push_url = models.URLField(
        _("push URL"),
        blank=True,
        help_text=_("Gets a signed POST with the new status when bookings change."),
    )
    push_secret = models.CharField(_("push secret"), max_length=64, blank=True, editable=False)
    # Book-now bookings are organized by this user (created on first use), so the audit
    # log names the door that booked. It cannot sign in.
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="display",
        verbose_name=_("service user"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    # Written in batches from Redis at most once a minute, never per poll.
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    last_seen_address = models.GenericIPAddressField(_("last address"), null=True, blank=True, editable=False)
    last_seen_user_agent = models.CharField(_("last user agent"), max_length=300, blank=True, editable=False)
    # The kiosk page's release, sent with every poll: shows which panels still run an old page.
    last_seen_version = models.CharField(_("page version"), max_length=40, blank=True, editable=False)
    last_push_at = models.DateTimeField(_("last push"), null=True, blank=True, editable=False)
    last_push_error = models.TextField(_("last push error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("door display")
        verbose_name_plural = _("door displays")
        ordering = ["room__name", "name", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.room} #{self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)
