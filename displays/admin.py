"""Door displays in the admin: register, configure, rotate and revoke tokens."""

import secrets

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from . import services, tasks
from .models import Display
from .views import qr_svg


class DisplayForm(forms.ModelForm):
    pin = forms.CharField(
        label=_("new PIN"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("4 to 8 digits; leave empty to keep the current PIN."),
    )
    clear_pin = forms.BooleanField(label=_("remove the PIN"), required=False)
    push_url = forms.URLField(
        label=_("push URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Gets a signed POST with the new status when bookings change."),
    )

    class Meta:
        model = Display
        fields = ["room", "name", "language", "privacy", "allow_check_in", "allow_book_now", "push_url"]

    def clean_pin(self):
        pin = self.cleaned_data["pin"]
        if pin and not services.PIN_RE.fullmatch(pin):
            raise forms.ValidationError(_("A PIN has 4 to 8 digits."))
        return pin


@admin.register(Display)
class DisplayAdmin(admin.ModelAdmin):
    form = DisplayForm
    list_display = [
        "__str__",
        "room",
        "language",
        "privacy",
        "has_pin",
        "last_seen_at",
        "token_prefix",
        "state",
    ]
    list_filter = ["language", "privacy", "room__floor__building__site", "room__floor__building"]
    search_fields = ["name", "room__name", "token_prefix", "last_seen_address"]
    list_select_related = ["room"]
    readonly_fields = [
        "token_prefix",
        "push_secret",
        "service_user",
        "created_at",
        "revoked_at",
        "last_seen_at",
        "last_seen_address",
        "last_seen_user_agent",
        "last_seen_version",
        "last_push_at",
        "last_push_error",
    ]
    fieldsets = [
        (None, {"fields": ["room", "name", "language", "privacy"]}),
        (_("At the door"), {"fields": ["allow_check_in", "allow_book_now", "pin", "clear_pin"]}),
        (_("Push"), {"fields": ["push_url", "push_secret", "last_push_at", "last_push_error"]}),
        (
            _("Status"),
            {
                "fields": [
                    "token_prefix",
                    "service_user",
                    "created_at",
                    "revoked_at",
                    "last_seen_at",
                    "last_seen_address",
                    "last_seen_user_agent",
                    "last_seen_version",
                ]
            },
        ),
    ]
    actions = ["rotate_tokens", "revoke_selected", "rotate_push_secrets", "push_now"]

    @admin.display(description=_("PIN"), boolean=True)
    def has_pin(self, display):
        return display.has_pin

    @admin.display(description=_("state"))
    def state(self, display):
        return _("revoked") if display.is_revoked else _("active")

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        raw = None if change else services.assign_token(obj)
        if obj.push_url and not obj.push_secret:
            obj.push_secret = secrets.token_urlsafe(32)
        if form.cleaned_data.get("clear_pin"):
            obj.pin_hash = ""
        elif form.cleaned_data.get("pin"):
            services.set_pin(display=obj, pin=form.cleaned_data["pin"])
        super().save_model(request, obj, form, change)
        if change:
            services.settings_changed(display=obj)
        else:
            self._show_url(request, obj, raw)

    def _show_url(self, request, display, raw):
        url = services.display_url(raw)
        # Shown only now: a copy button for the URL and a QR code for a tablet's camera.
        html = render_to_string(
            "displays/url_once.html",
            {"display": display, "url": url, "qr": qr_svg(url), "copy_id": f"display-url-{display.pk}"},
            request=request,
        )
        self.message_user(request, html, messages.SUCCESS)

    @admin.action(
        description=_("Rotate the tokens (new URLs; old ones stop working)"), permissions=["change"]
    )
    def rotate_tokens(self, request, queryset):
        for display in queryset:
            self._show_url(request, display, services.rotate_token(display=display))

    @admin.action(description=_("Revoke the selected displays"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        for display in queryset:
            services.revoke_display(display=display)
        self.message_user(request, _("Displays revoked; their URLs answer 404 now."), messages.SUCCESS)

    @admin.action(description=_("Rotate the push secrets"), permissions=["change"])
    def rotate_push_secrets(self, request, queryset):
        for display in queryset.exclude(push_url=""):
            services.rotate_push_secret(display=display)
        self.message_user(
            request, _("New push secrets set; configure them on the displays."), messages.SUCCESS
        )

    @admin.action(description=_("Push the status now"), permissions=["change"])
    def push_now(self, request, queryset):
        ids = list(queryset.exclude(push_url="").filter(revoked_at__isnull=True).values_list("pk", flat=True))
        try:
            for display_id in ids:
                tasks.push_display_status.delay(display_id)
        except Exception:  # noqa: BLE001 - any broker failure; the admin says so instead of a 500
            self.message_user(
                request, _("The task queue cannot be reached; try again later."), messages.ERROR
            )
            return
        self.message_user(request, _("%(n)d pushes queued.") % {"n": len(ids)}, messages.SUCCESS)
