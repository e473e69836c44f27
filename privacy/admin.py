from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import PrivacyEvent, RetentionRule
from .retention import apply_retention


@admin.register(PrivacyEvent)
class PrivacyEventAdmin(admin.ModelAdmin):
    """The privacy audit log, read-only: the database refuses changes anyway."""

    list_display = ("at", "kind", "subject", "actor")
    list_filter = ("kind",)
    date_hierarchy = "at"
    readonly_fields = ("at", "kind", "subject", "actor", "changes")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """One row per kind of data: how long it is kept, the last run; a dry run from the list."""

    list_display = ("kind", "days", "enabled", "last_run_at", "last_result")
    list_editable = ("days", "enabled")
    readonly_fields = ("kind", "last_run_at", "last_result")
    actions = ("dry_run", "run_now")

    def has_add_permission(self, request) -> bool:
        return False  # the three kinds exist from the migration on

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _report(self, request, run) -> None:
        if not run.done:
            self.message_user(request, _("No retention rule is switched on."), messages.WARNING)
        for kind, done in run.done.items():
            label = RetentionRule.Kind(kind).label
            figures = ", ".join(f"{key}: {value}" for key, value in done.items())
            text = _("Would do – %(kind)s: %(figures)s") if run.dry_run else _("Done – %(kind)s: %(figures)s")
            self.message_user(request, text % {"kind": label, "figures": figures})

    @admin.action(description=_("Dry run: show what the switched-on rules would do now"))
    def dry_run(self, request, queryset):
        self._report(request, apply_retention(now=timezone.now(), dry_run=True))

    @admin.action(description=_("Apply the switched-on rules now"))
    def run_now(self, request, queryset):
        self._report(request, apply_retention(now=timezone.now()))
