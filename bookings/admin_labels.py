"""How the admin names rooms where one is picked, and times (shared by the admin modules)."""

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from .models import Room, Site, zone_city


def local_time(value, site: Site) -> str:
    """A time in the room's own zone, as people there read it; the zone named if it is not the server's."""
    text = date_format(timezone.localtime(value, site.tz), "DATETIME_FORMAT")
    if site.time_zone != settings.TIME_ZONE:
        text += f" ({zone_city(site.time_zone)})"
    return text


class RoomLabelsMixin:
    """Room selects name each room by its place (Room.place_label): two "H0.01 Spree" in
    different buildings can no longer be confused. Works for model admins and inlines."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Room:
            field.queryset = field.queryset.select_related(Room.PLACE)
            field.label_from_instance = lambda room: room.place_label
        return field
