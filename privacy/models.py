"""Retention rules an admin sets per kind of data, and the privacy audit log (exports of
someone else's data, erasures, retention runs). The log names a person by their user row
(emptied on erasure), never by what was erased.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bookings.models import AuditEvent


class PrivacyEvent(AuditEvent):
    """Append-only (a trigger, migration 0001): who exported or erased whose data, and when."""

    class Kind(models.TextChoices):
        EXPORTED = "exported", _("data exported")
        ERASED = "erased", _("person erased")
        RETENTION = "retention", _("retention run")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )

    class Meta(AuditEvent.Meta):
        verbose_name = _("privacy event")
        verbose_name_plural = _("privacy events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_id} {self.at:%Y-%m-%d %H:%M}"


class RetentionRule(models.Model):
    """How long one kind of data is kept; the hourly job (privacy.tasks) applies every rule."""

    class Kind(models.TextChoices):
        VISITORS = "visitors", _("Visitors' personal data (days after the visit)")
        LEAVERS = "leavers", _("Bookings of people who left (days after the booking ended)")
        AUDIT = "audit", _("Details in the booking audit log (days after the entry)")

    kind = models.CharField(_("kind of data"), max_length=20, choices=Kind.choices, unique=True)
    days = models.PositiveIntegerField(
        _("kept for (days)"),
        help_text=_(
            "Counted as elapsed time (24 hours a day) from the end of the visit or booking, or from "
            "the audit entry. For years, multiply by 365: ten years are 3650 days."
        ),
    )
    enabled = models.BooleanField(_("applied"), default=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True, editable=False)
    last_result = models.JSONField(_("last result"), default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())
