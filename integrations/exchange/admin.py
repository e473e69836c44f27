"""Per room: the sync mode (the mailbox is the room's own field) and the sync's health."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings.models import Floor

from ..base import IntegrationError
from . import rooms as room_import
from .adapter import calendar
from .health import configured, ensure_rows, queued_by_room
from .models import EventLink, RoomSync
from .sync import sync_room


class ImportForm(forms.Form):
    floor = forms.ModelChoiceField(
        Floor.objects.select_related("building"),
        required=False,
        label=_("Floor for new rooms"),
        help_text=_("Without a floor, only rooms we already have are updated."),
    )


def backend_label() -> str:
    conf = getattr(settings, "RFR_EXCHANGE", None)
    if conf is None:
        return "–"  # the status column says it is not configured
    if conf.backend == "ews":
        return str(_("Exchange Server (EWS) at %s") % conf.ews_url)
    return str(_("Exchange Online (Microsoft Graph)"))


@admin.register(RoomSync)
class RoomSyncAdmin(admin.ModelAdmin):
    list_display = [
        "room",
        "mailbox",
        "mode",
        "backend",
        "health",
        "last_success_at",
        "lag",
        "queued",
        "last_error",
    ]
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

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_rooms)
        return [path("import-rooms/", view, name="exchange_import_rooms"), *super().get_urls()]

    def import_rooms(self, request):
        """The preview of an import from Exchange (GET) and the import itself (POST)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        cal = calendar()
        if cal is None:
            self.message_user(request, _("The Exchange sync is not configured."), messages.ERROR)
            return redirect("admin:exchange_roomsync_changelist")
        form = ImportForm(request.POST if request.method == "POST" else request.GET or None)
        floor = form.cleaned_data["floor"] if form.is_valid() else None
        steps, error = [], ""
        try:
            remote = cal.rooms()
        except IntegrationError as exc:
            remote, error = [], str(exc)
        if request.method == "POST" and not error and form.is_valid():
            if not (
                request.user.has_perm("bookings.add_room") and request.user.has_perm("bookings.change_room")
            ):
                raise PermissionDenied
            steps = room_import.apply(remote, floor=floor)
            self._log(request, steps)
            for action in ("create", "update"):
                done = [s for s in steps if s.action == action]
                if done:
                    self.message_user(
                        request,
                        "; ".join(room_import.describe(s) for s in done),
                        messages.SUCCESS,
                    )
            if not any(s.action in ("create", "update") for s in steps):
                self.message_user(request, _("Nothing to import: our rooms match Exchange."), messages.INFO)
            return redirect("admin:exchange_roomsync_changelist")
        if not error and (form.is_valid() or not form.is_bound):
            steps = room_import.plan(remote, floor=floor)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import rooms from Exchange"),
            "form": form,
            "steps": steps,
            "error": error,
            "backend": backend_label(),
            "writes": any(s.action in ("create", "update") for s in steps),
        }
        return TemplateResponse(request, "admin/exchange/roomsync/import_rooms.html", context)

    def _log(self, request, steps) -> None:
        """Each created or changed room in the admin's own history of the room."""
        for step in steps:
            if step.action in ("create", "update"):
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=[step.room],
                    action_flag=ADDITION if step.action == "create" else CHANGE,
                    change_message=room_import.describe(step),
                    single_object=True,
                )

    @admin.display(description=_("back end"))
    def backend(self, obj: RoomSync) -> str:
        return backend_label()

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
