"""Admin: reception desks per site (group, parking, directions); visits read-only with their log."""

from __future__ import annotations

from django.contrib import admin

from .models import Reception, Visit, VisitEvent, Visitor


@admin.register(Reception)
class ReceptionAdmin(admin.ModelAdmin):
    list_display = ("site", "group", "offers_parking")


class VisitorInline(admin.TabularInline):
    model = Visitor
    extra = 0
    fields = ("name", "company", "status", "arrived_at", "left_at", "walk_in")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    # Visits change through the services (mail, audit log); the admin only shows them.
    list_display = ("start", "building", "host", "booking", "cancelled_at")
    list_filter = ("building__site",)
    date_hierarchy = "start"
    inlines = [VisitorInline]
    readonly_fields = ("host", "booking", "building", "start", "end", "cancelled_at", "version")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(VisitEvent)
class VisitEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "visit", "visitor_id", "actor")
    list_filter = ("kind",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
