"""Admin for the rules: policies per site, building or room, and blockings."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .admin_labels import RoomLabelsMixin, local_time
from .models import Blocking, Building, Policy, PolicyHours, Site, zone_city
from .rules.resolve import LIMITS
from .selectors.rule_impact import broken_by
from .services.blockings import (
    affected_bookings,
    announce_blocking,
    cancel_bookings,
    cancel_for_blocking,
    lift_blocking,
)


class PolicyHoursInline(admin.TabularInline):
    model = PolicyHours
    extra = 0


# The hours as the change form posts them (the inline's prefix "hours"), so that the preview
# of a rule change sees changed bookable hours too, before the admin's own formset saves them.
PostedHours = forms.inlineformset_factory(Policy, PolicyHours, fields=["weekday", "opens", "closes"], extra=0)


def posted_hours(form: forms.ModelForm) -> list[tuple[int, object, object]] | None:
    """The policy's bookable hours as posted with ``form``, or None where the post leaves
    them as stored (unchanged, or invalid: the inline then shows its own errors)."""
    hours = PostedHours(form.data, instance=form.instance, prefix="hours")
    if not hours.is_bound or not hours.is_valid() or not hours.has_changed():
        return None
    deleted = set(map(id, hours.deleted_forms))
    return [
        (row.cleaned_data["weekday"], row.cleaned_data["opens"], row.cleaned_data["closes"])
        for row in hours.forms
        if id(row) not in deleted and row.cleaned_data.get("weekday")
    ]


def wider_policies(policy: Policy) -> list[tuple[str, Policy]]:
    """The policies a place's empty fields inherit from, nearest first, each with the
    wider place's kind ("Gebäude", "Standort"): a room's building and site, a building's site."""
    if policy.room_id:
        building = policy.room.floor.building
        chain = [
            (capfirst(_("building")), Q(building_id=building.pk)),
            (capfirst(_("site")), Q(site_id=building.site_id)),
        ]
    elif policy.building_id:
        chain = [(capfirst(_("site")), Q(site_id=policy.building.site_id))]
    else:
        return []
    found = []
    for kind, where in chain:
        wider = Policy.objects.filter(where).prefetch_related("hours").first()
        if wider is not None:
            found.append((kind, wider))
    return found


def shown_value(value) -> str:
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    return str(value)


def inherited_text(name: str, wider: list[tuple[str, Policy]]) -> str:
    """What an empty field inherits: "erbt (Gebäude: 60)", or that no wider place sets it."""
    for kind, policy in wider:
        value = getattr(policy, name)
        if value is not None:
            return gettext("inherits (%(place)s: %(value)s)") % {"place": kind, "value": shown_value(value)}
    return gettext("inherits: set nowhere (no limit)")


def inherited_hours(wider: list[tuple[str, Policy]]) -> str:
    """The bookable hours an empty list inherits: "erbt (Gebäude: Montag 08:00–18:00, …)"."""
    for kind, policy in wider:
        stretches = list(policy.hours.all())
        if stretches:
            listed = ", ".join(str(h) for h in stretches)
            return gettext("inherits (%(place)s: %(value)s)") % {"place": kind, "value": listed}
    return gettext("inherits: set nowhere (always bookable)")


