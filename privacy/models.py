"""The privacy audit log: exports of someone else's data, erasures, retention runs.

It names the person by their user row (emptied on erasure), never by what was erased.
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
