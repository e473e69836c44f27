"""The audit logs' common shape: what happened (kind), who did it, when, and what changed.

Each app's log inherits it and adds what the entry is about (a booking, a visit, a
person) and its own kinds; each table is append-only by a trigger in its app's
migrations, so a log that was written cannot be rewritten, not even by this code.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    # Subclasses declare ``kind`` again with their own choices.
    kind = models.CharField(_("kind"), max_length=20)
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
        abstract = True
        ordering = ["-at", "-id"]
