"""Django admin: everything facility admins configure, bookings read-mostly, the log read-only."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_labels import RoomLabelsMixin, local_time
from .errors import BookingError
from .models import (
    ApiToken,
    Booking,
    BookingEvent,
    Building,
    CalendarFeed,
    Delegation,
    Equipment,
    Floor,
    OutboxMessage,
    Room,
    RoomPart,
    Series,
    Site,
    WaitingEntry,
)
from .selectors.noshows import no_show_count_of_organizer
from .services.feeds import revoke_feed
from .services.tokens import revoke_token


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    search_fields = ["name"]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "address"]
    list_filter = ["site"]
    search_fields = ["name", "address"]


@admin.register(Floor)
class FloorAdmin(admin.ModelAdmin):
    list_display = ["name", "building", "level"]
    list_filter = ["building__site", "building"]
    search_fields = ["name", "building__name"]
    list_select_related = ["building"]


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code"]
    search_fields = ["name", "name_en", "code"]
    prepopulated_fields = {"code": ["name_en"]}


class RoomPartFormSet(BaseInlineFormSet):
    """A combined room joins plain rooms; its parts stay as they are while it has bookings ahead."""

    def clean(self):
        super().clean()
        combined = self.instance
        kept = [
            f.cleaned_data["part"]
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("part")
        ]
        for part in kept:
            if part.pk == combined.pk:
                raise ValidationError(_("A room cannot be a part of itself."))
            if RoomPart.objects.filter(combined=part).exists():
                raise ValidationError(
                    _("%(room)s is itself a combined room; choose its parts instead.") % {"room": part.name}
                )
        if kept and combined.pk and RoomPart.objects.filter(part=combined).exists():
            raise ValidationError(_("This room is a part of a combined room and cannot have parts itself."))
        before = (
            set(RoomPart.objects.filter(combined=combined).values_list("part_id", flat=True))
            if combined.pk
            else set()
        )
        if (
            before != {p.pk for p in kept}
            and combined.pk
            and Booking.objects.filter(
                room=combined, status__in=Booking.ACTIVE, span__endswith__gt=timezone.now()
            ).exists()
        ):
            raise ValidationError(
                _(
                    "The parts cannot change while the combined room has bookings ahead; "
                    "cancel or move them first."
                )
            )


class RoomPartInline(RoomLabelsMixin, admin.TabularInline):
    model = RoomPart
    fk_name = "combined"
    formset = RoomPartFormSet
    autocomplete_fields = ["part"]
    extra = 0
    verbose_name = _("part")
    verbose_name_plural = _("parts (a combined room, e.g. a divisible hall: the rooms it joins)")


@admin.register(WaitingEntry)
class WaitingEntryAdmin(admin.ModelAdmin):
    """The waiting list, read-only: people join and leave it themselves; the services promote it."""

    list_display = ["room", "span", "person", "title", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["person__username", "room__name", "title"]
    list_select_related = ["room", "person"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    """Who may book in whose name: a person, or every member of a (directory) group."""

    list_display = ["principal", "delegate", "group", "granted_by", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["principal__username", "delegate__username", "group__name"]
    autocomplete_fields = ["principal", "delegate"]
    readonly_fields = ["granted_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    inlines = [RoomPartInline]

    def get_queryset(self, request):
        # The autocomplete of other admins reads rooms here and labels them by place.
        return super().get_queryset(request).select_related(Room.PLACE)

    list_display = ["name", "capacity", "floor", "building", "bookable"]
    list_filter = ["bookable", "floor__building__site", "floor__building", "equipment"]
    search_fields = [
        "name",
        "floor__name",
        "floor__building__name",
        "floor__building__site__name",
        "exchange_mailbox",
        "sap_id",
    ]
    list_select_related = ["floor__building"]
    filter_horizontal = ["equipment"]

    @admin.display(description=_("building"), ordering="floor__building__name")
    def building(self, room):
        return room.floor.building.name


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "changes"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-mostly: bookings change through the services, here only by the cancel action."""

    list_display = [
        "title",
        "room_place",
        "start",
        "end",
        "organizer",
        "organizer_no_shows",
        "status",
        "source",
    ]
    list_filter = ["status", "source", "room__floor__building__site", "room__floor__building"]
    search_fields = ["title", "organizer__username", "room__name", "room__floor__building__name"]
    list_select_related = ["room__floor__building__site", "organizer"]
    readonly_fields = [
        "room",
        "span",
        "title",
        "organizer",
        "attendees",
        "private",
        "status",
        "series",
        "source",
        "checked_in_at",
        "cancelled_at",
        "created_at",
        "updated_at",
        "version",
    ]
    inlines = [BookingEventInline]
    actions = ["cancel_selected"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("room"), ordering="room__name")
    def room_place(self, booking):
        return booking.room.place_label

    @admin.display(description=_("start"), ordering="span")
    def start(self, booking):
        return local_time(booking.span.lower, booking.room.floor.building.site)

    @admin.display(description=_("end"))
    def end(self, booking):
        return local_time(booking.span.upper, booking.room.floor.building.site)

    def get_queryset(self, request):
        no_shows = no_show_count_of_organizer()
        return super().get_queryset(request).annotate(organizer_no_shows=no_shows)

    @admin.display(description=_("No-shows"), ordering="organizer_no_shows")
    def organizer_no_shows(self, booking):
        """How many bookings of this organizer were released because nobody checked in."""
        return booking.organizer_no_shows

    @admin.action(description=_("Cancel selected bookings"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        """First a page listing the bookings (whose, when, where) and asking for a reason to
        the organizers; only its confirmation cancels, each through the service."""
        chosen = list(queryset.select_related("room__floor__building__site", "organizer").order_by("span"))
        reason = (request.POST.get("reason") or "").strip()
        if request.POST.get("confirmed") != "yes" or not reason or len(reason) > 500:
            return TemplateResponse(
                request,
                "bookings/admin/cancel_bookings.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Cancel bookings"),
                    "opts": self.model._meta,
                    "bookings": chosen,
                    "organizers": len({b.organizer_id for b in chosen}),
                    "reason": reason,
                    "reason_missing": request.POST.get("confirmed") == "yes",
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done = 0
        for booking in chosen:
            try:
                services.cancel_booking(booking=booking, actor=request.user, reason=reason)
                done += 1
            except BookingError as exc:
                self.message_user(request, f"{booking}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d bookings cancelled.") % {"n": done}, messages.SUCCESS)
        return None


@admin.register(Series)
class SeriesAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "room", "rrule", "organizer", "created_at"]
    search_fields = ["title", "organizer__username"]
    list_select_related = ["room", "organizer"]


@admin.register(BookingEvent)
class BookingEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "kind", "booking", "actor"]
    list_filter = ["kind"]
    search_fields = ["booking__title", "actor__username"]
    list_select_related = ["booking__room", "actor"]
    date_hierarchy = "at"


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "topic", "channel", "created_at", "attempts", "delivered_at", "given_up_at"]
    list_filter = ["channel", "topic"]
    search_fields = ["last_error"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with ``manage.py issue_token``; here they are listed and revoked."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        for token in queryset:
            revoke_token(token=token)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Feeds are created by their owners on /calendar/; here they are listed and revoked."""

    list_display = ["prefix", "user", "room", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "prefix", "room__name"]
    list_select_related = ["user", "room"]
    fields = ["user", "room", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    @admin.action(description=_("Revoke selected calendar feeds"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        for feed in queryset:
            revoke_feed(feed=feed, actor=request.user)
        self.message_user(request, _("Calendar feeds revoked."), messages.SUCCESS)

    def has_revoke_permission(self, request):
        return request.user.has_perm("bookings.change_calendarfeed")


from . import policy_admin  # noqa: E402,F401  (registers the policy and blocking admins)
