"""Booking for someone else: who may book in whose name (an assistant for a manager)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Delegation(models.Model):
    """``delegate`` (or every member of ``group``, e.g. a directory group) may book for ``principal``.

    Named by the principal themselves or by an admin; revoking keeps the row on record.
    """

    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="delegations_given", verbose_name=_("for whom")
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="delegations_received",
        verbose_name=_("delegate"),
    )
    group = models.ForeignKey(
        Group, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("or every member of")
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegate")
        verbose_name_plural = _("delegates (who may book for whom)")
        constraints = [
            models.CheckConstraint(
                condition=Q(delegate__isnull=False, group__isnull=True)
                | Q(delegate__isnull=True, group__isnull=False),
                name="delegation_delegate_or_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegate or self.group} → {self.principal}"
