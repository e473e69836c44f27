"""How the admin names rooms where one is picked (shared by the admin modules)."""

from .models import Room


class RoomLabelsMixin:
    """Room selects name each room by its place (Room.place_label): two "H0.01 Spree" in
    different buildings can no longer be confused. Works for model admins and inlines."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Room:
            field.queryset = field.queryset.select_related(Room.PLACE)
            field.label_from_instance = lambda room: room.place_label
        return field
