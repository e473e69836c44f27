from django.contrib import admin

from .models import DirectoryAccount, MailGroup, SyncState


@admin.register(DirectoryAccount)
class DirectoryAccountAdmin(admin.ModelAdmin):
    """Read-only: the directory is the source; change people there."""

    list_display = ["user", "external_id", "department", "roles", "synced_at", "left_at"]
    list_filter = ["left_at"]
    search_fields = ["user__username", "user__last_name", "external_id", "department"]
    readonly_fields = [f.name for f in DirectoryAccount._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at", "last_full_at", "mark"]
    readonly_fields = ["name", "mark", "last_run_at", "last_full_at", "last_result"]

    def has_add_permission(self, request):
        return False


@admin.register(MailGroup)
class MailGroupAdmin(admin.ModelAdmin):
    """Read-only: distribution lists and their member counts, as the last sync found them."""

    list_display = ["name", "email", "members", "synced_at"]
    search_fields = ["name", "email"]
    readonly_fields = [f.name for f in MailGroup._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
