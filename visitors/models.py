"""Visits, their visitors, reception desks and the visitors' own audit log.

A visit belongs to a host and a building, with or without a booking; each visitor of
it arrives and leaves on their own. Visitors' personal data lives only in ``Visitor``
rows, so erasing it (retention, a request under Art. 17 GDPR) touches nothing else.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from bookings.models import AuditEvent, Booking, Building, Site

# An expected visitor this long past the start counts as overdue at reception.
OVERDUE_AFTER = timedelta(minutes=15)

# Invitation codes: no 0/O, 1/I/L, so a visitor can type them off a phone at the kiosk.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_badge_id() -> str:
    """The random id a badge's QR code carries: it says nothing about the person."""
    return secrets.token_urlsafe(12)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Reception(models.Model):
    """The reception desk of a site: who works there, whether the site offers parking."""

    site = models.OneToOneField(Site, models.PROTECT, related_name="reception", verbose_name=_("site"))
    # A Django group; a directory group mirrored by RFR_LDAP_MANAGER_GROUPS becomes one by its CN.
    group = models.ForeignKey(
        Group,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reception group"),
        help_text=_("Its members see the site's visitors and check them in and out."),
    )
    offers_parking = models.BooleanField(
        _("visitor parking"), default=False, help_text=_("Visitors may give a licence plate.")
    )
    directions = models.TextField(
        _("directions"),
        blank=True,
        help_text=_("How visitors find the reception; sent with every invitation."),
    )

    class Meta:
        verbose_name = _("reception")
        verbose_name_plural = _("receptions")

    def __str__(self) -> str:
        return str(self.site)


class Visit(models.Model):
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="hosted_visits", verbose_name=_("host")
    )
    booking = models.ForeignKey(
        Booking, models.PROTECT, null=True, blank=True, related_name="visits", verbose_name=_("booking")
    )
    building = models.ForeignKey(Building, models.PROTECT, related_name="visits", verbose_name=_("building"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Rises with every change the visitors hear of: their calendar entry's SEQUENCE.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="visit_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["building", "start"], name="visit_building_start")]

    def __str__(self) -> str:
        return f"{self.building} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Visitor(models.Model):
    class Status(models.TextChoices):
        EXPECTED = "expected", _("expected")
        ARRIVED = "arrived", _("arrived")
        LEFT = "left", _("left")
        CANCELLED = "cancelled", _("cancelled")

    class Language(models.TextChoices):
        GERMAN = "de", _("German")
        ENGLISH = "en", _("English")

    visit = models.ForeignKey(Visit, models.PROTECT, related_name="visitors", verbose_name=_("visit"))
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    licence_plate = models.CharField(_("licence plate"), max_length=20, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.GERMAN
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.EXPECTED)
    walk_in = models.BooleanField(_("walk-in"), default=False)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    badge_id = models.CharField(
        _("badge id"), max_length=32, unique=True, default=new_badge_id, editable=False
    )
    code = models.CharField(
        _("invitation code"), max_length=CODE_LENGTH, unique=True, default=new_code, editable=False
    )
    # Set when the personal data was erased: the row stays as a count for statistics.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        ordering = ["visit__start", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def is_overdue(self, now: datetime) -> bool:
        """Expected, the visit not cancelled, and its start long enough ago."""
        return (
            self.status == self.Status.EXPECTED
            and not self.visit.is_cancelled
            and self.visit.start + OVERDUE_AFTER <= now
        )

    def state(self, now: datetime) -> str:
        """What reception sees: a status, or "overdue" derived from the time."""
        return "overdue" if self.is_overdue(now) else self.status


class VisitEvent(AuditEvent):
    """The visitors' audit log: who changed what, when. Holds no visitor's name or contacts.
    Append-only like the bookings' log (a trigger, migration 0002)."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("registered")
        ADDED = "added", _("visitor added")
        CHANGED = "changed", _("changed")
        CANCELLED = "cancelled", _("cancelled")
        ARRIVED = "arrived", _("arrived")
        LEFT = "left", _("left")
        ANONYMISED = "anonymised", _("anonymised")

    visit = models.ForeignKey(Visit, models.PROTECT, related_name="events", verbose_name=_("visit"))
    visitor = models.ForeignKey(
        Visitor, models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("visitor")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("visit event")
        verbose_name_plural = _("visit events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.visit_id} {self.at:%Y-%m-%d %H:%M}"


class Kiosk(models.Model):
    """A tablet at a site's reception where visitors check themselves in with the code from
    their invitation. Registered like a door display: known by a secret token in its URL,
    of which only the sha256 is stored; rotating or revoking it takes effect at once."""

    class Language(models.TextChoices):
        GERMAN = "de", _("German")
        ENGLISH = "en", _("English")

    site = models.ForeignKey(Site, models.PROTECT, related_name="kiosks", verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default="de")
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("self check-in kiosk")
        verbose_name_plural = _("self check-in kiosks")
        ordering = ["site__name", "name", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.site} #{self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
