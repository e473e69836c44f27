"""Admin: reception desks per site (group, parking, directions); visits read-only with their log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from bookings.admin_labels import local_time

from . import kiosk
from .models import Kiosk, Reception, Visit, VisitEvent, Visitor


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
    list_display = ("local_start", "building", "host", "booking", "cancelled_at")
    list_filter = ("building__site",)
    list_select_related = ("building__site", "host", "booking")
    date_hierarchy = "start"
    inlines = [VisitorInline]
    fields = ("host", "booking", "building", "local_start", "local_end", "cancelled_at", "version")
    readonly_fields = fields

    # Times as the building reads them, its zone named where it is not the server's.
    @admin.display(description=_("start"), ordering="start")
    def local_start(self, visit: Visit) -> str:
        return local_time(visit.start, visit.building.site)

    @admin.display(description=_("end"), ordering="end")
    def local_end(self, visit: Visit) -> str:
        return local_time(visit.end, visit.building.site)

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


@admin.register(Kiosk)
class KioskAdmin(admin.ModelAdmin):
    """Self check-in tablets, registered, rotated and revoked like door displays."""

    list_display = ("__str__", "site", "language", "token_prefix", "state", "created_at")
    list_filter = ("site",)
    fields = ("site", "name", "language")
    actions = ["rotate_tokens", "revoke_selected"]

    @admin.display(description=_("state"))
    def state(self, kiosk):
        return _("revoked") if kiosk.is_revoked else _("active")

    def save_model(self, request, obj, form, change):
        raw = None if change else kiosk.assign_token(obj)
        super().save_model(request, obj, form, change)
        if raw:
            self._show_url(request, obj, raw)

    def _show_url(self, request, obj, raw):
        # Shown only now: the token is stored as its hash.
        html = render_to_string(
            "visitors/kiosk_url_once.html",
            {"kiosk": obj, "url": kiosk.kiosk_url(raw), "copy_id": f"kiosk-url-{obj.pk}"},
            request=request,
        )
        self.message_user(request, html, messages.SUCCESS)

    @admin.action(
        description=_("Rotate the tokens (new URLs; old ones stop working)"), permissions=["change"]
    )
    def rotate_tokens(self, request, queryset):
        for obj in queryset:
            self._show_url(request, obj, kiosk.rotate_token(kiosk=obj))

    @admin.action(description=_("Revoke the selected kiosks"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        for obj in queryset:
            kiosk.revoke_kiosk(kiosk=obj)
        self.message_user(request, _("Kiosks revoked; their URLs answer 404 now."), messages.SUCCESS)
