"""Per room: the sync mode (the mailbox is the room's own field) and the sync's health."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .adapter import calendar
from .health import configured, ensure_rows, queued_by_room
from .models import EventLink, RoomSync
from .sync import sync_room


@admin.register(RoomSync)
class RoomSyncAdmin(admin.ModelAdmin):
    list_display = ["room", "mailbox", "mode", "health", "last_success_at", "lag", "queued", "last_error"]
    list_editable = ["mode"]
    list_filter = ["mode"]
    search_fields = ["room__name", "room__exchange_mailbox"]
    fields = ["room", "mode", "last_success_at", "last_full_at", "lag_seconds", "last_error", "last_repairs"]
    readonly_fields = ["room", "last_success_at", "last_full_at", "lag_seconds", "last_error", "last_repairs"]
    actions = ["full_reconcile"]

    def has_add_permission(self, request):
        return False  # a room with a mailbox gets its row by itself

    def changelist_view(self, request, extra_context=None):
        ensure_rows()
        self._queued = queued_by_room()
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Exchange mailbox"), ordering="room__exchange_mailbox")
    def mailbox(self, obj: RoomSync) -> str:
        return obj.room.exchange_mailbox or "–"

    @admin.display(description=_("status"))
    def health(self, obj: RoomSync) -> str:
        if not configured():
            return str(_("not configured (RFR_EXCHANGE_BACKEND=off)"))
        if obj.mode == RoomSync.Mode.OFF or not obj.room.exchange_mailbox:
            return str(_("off"))
        if obj.last_error:
            return str(_("error"))
        return str(_("healthy")) if obj.last_success_at else str(_("not yet synced"))

    @admin.display(description=_("lag"))
    def lag(self, obj: RoomSync) -> str:
        return "–" if obj.lag_seconds is None else f"{obj.lag_seconds:.1f} s"

    @admin.display(description=_("queued changes"))
    def queued(self, obj: RoomSync) -> int:
        return getattr(self, "_queued", {}).get(obj.room_id, 0)

    @admin.action(description=_("Full reconcile now"))
    def full_reconcile(self, request, queryset):
        cal = calendar()
        if cal is None:
            self.message_user(request, _("The Exchange sync is not configured."), messages.ERROR)
            return
        failed = []
        for state in queryset.select_related("room"):
            report = sync_room(cal, state.room, full=True)
            if report.error:
                failed.append(f"{state.room}: {report.error}")
        done = queryset.count() - len(failed)
        self.message_user(
            request, ngettext("%d room reconciled.", "%d rooms reconciled.", done) % done, messages.SUCCESS
        )
        for line in failed:
            self.message_user(request, line, messages.ERROR)


@admin.register(EventLink)
class EventLinkAdmin(admin.ModelAdmin):
    """Read-only: which booking is which Exchange event, and what failed."""

    list_display = ["booking", "room", "origin", "pushed_version", "failed_permanently", "last_error"]
    list_filter = ["origin", "failed_permanently"]
    readonly_fields = [f.name for f in EventLink._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
