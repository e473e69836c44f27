"""Meetings in several rooms in the admin: read their rooms, each at its local time; cancel them whole.

Bookings change through the services (services.meetings), so nothing here edits a row.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_labels import local_time
from .errors import BookingError
from .models import Meeting, MeetingRoom
from .services.meetings import cancel_meeting


class MeetingRoomInline(admin.TabularInline):
    model = MeetingRoom
    extra = 0
    can_delete = False
    fields = ["booking", "room", "local_start", "status", "waits"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("booking__room__floor__building__site")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("room"))
    def room(self, obj: MeetingRoom) -> str:
        return obj.booking.room.place_label

    @admin.display(description=_("start (local time)"))
    def local_start(self, obj: MeetingRoom) -> str:
        return local_time(obj.booking.span.lower, obj.booking.room.floor.building.site)

    @admin.display(description=_("status"))
    def status(self, obj: MeetingRoom) -> str:
        return obj.booking.get_status_display()


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "organizer", "booked_by", "approval", "created_at", "cancelled_at"]
    list_filter = ["approval"]
    search_fields = ["title", "organizer__username", "rooms__booking__room__name"]
    list_select_related = ["organizer", "booked_by"]
    inlines = [MeetingRoomInline]
    actions = ["cancel_selected"]

    # Read-only: meetings are made, moved and cancelled through services.meetings.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Cancel the selected meetings in all their rooms"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        done = 0
        for meeting in queryset.filter(cancelled_at__isnull=True):
            try:
                cancel_meeting(meeting=meeting, actor=request.user)
            except BookingError as exc:
                self.message_user(request, f"{meeting}: {exc.message}", messages.ERROR)
                continue
            done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(n)d meeting cancelled.", "%(n)d meetings cancelled.", done) % {"n": done},
                messages.SUCCESS,
            )

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("bookings.change_booking")
