from django.contrib import admin

from .models import PrivacyEvent


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
