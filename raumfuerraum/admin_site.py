"""The admin site: Django's, with autocompletes that label each choice as its admin does.

Installed through ``raumfuerraum.apps.AdminConfig`` (Django's documented way to replace
the default site), so every ``admin.site.register`` keeps working.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete answers with an object's ``place_label`` where it has one (rooms)."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(obj, "place_label", None)
        return result | {"text": label} if label else result


class AdminSite(admin.AdminSite):
    def autocomplete_view(self, request):
        return LabelledAutocompleteJsonView.as_view(admin_site=self)(request)
