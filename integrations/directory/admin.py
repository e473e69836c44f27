from django.contrib import admin

from .models import DirectoryAccount, SyncState


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
