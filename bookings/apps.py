from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Room booking")

    def ready(self):
        # A room given back may be the one the other rooms of its meeting wait for.
        from . import hooks
        from .services.meetings import on_room_cancelled

        hooks.on_cancel(on_room_cancelled)