class PolicyForm(forms.ModelForm):
    """A rule change that existing bookings would break is saved only after the admin has seen
    them listed and chosen: keep them (as booked), or cancel them with a message to each organizer."""

    KEEP, CANCEL = "keep", "cancel"
    affected = forms.ChoiceField(
        label=_("Bookings that break the new rules"),
        choices=[
            (KEEP, _("Keep them as they are booked")),
            (CANCEL, _("Cancel them; each organizer gets your message")),
        ],
        initial=KEEP,
        widget=forms.RadioSelect,
        required=False,
    )
    message = forms.CharField(
        label=_("Message to the organizers"),
        help_text=_("Required when you cancel: it is the reason in their cancellation mail."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        required=False,
    )
    confirmed = forms.BooleanField(label=_("I have checked the bookings listed above"), required=False)

    class Meta:
        model = Policy
        fields = ["site", "building", "room"]  # the admin adds the fields of its fieldsets

    def _post_clean(self):
        super()._post_clean()  # the instance now carries the changed values
        self.impact: list = []
        if self.errors:
            return
        m2m = {
            name: self.cleaned_data[name]
            for name in ("bookers", "overriders", "managers")
            if name in self.cleaned_data
        }
        self.impact = broken_by(self.instance, m2m=m2m, hours=posted_hours(self), now=timezone.now())
        if not self.impact:
            return
        if not self.cleaned_data.get("confirmed"):
            self.add_error(
                None,
                ngettext(
                    "With these rules %(n)d upcoming booking, listed above, would be refused. Choose "
                    "what happens to it and confirm that you have checked it.",
                    "With these rules %(n)d upcoming bookings, listed above, would be refused. Choose "
                    "what happens to them and confirm that you have checked them.",
                    len(self.impact),
                )
                % {"n": len(self.impact)},
            )
        elif (
            self.cleaned_data.get("affected") == self.CANCEL
            and not (self.cleaned_data.get("message") or "").strip()
        ):
            self.add_error("message", _("Please write the organizers why their bookings are cancelled."))


@admin.register(Policy)
class PolicyAdmin(RoomLabelsMixin, admin.ModelAdmin):
    """Empty fields inherit from the wider place: room → building → site."""

    form = PolicyForm
    change_form_template = "bookings/admin/policy_change_form.html"

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
                    "waiting_offer_minutes",
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
        (_("Bookings that break the new rules"), {"fields": ["affected", "message", "confirmed"]}),
    ]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.impact and form.cleaned_data.get("affected") == PolicyForm.CANCEL:
            done = cancel_bookings(
                ids=[b.booking.pk for b in form.impact],
                actor=request.user,
                message=form.cleaned_data["message"],
            )
            self.message_user(
                request,
                ngettext(
                    "%(n)d booking was cancelled; its organizer gets your message.",
                    "%(n)d bookings were cancelled; their organizers get your message.",
                    done,
                )
                % {"n": done},
                messages.WARNING,
            )

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Each empty rule field says what it inherits and from where, instead of "Unbekannt"."""
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            return form
        wider = wider_policies(obj)
        request.rfr_inherited_hours = inherited_hours(wider) if not obj.hours.exists() else None
        for name in LIMITS:
            field = form.base_fields.get(name)
            if field is None or getattr(obj, name) is not None:
                continue
            said = inherited_text(name, wider)
            widget = field.widget
            if isinstance(widget, forms.NullBooleanSelect):
                widget.choices = [("unknown", said), ("true", gettext("Yes")), ("false", gettext("No"))]
            else:
                widget.attrs["placeholder"] = said
                field.help_text = said
        return form

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        said = getattr(request, "rfr_inherited_hours", None)
        for inline in inlines:
            if isinstance(inline, PolicyHoursInline) and said:
                inline.verbose_name_plural = f"{PolicyHours._meta.verbose_name_plural} – {said}"
        return inlines


class BlockingForm(forms.ModelForm):
    """A blocking that meets bookings is saved only after the admin has seen them listed
    and said what happens to them: kept (their owners are told and decide) or cancelled
    with a message to each organizer."""

    KEEP, CANCEL = "keep", "cancel"
    affected = forms.ChoiceField(
        label=_("Bookings in this time"),
        choices=[
            (KEEP, _("Keep them; their organizers are told and decide")),
            (CANCEL, _("Cancel them; each organizer gets your message")),
        ],
        initial=KEEP,
        widget=forms.RadioSelect,
        required=False,
    )
    message = forms.CharField(
        label=_("Message to the organizers"),
        help_text=_("Required when you cancel: it is the reason in their cancellation mail."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        required=False,
    )
    confirmed = forms.BooleanField(
        label=_("I have checked the bookings listed above"),
        required=False,
    )

    class Meta:
        model = Blocking
        fields = ["site", "building", "room", "span", "reason", "allowed_groups"]

    def clean(self):
        cleaned = super().clean()
        self.impact: list = []
        self.impact_count = 0
        place = [f for f in ("site", "building", "room") if cleaned.get(f)]
        span = cleaned.get("span")
        if len(place) != 1 or not span or self.errors:
            return cleaned  # the model's own checks say what is wrong
        probe = Blocking(span=span, **{place[0]: cleaned[place[0]]})
        affected = affected_bookings(probe).filter(span__endswith__gt=timezone.now())
        # The first 200 are listed; the count is of all.
        self.impact = list(affected.select_related("room__floor__building__site", "organizer")[:200])
        self.impact_count = affected.count() if len(self.impact) == 200 else len(self.impact)
        if not self.impact:
            return cleaned
        if not cleaned.get("confirmed"):
            raise forms.ValidationError(
                ngettext(
                    "This blocking meets %(n)d active booking, listed above. Choose what happens "
                    "to it and confirm that you have checked it.",
                    "This blocking meets %(n)d active bookings, listed above. Choose what happens "
                    "to them and confirm that you have checked them.",
                    self.impact_count,
                )
                % {"n": self.impact_count}
            )
        if cleaned.get("affected") == self.CANCEL and not (cleaned.get("message") or "").strip():
            self.add_error("message", _("Please write the organizers why their bookings are cancelled."))
        return cleaned


def site_of(*, site: str | None = None, building: str | None = None, room: str | None = None) -> Site | None:
    """The site of the place given by id (as posted), or None when none is given or found."""
    ids = {
        name: int(value)
        for name, value in (("site", site), ("building", building), ("room", room))
        if value and str(value).isdigit()
    }
    if "room" in ids:
        return Site.objects.filter(buildings__floors__rooms__pk=ids["room"]).first()
    if "building" in ids:
        return Site.objects.filter(buildings__pk=ids["building"]).first()
    if "site" in ids:
        return Site.objects.filter(pk=ids["site"]).first()
    return None


class PlaceZoneMixin:
    """Span inputs in the place's own zone: a New York building's blocking is typed and shown
    in New York time, and the field says which zone it is (the chosen place's, else the server's)."""

    def place_site(self, request, object_id) -> Site | None:
        if request.method == "POST":
            return site_of(**{name: request.POST.get(name) for name in ("site", "building", "room")})
        if object_id and str(object_id).isdigit():
            obj = self.model.objects.filter(pk=object_id).first()
            if obj is not None:
                place = obj.place
                return (
                    place if isinstance(place, Site) else site_of(**{obj.place_key[0]: str(obj.place_key[1])})
                )
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        site = self.place_site(request, object_id)
        zone = site.tz if site is not None else timezone.get_current_timezone()
        request.rfr_zone = zone
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # Rendered here, while the place's zone is active (a TemplateResponse renders late).
            if hasattr(response, "render"):
                response.render()
        return response

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        zone = getattr(request, "rfr_zone", None)
        if zone is not None and "span" in form.base_fields:
            form.base_fields["span"].help_text = _(
                "Local time in %(city)s (%(zone)s): the zone of the place chosen above."
            ) % {"city": zone_city(zone), "zone": zone}
        return form


@admin.register(Blocking)
class BlockingAdmin(PlaceZoneMixin, RoomLabelsMixin, admin.ModelAdmin):
    """Blockings are lifted, not deleted; owners of affected bookings are told when one is saved."""

    list_display = ["reason", "place_name", "start", "end", "created_by", "cancelled_at"]
    list_filter = ["cancelled_at", "site", "building"]
    search_fields = ["reason", "room__name", "building__name", "site__name"]
    list_select_related = ["site", "building", "room", "created_by"]
    autocomplete_fields = ["room"]
    filter_horizontal = ["allowed_groups"]
    form = BlockingForm
    change_form_template = "bookings/admin/blocking_change_form.html"
    fields = ["site", "building", "room", "span", "reason", "allowed_groups", "created_by", "cancelled_at"]
    readonly_fields = ["created_by", "cancelled_at"]
    actions = ["lift_selected"]

    def get_fields(self, request, obj=None):
        # The decision about affected bookings is asked once there are some (see BlockingForm).
        return [*super().get_fields(request, obj), "affected", "message", "confirmed"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("place"))
    def place_name(self, blocking):
        return str(blocking.place)

    @admin.display(description=_("start"), ordering="span")
    def start(self, blocking):
        return local_time(blocking.span.lower, self.site_of(blocking))

    @admin.display(description=_("end"))
    def end(self, blocking):
        return local_time(blocking.span.upper, self.site_of(blocking))

    @staticmethod
    def site_of(blocking: Blocking) -> Site:
        # The list selects site, building and room; a room's site costs a query, so it is cached.
        place = blocking.place
        if isinstance(place, Site):
            return place
        return place.site if isinstance(place, Building) else place.floor.building.site

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.save()
        if form.impact and form.cleaned_data.get("affected") == BlockingForm.CANCEL:
            cancelled = cancel_for_blocking(
                blocking=obj, actor=request.user, message=form.cleaned_data["message"]
            )
            self.message_user(
                request,
                ngettext(
                    "%(n)d booking was cancelled; its organizer gets your message.",
                    "%(n)d bookings were cancelled; their organizers get your message.",
                    cancelled,
                )
                % {"n": cancelled},
                messages.WARNING,
            )
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
