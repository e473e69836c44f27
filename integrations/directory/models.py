"""What the app keeps of the directory: who came from it, and where the sync left off."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class DirectoryAccount(models.Model):
    """Marks a user as coming from the directory; local accounts have none.

    ``external_id`` (objectGUID, entryUUID) survives renames, so sign-in and sync find
    the same user whatever the login name is today. A leaver keeps the row and the user
    (inactive), so their bookings and audit trail stay.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="directory_account", verbose_name=_("user")
    )
    external_id = models.CharField(_("directory id"), max_length=64, unique=True)
    department = models.CharField(_("department"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    roles = ArrayField(models.CharField(max_length=30), default=list, blank=True, verbose_name=_("roles"))
    synced_at = models.DateTimeField(_("last synchronized"))
    left_at = models.DateTimeField(_("left the directory"), null=True, blank=True)

    class Meta:
        verbose_name = _("directory account")
        verbose_name_plural = _("directory accounts")

    def __str__(self) -> str:
        return f"{self.user} ({self.external_id})"


class MailGroup(models.Model):
    """A directory group with a mail address (a distribution list) and its member count.

    Written by every sync run, so a booking's meeting size is known where an attendee is
    such a list (reports/utilisation.py reads it by address). A mirror, not a record: a
    group gone from the directory goes from here.
    """

    external_id = models.CharField(_("directory id"), max_length=64, unique=True)
    email = models.CharField(_("mail address"), max_length=254, db_index=True)  # lower case
    name = models.CharField(_("name"), max_length=200, blank=True)
    members = models.PositiveIntegerField(_("members"))
    synced_at = models.DateTimeField(_("last synchronized"))

    class Meta:
        verbose_name = _("distribution list")
        verbose_name_plural = _("distribution lists")

    def __str__(self) -> str:
        return f"{self.name or self.email} ({self.members})"


class SyncState(models.Model):
    """The sync's high-water mark: an incremental run reads only what changed after it."""

    name = models.CharField(max_length=50, unique=True, default="default")
    mark = models.CharField(_("high-water mark"), max_length=300, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_full_at = models.DateTimeField(_("last full run"), null=True, blank=True)
    last_result = models.JSONField(_("last result"), default=dict, blank=True)
    # Held while a sync runs (sync.py): a lease in a row, not a session's advisory lock,
    # so that it holds through PgBouncer's transaction pooling too.
    running_until = models.DateTimeField(_("running until"), null=True, blank=True)

    class Meta:
        verbose_name = _("directory sync state")
        verbose_name_plural = _("directory sync state")

    def __str__(self) -> str:
        return self.name
