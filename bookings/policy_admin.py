"""Admin for the rules: policies per site, building or room, and blockings."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .admin import RoomLabelsMixin
from .models import Blocking, Policy, PolicyHours
from .services.blockings import announce_blocking, lift_blocking


class PolicyHoursInline(admin.TabularInline):
    model = PolicyHours
    extra = 0


@admin.register(Policy)
class PolicyAdmin(RoomLabelsMixin, admin.ModelAdmin):
    """Empty fields inherit from the wider place: room → building → site."""

    list_display = [
        "__str__",
        "requires_approval",
        "requires_check_in",
        "max_advance_days",
        "max_duration_minutes",
    ]
    list_select_related = ["site", "building__site", "room__floor__building"]
    autocomplete_fields = ["room"]
    filter_horizontal = ["bookers", "overriders", "managers"]
    inlines = [PolicyHoursInline]
    fieldsets = [
        (_("Applies to (exactly one)"), {"fields": ["site", "building", "room"]}),
        (
            _("Time limits"),
            {
                "fields": [
                    "min_notice_minutes",
                    "max_advance_days",
                    "max_duration_minutes",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                    "cancel_cutoff_minutes",
                ]
            },
        ),
        (
            _("Approval and check-in"),
            {
                "fields": [
                    "requires_approval",
                    "approval_timeout_hours",
                    "requires_check_in",
                    "check_in_grace_minutes",
                    "series_allowed",
                ]
            },
        ),
        (
            _("Quotas per person"),
            {
                "fields": [
                    "max_bookings_per_day",
                    "max_bookings_per_week",
                    "max_hours_per_day",
                    "max_hours_per_week",
                ]
            },
        ),
        (_("Who"), {"fields": ["bookers", "overriders", "managers"]}),
    ]


@admin.register(Blocking)
class BlockingAdmin(RoomLabelsMixin, admin.ModelAdmin):
    """Blockings are lifted, not deleted; owners of affected bookings are told when one is saved."""

    list_display = ["reason", "place_name", "start", "end", "created_by", "cancelled_at"]
    list_filter = ["cancelled_at", "site", "building"]
    search_fields = ["reason", "room__name", "building__name", "site__name"]
    list_select_related = ["site", "building", "room", "created_by"]
    autocomplete_fields = ["room"]
    filter_horizontal = ["allowed_groups"]
    fields = ["site", "building", "room", "span", "reason", "allowed_groups", "created_by", "cancelled_at"]
    readonly_fields = ["created_by", "cancelled_at"]
    actions = ["lift_selected"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("place"))
    def place_name(self, blocking):
        return str(blocking.place)

    @admin.display(description=_("start"), ordering="span")
    def start(self, blocking):
        return blocking.span.lower

    @admin.display(description=_("end"))
    def end(self, blocking):
        return blocking.span.upper

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.save()
        if not change or "span" in form.changed_data or {"site", "building", "room"} & set(form.changed_data):
            told = announce_blocking(obj)
            if told:
                self.message_user(
                    request,
                    _("The owners of %(n)d affected bookings are being told.") % {"n": len(told)},
                    messages.WARNING,
                )

    @admin.action(description=_("Lift selected blockings"), permissions=["change"])
    def lift_selected(self, request, queryset):
        for blocking in queryset:
            lift_blocking(blocking=blocking)
        self.message_user(request, _("Blockings lifted."), messages.SUCCESS)
